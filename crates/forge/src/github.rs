//! The GitHub forge: the REST API for issues, comments, labels and pull requests, and pushes authenticated by a
//! header given to the one `git push` process, so the token is never written to a remote URL or `.git/config`.
//!
//! Failures are sorted for the queue: 401 and 404 and a 403 that is not a rate limit are permanent and say what to
//! fix (for a 403, the permission GitHub says is missing); rate limits wait for `Retry-After` or the reset time when
//! that is short and are retryable otherwise; 5xx and network errors are retried here with backoff, then retryable.

use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use codingworker_store::{PullRequestRecord, Store};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use crate::{Forge, ForgeError, IssueReport, IssueStage, PullRequestDraft, PushTarget, TaskCheck};

/// Hidden in the progress comment so the next report edits it instead of adding another.
const PROGRESS_MARKER: &str = "<!-- codingworker:progress -->";

/// Waits up to this long in-process for a rate limit to reset; longer waits go back to the queue.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct GitHubOptions {
    /// `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server.
    pub api_url: String,
    /// Where branches are pushed: `https://github.com` or the Enterprise host.
    pub web_url: String,
    pub token: SecretString,
    /// The label that asks for work; a task whose issue no longer carries it does not run.
    pub trigger_label: String,
    /// Open pull requests as drafts even when the tests pass.
    pub draft_pull_requests: bool,
    pub status_labels: StatusLabels,
    pub request_timeout: Duration,
    /// Tries for a request that fails with 5xx or a network error.
    pub max_tries: usize,
    pub retry_base_delay: Duration,
}

pub struct GitHubForge {
    http: reqwest::Client,
    options: GitHubOptions,
    /// The local record of each pull request, so `codingworker show` and the dashboard see GitHub's too.
    store: Arc<Store>,
}

#[derive(Debug, Deserialize)]
struct Issue {
    state: String,
    #[serde(default)]
    labels: Vec<Label>,
    #[serde(default)]
    pull_request: Option<serde_json::Value>,
}

/// The labels that say where the work on an issue stands; exactly one is on the issue at a time.
#[derive(Debug, Clone)]
pub struct StatusLabels {
    pub working: String,
    pub done: String,
    pub failed: String,
}

impl Default for StatusLabels {
    fn default() -> Self {
        Self {
            working: "codingworker:in-progress".into(),
            done: "codingworker:done".into(),
            failed: "codingworker:failed".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Comment {
    id: u64,
    #[serde(default)]
    body: Option<String>,
}

/// A label name as one URL path segment.
fn path_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[derive(Debug, Deserialize)]
struct Label {
    name: String,
}

#[derive(Debug, Deserialize)]
struct PullRequest {
    number: u64,
    html_url: String,
}

/// One failed HTTP exchange, before it is sorted into a `ForgeError`.
struct Failure {
    status: StatusCode,
    retry_after: Option<Duration>,
    missing_permission: Option<String>,
    message: String,
}

impl GitHubForge {
    pub fn new(options: GitHubOptions, store: Arc<Store>) -> Result<Self, ForgeError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("codingworker/", env!("CARGO_PKG_VERSION")))
            .timeout(options.request_timeout)
            .build()
            .map_err(|e| ForgeError::Rejected(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { http, options, store })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.options.api_url.trim_end_matches('/'))
    }

    /// Sends one request with backoff on 5xx and network errors and a short in-process wait on rate limits.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, ForgeError> {
        let attempt = || async {
            let mut request = self
                .http
                .request(method.clone(), self.url(path))
                .bearer_auth(self.options.token.expose_secret())
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28");
            if let Some(body) = &body {
                request = request.json(body);
            }
            let response = request.send().await.map_err(|e| Attempt::Transient(format!("{method} {path}: {e}")))?;
            let status = response.status();
            if status.is_success() {
                let text = response.text().await.map_err(|e| Attempt::Transient(format!("{method} {path}: {e}")))?;
                return Ok(if text.trim().is_empty() {
                    serde_json::Value::Null
                } else {
                    serde_json::from_str(&text).map_err(|e| {
                        Attempt::Final(ForgeError::Rejected(format!(
                            "{method} {path}: GitHub answered {status} with a body that is not JSON: {e}"
                        )))
                    })?
                });
            }
            let failure = failure_of(response).await;
            if failure.status.is_server_error() {
                return Err(Attempt::Transient(format!(
                    "{method} {path}: GitHub answered {}: {}",
                    failure.status, failure.message
                )));
            }
            if let Some(wait) = failure.retry_after.filter(|wait| *wait <= MAX_INLINE_WAIT) {
                tracing::warn!("GitHub rate limit on {method} {path}; waiting {wait:?} as it asks");
                tokio::time::sleep(wait).await;
                return Err(Attempt::Transient(format!("{method} {path}: rate limited")));
            }
            Err(Attempt::Final(classify(&method, path, failure)))
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.options.retry_base_delay)
            .with_max_times(self.options.max_tries.saturating_sub(1));
        match attempt.retry(backoff).when(|e| matches!(e, Attempt::Transient(_))).await {
            Ok(value) => Ok(value),
            Err(Attempt::Final(error)) => Err(error),
            Err(Attempt::Transient(message)) => Err(ForgeError::GitHub { message, retryable: true, status: None }),
        }
    }

    async fn find_open_pull_request(
        &self,
        repository: &str,
        owner: &str,
        branch: &str,
    ) -> Result<Option<PullRequest>, ForgeError> {
        let path = format!("/repos/{repository}/pulls?state=open&head={owner}:{branch}");
        let found: Vec<PullRequest> = parse(self.send(Method::GET, &path, None).await?, &path)?;
        Ok(found.into_iter().next())
    }
}

enum Attempt {
    Transient(String),
    Final(ForgeError),
}

async fn failure_of(response: reqwest::Response) -> Failure {
    let status = response.status();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let retry_after =
        header("retry-after").and_then(|s| s.trim().parse::<u64>().ok()).map(Duration::from_secs).or_else(|| {
            // The primary rate limit: nothing left until the reset time.
            let exhausted = header("x-ratelimit-remaining").is_some_and(|r| r.trim() == "0");
            let reset = header("x-ratelimit-reset")?.trim().parse::<i64>().ok()?;
            let wait = reset - chrono::Utc::now().timestamp();
            exhausted.then(|| Duration::from_secs(u64::try_from(wait.max(1)).unwrap_or(1)))
        });
    let missing_permission = header("x-accepted-github-permissions");
    let body = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(200).collect());
    // A secondary rate limit is a 403 whose message says so, sometimes without Retry-After.
    let secondary = message.to_ascii_lowercase().contains("secondary rate limit");
    let retry_after = retry_after.or_else(|| secondary.then_some(Duration::from_secs(60)));
    Failure { status, retry_after, missing_permission, message }
}

fn classify(method: &Method, path: &str, failure: Failure) -> ForgeError {
    let Failure { status, retry_after, missing_permission, message } = failure;
    let what = format!("{method} {path}");
    let message = match status {
        _ if retry_after.is_some() => {
            return ForgeError::GitHub {
                status: Some(status.as_u16()),
                message: format!(
                    "{what}: GitHub's rate limit applies for {retry_after:?} more; the task is retried later ({message})"
                ),
                retryable: true,
            };
        }
        StatusCode::UNAUTHORIZED => {
            format!(
                "{what}: GitHub rejected the token (401 {message}); it is wrong, expired or revoked: set a new one with `codingworker token set`"
            )
        }
        StatusCode::FORBIDDEN => match missing_permission.filter(|p| !p.trim().is_empty()) {
            Some(permission) => format!(
                "{what}: the token lacks a permission (403 {message}); GitHub accepts it with `{permission}`: give the token that repository permission (docs/setup-github.md)"
            ),
            None => format!(
                "{what}: GitHub refused (403 {message}); check the token's repository access and permissions (docs/setup-github.md)"
            ),
        },
        StatusCode::NOT_FOUND => format!(
            "{what}: not found (404): the repository or issue does not exist, or the token cannot see it (a fine-grained token must list the repository)"
        ),
        _ => format!("{what}: GitHub answered {status}: {message}"),
    };
    ForgeError::GitHub { message, retryable: false, status: Some(status.as_u16()) }
}

fn parse<T: serde::de::DeserializeOwned>(value: serde_json::Value, path: &str) -> Result<T, ForgeError> {
    serde_json::from_value(value)
        .map_err(|e| ForgeError::Rejected(format!("unexpected answer from GitHub for {path}: {e}")))
}

fn owner_of(repository: &str) -> &str {
    repository.split('/').next().unwrap_or(repository)
}

#[async_trait::async_trait]
impl Forge for GitHubForge {
    fn name(&self) -> &'static str {
        "github"
    }

    async fn check_reachable(&self) -> Result<(), ForgeError> {
        // The rate-limit endpoint costs nothing against the limit and proves the token is accepted.
        self.send(Method::GET, "/rate_limit", None).await.map(|_| ())
    }

    async fn check_task(&self, repository: &str, issue_number: u64) -> Result<TaskCheck, ForgeError> {
        let path = format!("/repos/{repository}/issues/{issue_number}");
        let issue: Issue = match self.send(Method::GET, &path, None).await {
            Ok(value) => parse(value, &path)?,
            Err(ForgeError::GitHub { status: Some(404), .. }) => {
                return Ok(TaskCheck::Refuse(format!("issue #{issue_number} of {repository} does not exist")));
            }
            Err(e) => return Err(e),
        };
        if issue.pull_request.is_some() {
            return Ok(TaskCheck::Refuse(format!("#{issue_number} of {repository} is a pull request, not an issue")));
        }
        if issue.state != "open" {
            return Ok(TaskCheck::Refuse(format!("issue #{issue_number} of {repository} is {}", issue.state)));
        }
        let label = &self.options.trigger_label;
        if !issue.labels.iter().any(|l| l.name.eq_ignore_ascii_case(label)) {
            return Ok(TaskCheck::Refuse(format!(
                "issue #{issue_number} of {repository} no longer carries the label `{label}`"
            )));
        }
        Ok(TaskCheck::Proceed)
    }

    async fn push_target(&self, repository: &str, _clone_url: &str) -> Result<PushTarget, ForgeError> {
        use base64::Engine as _;
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("x-access-token:{}", self.options.token.expose_secret()));
        Ok(PushTarget {
            url: format!("{}/{repository}.git", self.options.web_url.trim_end_matches('/')),
            // Read by this one `git push` only (GIT_CONFIG_* are per process), never written to any config file.
            env: vec![
                ("GIT_CONFIG_COUNT".into(), "1".into()),
                ("GIT_CONFIG_KEY_0".into(), "http.extraHeader".into()),
                ("GIT_CONFIG_VALUE_0".into(), format!("Authorization: Basic {basic}")),
            ],
        })
    }

    async fn open_pull_request(&self, draft: &PullRequestDraft) -> Result<PullRequestRecord, ForgeError> {
        let repository = &draft.repository;
        let existing = self.find_open_pull_request(repository, owner_of(repository), &draft.head_branch).await?;
        let opened: PullRequest = match existing {
            // A retried task: the same branch was pushed again, so the same pull request gets the new text.
            Some(pull) => {
                let path = format!("/repos/{repository}/pulls/{}", pull.number);
                parse(
                    self.send(Method::PATCH, &path, Some(json!({"title": draft.title, "body": draft.body}))).await?,
                    &path,
                )?
            }
            None => {
                let path = format!("/repos/{repository}/pulls");
                let body = json!({
                    "title": draft.title,
                    "body": draft.body,
                    "head": draft.head_branch,
                    "base": draft.base_branch,
                    "draft": self.options.draft_pull_requests || !draft.verified,
                });
                parse(self.send(Method::POST, &path, Some(body)).await?, &path)?
            }
        };
        let record = self.store.record_pull_request(&draft.to_record(Some(opened.html_url.clone())))?;
        Ok(PullRequestRecord { number: opened.number, url: Some(opened.html_url), ..record })
    }

    async fn report_on_issue(&self, report: &IssueReport<'_>) -> Result<(), ForgeError> {
        let (repository, number) = (report.repository, report.issue_number);
        let body = format!("{}\n\n{PROGRESS_MARKER}", report.body.trim_end());
        // One progress comment per issue, found by its marker and edited, so readers are not buried in updates.
        let path = format!("/repos/{repository}/issues/{number}/comments?per_page=100");
        let comments: Vec<Comment> = parse(self.send(Method::GET, &path, None).await?, &path)?;
        match comments.iter().find(|c| c.body.as_deref().is_some_and(|b| b.contains(PROGRESS_MARKER))) {
            Some(comment) => {
                let path = format!("/repos/{repository}/issues/comments/{}", comment.id);
                self.send(Method::PATCH, &path, Some(json!({"body": body}))).await?;
            }
            None => {
                let path = format!("/repos/{repository}/issues/{number}/comments");
                self.send(Method::POST, &path, Some(json!({"body": body}))).await?;
            }
        }
        let labels = &self.options.status_labels;
        let (wanted, others) = match report.stage {
            IssueStage::Working => (&labels.working, [&labels.done, &labels.failed]),
            IssueStage::Done => (&labels.done, [&labels.working, &labels.failed]),
            IssueStage::Failed => (&labels.failed, [&labels.working, &labels.done]),
        };
        let path = format!("/repos/{repository}/issues/{number}/labels");
        self.send(Method::POST, &path, Some(json!({"labels": [wanted]}))).await?;
        for other in others {
            let path = format!("/repos/{repository}/issues/{number}/labels/{}", path_segment(other));
            match self.send(Method::DELETE, &path, None).await {
                // Not on the issue: nothing to remove.
                Err(ForgeError::GitHub { status: Some(404), .. }) => {}
                other => {
                    other?;
                }
            }
        }
        Ok(())
    }
}

/// The OS keyring entry (macOS Keychain, Secret Service, Windows Credential Manager) holding the token.
pub const KEYRING_SERVICE: &str = "codingworker";
pub const KEYRING_USER: &str = "github-token";

pub fn keyring_entry() -> Result<keyring::Entry, ForgeError> {
    keyring::Entry::new(KEYRING_SERVICE, KEYRING_USER)
        .map_err(|e| ForgeError::Token(format!("cannot open the OS keyring: {e}")))
}

/// Where a token was found; said by `codingworker token status`, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Environment(&'static str),
    Keyring,
    File(std::path::PathBuf),
}

/// Where the GitHub token comes from, in order: the environment (`CODINGWORKER_GITHUB_TOKEN`, then `GITHUB_TOKEN`),
/// the OS keyring (`codingworker token set`), then `token_file`. A file others can read is refused: the token
/// opens the user's repositories. A keyring that cannot be reached (a headless machine) is skipped.
pub fn load_token(
    environment: &[(String, String)],
    keyring: Option<&keyring::Entry>,
    token_file: Option<&std::path::Path>,
) -> Result<(SecretString, TokenSource), ForgeError> {
    for name in ["CODINGWORKER_GITHUB_TOKEN", "GITHUB_TOKEN"] {
        if let Some((_, value)) = environment.iter().find(|(n, v)| n == name && !v.trim().is_empty()) {
            return Ok((SecretString::from(value.trim().to_owned()), TokenSource::Environment(name)));
        }
    }
    if let Some(entry) = keyring {
        match entry.get_password() {
            Ok(token) if !token.trim().is_empty() => {
                return Ok((SecretString::from(token.trim().to_owned()), TokenSource::Keyring));
            }
            Ok(_) | Err(keyring::Error::NoEntry) => {}
            Err(e) => tracing::debug!("the OS keyring is not available ({e}); looking further"),
        }
    }
    let Some(path) = token_file else {
        return Err(ForgeError::Token(
            "no GitHub token: run `codingworker token set` (OS keyring), or set CODINGWORKER_GITHUB_TOKEN, or \
             forge.token_file to a file only you can read (docs/setup-github.md says which permissions it needs)"
                .into(),
        ));
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let metadata = std::fs::metadata(path)
            .map_err(|e| ForgeError::Token(format!("cannot read the token file {}: {e}", path.display())))?;
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(ForgeError::Token(format!(
                "the token file {} can be read by others (mode {:o}); run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            )));
        }
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| ForgeError::Token(format!("cannot read the token file {}: {e}", path.display())))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(ForgeError::Token(format!("the token file {} is empty", path.display())));
    }
    Ok((SecretString::from(token.to_owned()), TokenSource::File(path.to_path_buf())))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use wiremock::matchers::{body_partial_json, header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const TOKEN: &str = "github_pat_11TESTTOKEN0123456789abcdef";

    fn forge(server: &MockServer, dir: &std::path::Path) -> GitHubForge {
        let store = Arc::new(Store::open(&dir.join("store.db")).unwrap());
        store
            .upsert_task(&codingworker_store::NewTask {
                task_id: "t1".into(),
                project: "default".into(),
                repository: "acme/app".into(),
                issue_number: 7,
                title: "Fix".into(),
                message_json: "{}".into(),
            })
            .unwrap();
        GitHubForge::new(
            GitHubOptions {
                api_url: server.uri(),
                web_url: "https://github.example".into(),
                token: SecretString::from(TOKEN.to_owned()),
                trigger_label: "codingworker".into(),
                draft_pull_requests: true,
                status_labels: StatusLabels::default(),
                request_timeout: Duration::from_secs(5),
                max_tries: 3,
                retry_base_delay: Duration::from_millis(10),
            },
            store,
        )
        .unwrap()
    }

    fn issue(state: &str, labels: &[&str]) -> serde_json::Value {
        json!({
            "number": 7, "state": state, "title": "Fix",
            "labels": labels.iter().map(|l| json!({"id": 1, "name": l, "color": "ededed"})).collect::<Vec<_>>(),
        })
    }

    fn working(issue_number: u64) -> IssueReport<'static> {
        IssueReport {
            task_id: "t1",
            repository: "acme/app",
            issue_number,
            stage: IssueStage::Working,
            body: "Working on it",
        }
    }

    fn draft(verified: bool) -> PullRequestDraft {
        PullRequestDraft {
            task_id: "t1".into(),
            repository: "acme/app".into(),
            issue_number: 7,
            title: "Fix #7".into(),
            body: "Closes #7".into(),
            head_branch: "codingworker/issue-7-fix".into(),
            base_branch: "main".into(),
            head_commit: "abc123".into(),
            verified,
        }
    }

    #[tokio::test]
    async fn only_an_open_labelled_issue_may_run() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let forge = forge(&server, dir.path());
        for (number, body) in [
            (1, issue("open", &["bug", "CodingWorker"])),
            (2, issue("closed", &["codingworker"])),
            (3, issue("open", &["bug"])),
        ] {
            Mock::given(method("GET"))
                .and(path(format!("/repos/acme/app/issues/{number}")))
                .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
                .respond_with(ResponseTemplate::new(200).set_body_json(body))
                .mount(&server)
                .await;
        }
        Mock::given(method("GET"))
            .and(path("/repos/acme/app/issues/4"))
            .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
            .mount(&server)
            .await;
        assert_eq!(forge.check_task("acme/app", 1).await.unwrap(), TaskCheck::Proceed);
        let refused = |check: TaskCheck| match check {
            TaskCheck::Refuse(reason) => reason,
            TaskCheck::Proceed => panic!("must be refused"),
        };
        assert!(refused(forge.check_task("acme/app", 2).await.unwrap()).contains("closed"));
        assert!(refused(forge.check_task("acme/app", 3).await.unwrap()).contains("no longer carries the label"));
        assert!(refused(forge.check_task("acme/app", 4).await.unwrap()).contains("does not exist"));
    }

    #[tokio::test]
    async fn a_pull_request_is_opened_once_and_updated_after_that() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let forge = forge(&server, dir.path());
        let pulls = "/repos/acme/app/pulls";
        // First: no open pull request for the branch, so one is created, as a draft.
        Mock::given(method("GET"))
            .and(path(pulls))
            .and(query_param("head", "acme:codingworker/issue-7-fix"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(pulls))
            .and(body_partial_json(
                json!({"head": "codingworker/issue-7-fix", "base": "main", "draft": true, "body": "Closes #7"}),
            ))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_json(json!({"number": 12, "html_url": "https://github.example/acme/app/pull/12"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        // Then it exists: the retried task updates it instead of opening a second one.
        Mock::given(method("GET"))
            .and(path(pulls))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!([{"number": 12, "html_url": "https://github.example/acme/app/pull/12"}])),
            )
            .with_priority(2)
            .mount(&server)
            .await;
        Mock::given(method("PATCH"))
            .and(path("/repos/acme/app/pulls/12"))
            .and(body_partial_json(json!({"body": "Closes #7"})))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"number": 12, "html_url": "https://github.example/acme/app/pull/12"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let first = forge.open_pull_request(&draft(true)).await.unwrap();
        let again = forge.open_pull_request(&draft(true)).await.unwrap();
        assert_eq!((first.number, again.number), (12, 12));
        assert_eq!(again.url.as_deref(), Some("https://github.example/acme/app/pull/12"));
    }

    #[tokio::test]
    async fn errors_say_what_to_fix_and_whether_to_retry() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let forge = forge(&server, dir.path());
        Mock::given(path("/repos/acme/app/issues/1/comments"))
            .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "Bad credentials"})))
            .mount(&server)
            .await;
        Mock::given(path("/repos/acme/app/issues/2/comments"))
            .respond_with(
                ResponseTemplate::new(403)
                    .insert_header("x-accepted-github-permissions", "issues=write; pull_requests=write")
                    .set_body_json(json!({"message": "Resource not accessible by personal access token"})),
            )
            .mount(&server)
            .await;
        Mock::given(path("/repos/acme/app/issues/3/comments"))
            .respond_with(
                ResponseTemplate::new(403)
                    .insert_header("x-ratelimit-remaining", "0")
                    .insert_header("x-ratelimit-reset", (chrono::Utc::now().timestamp() + 3000).to_string().as_str())
                    .set_body_json(json!({"message": "API rate limit exceeded"})),
            )
            .mount(&server)
            .await;
        let err = forge.report_on_issue(&working(1)).await.unwrap_err();
        assert!(!err.is_retryable() && err.to_string().contains("codingworker token set"), "{err}");
        let err = forge.report_on_issue(&working(2)).await.unwrap_err();
        assert!(!err.is_retryable() && err.to_string().contains("issues=write"), "{err}");
        let err = forge.report_on_issue(&working(3)).await.unwrap_err();
        assert!(err.is_retryable() && err.to_string().contains("rate limit"), "{err}");
        assert!(!err.to_string().contains(TOKEN));
    }

    #[tokio::test]
    async fn server_errors_are_retried_and_retry_after_is_honoured() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let forge = forge(&server, dir.path());
        let issue_path = "/repos/acme/app/issues/7";
        Mock::given(path(issue_path))
            .respond_with(ResponseTemplate::new(502))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(path(issue_path))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
            .up_to_n_times(1)
            .with_priority(2)
            .mount(&server)
            .await;
        Mock::given(path(issue_path))
            .respond_with(ResponseTemplate::new(200).set_body_json(issue("open", &["codingworker"])))
            .with_priority(3)
            .mount(&server)
            .await;
        let started = std::time::Instant::now();
        assert_eq!(forge.check_task("acme/app", 7).await.unwrap(), TaskCheck::Proceed);
        assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was waited for");
        assert_eq!(server.received_requests().await.unwrap().len(), 3);
    }

    #[tokio::test]
    async fn progress_is_one_edited_comment_and_one_status_label() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let forge = forge(&server, dir.path());
        let comments = "/repos/acme/app/issues/7/comments";
        Mock::given(method("GET"))
            .and(path(comments))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": 3, "body": "I can reproduce this"}])))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(comments))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([
                {"id": 3, "body": "I can reproduce this"},
                {"id": 9, "body": format!("Working on it\n\n{PROGRESS_MARKER}")},
            ])))
            .with_priority(2)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(comments))
            .and(body_partial_json(json!({"body": format!("Working on it\n\n{PROGRESS_MARKER}")})))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 9})))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("PATCH"))
            .and(path("/repos/acme/app/issues/comments/9"))
            .and(body_partial_json(json!({"body": format!("Opened #12\n\n{PROGRESS_MARKER}")})))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 9})))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/repos/acme/app/issues/7/labels"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
            .expect(2)
            .mount(&server)
            .await;
        // Removing a label the issue does not carry is a 404, which is fine.
        Mock::given(method("DELETE"))
            .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Label does not exist"})))
            .expect(4)
            .mount(&server)
            .await;
        forge.report_on_issue(&working(7)).await.unwrap();
        let done = IssueReport { stage: IssueStage::Done, body: "Opened #12", ..working(7) };
        forge.report_on_issue(&done).await.unwrap();
        let requests = server.received_requests().await.unwrap();
        let added: Vec<String> = requests
            .iter()
            .filter(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/labels"))
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect();
        assert!(added[0].contains("codingworker:in-progress") && added[1].contains("codingworker:done"), "{added:?}");
        let removed: Vec<&str> =
            requests.iter().filter(|r| r.method.as_str() == "DELETE").map(|r| r.url.path()).collect();
        assert!(removed.contains(&"/repos/acme/app/issues/7/labels/codingworker:in-progress"), "{removed:?}");
    }

    #[tokio::test]
    async fn the_push_carries_the_token_in_a_header_for_that_process_only() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let forge = forge(&server, dir.path());
        let target = forge.push_target("acme/app", "https://github.example/acme/app.git").await.unwrap();
        assert_eq!(target.url, "https://github.example/acme/app.git");
        assert!(!target.url.contains(TOKEN));
        let header = &target.env.iter().find(|(k, _)| k == "GIT_CONFIG_VALUE_0").unwrap().1;
        use base64::Engine as _;
        let encoded = header.strip_prefix("Authorization: Basic ").unwrap();
        let decoded = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).unwrap()).unwrap();
        assert_eq!(decoded, format!("x-access-token:{TOKEN}"));
        assert!(!format!("{:?}", forge.options).contains(TOKEN), "the options never print the token");
    }

    #[test]
    fn a_token_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_token(&[], None, Some(&file)).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let (token, source) = load_token(&[], None, Some(&file)).unwrap();
        assert_eq!((token.expose_secret(), source), (TOKEN, TokenSource::File(file.clone())));
        let env = [("CODINGWORKER_GITHUB_TOKEN".to_owned(), "env-token".to_owned())];
        let (token, source) = load_token(&env, None, Some(&file)).unwrap();
        assert_eq!(
            (token.expose_secret(), source),
            ("env-token", TokenSource::Environment("CODINGWORKER_GITHUB_TOKEN"))
        );
        assert!(load_token(&[], None, None).unwrap_err().to_string().contains("codingworker token set"));
    }

    #[test]
    fn the_keyring_comes_after_the_environment_and_before_the_file() {
        // keyring's in-memory mock: the OS stores need a desktop session this test cannot count on.
        keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
        let entry = keyring::Entry::new(KEYRING_SERVICE, KEYRING_USER).unwrap();
        let err = load_token(&[], Some(&entry), None).unwrap_err();
        assert!(err.to_string().contains("no GitHub token"), "an empty keyring just has no token: {err}");
        entry.set_password("keyring-token").unwrap();
        let (token, source) = load_token(&[], Some(&entry), None).unwrap();
        assert_eq!((token.expose_secret(), source), ("keyring-token", TokenSource::Keyring));
        let env = [("GITHUB_TOKEN".to_owned(), "env-token".to_owned())];
        assert_eq!(load_token(&env, Some(&entry), None).unwrap().1, TokenSource::Environment("GITHUB_TOKEN"));
    }
}
