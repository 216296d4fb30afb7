//! Where pull requests are opened and issues are reported on.
//!
//! [`Forge`] is the seam between the task lifecycle and a code host. [`LocalForge`], the embedded default, keeps
//! pull-request records and issue comments in the task store so the whole flow runs without any account;
//! [`GitHubForge`] talks to GitHub's REST API.

mod github;

use std::sync::Arc;

pub use github::{
    GitHubForge, GitHubOptions, KEYRING_SERVICE, KEYRING_USER, StatusLabels, TokenSource, keyring_entry, load_token,
};

use codingworker_store::{NewPullRequest, PullRequestRecord, Store, StoreError};

/// A pull request the lifecycle wants opened (or updated, when one already exists for the branch).
#[derive(Debug, Clone)]
pub struct PullRequestDraft {
    pub task_id: String,
    /// `owner/name`.
    pub repository: String,
    pub issue_number: u64,
    pub title: String,
    pub body: String,
    pub head_branch: String,
    pub base_branch: String,
    pub head_commit: String,
    /// Tests ran and passed. Unverified pull requests are opened as drafts and say so.
    pub verified: bool,
}

impl PullRequestDraft {
    /// The store's record of this pull request, at `url` on the forge if it has one.
    pub fn to_record(&self, url: Option<String>) -> NewPullRequest {
        NewPullRequest {
            task_id: self.task_id.clone(),
            repository: self.repository.clone(),
            title: self.title.clone(),
            body: self.body.clone(),
            head_branch: self.head_branch.clone(),
            base_branch: self.base_branch.clone(),
            head_commit: self.head_commit.clone(),
            verified: self.verified,
            url,
        }
    }
}

/// Where and how to push a branch.
#[derive(Debug, Clone)]
pub struct PushTarget {
    /// Remote URL without credentials (safe to log).
    pub url: String,
    /// Environment for the `git push` process only, e.g. an auth header; never written to a config file.
    pub env: Vec<(String, String)>,
}

/// Whether a task may still run, by the forge's current view of its issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskCheck {
    Proceed,
    /// A forged or stale message: the issue is gone, closed, or no longer labelled. Recorded, never worked.
    Refuse(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    #[error("recording in the local store failed: {0}")]
    Store(#[from] StoreError),
    #[error("the forge refused: {0}")]
    Rejected(String),
    #[error("{message}")]
    GitHub {
        message: String,
        retryable: bool,
        /// GitHub's HTTP status, when it answered.
        status: Option<u16>,
    },
    /// No usable token: a set-up problem for the user, never retried.
    #[error("{0}")]
    Token(String),
}

impl ForgeError {
    pub fn is_retryable(&self) -> bool {
        match self {
            ForgeError::Store(e) => e.is_retryable(),
            ForgeError::Rejected(_) => false,
            ForgeError::GitHub { retryable, .. } => *retryable,
            ForgeError::Token(_) => false,
        }
    }
}

/// A code host: where branches are pushed, pull requests opened and issues commented on.
#[async_trait::async_trait]
pub trait Forge: Send + Sync {
    /// Short name for logs and `doctor`.
    fn name(&self) -> &'static str;
    /// Whether the forge answers with these credentials (for `/readyz`). The local forge always does.
    async fn check_reachable(&self) -> Result<(), ForgeError> {
        Ok(())
    }
    /// Before any work: is the issue still there, open and asking for work?
    async fn check_task(&self, repository: &str, issue_number: u64) -> Result<TaskCheck, ForgeError>;
    /// Where to push the work branch of a repository whose clone URL is `clone_url`.
    async fn push_target(&self, repository: &str, clone_url: &str) -> Result<PushTarget, ForgeError>;
    async fn open_pull_request(&self, draft: &PullRequestDraft) -> Result<PullRequestRecord, ForgeError>;
    /// Tells the issue where the work stands: one progress comment, edited as the task moves on, and a status label.
    async fn report_on_issue(&self, report: &IssueReport<'_>) -> Result<(), ForgeError>;
}

/// Where a task stands, for the issue's readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueStage {
    /// Started, or retrying after a failed attempt.
    Working,
    /// A pull request is open.
    Done,
    /// The last attempt failed; a human is needed.
    Failed,
}

#[derive(Debug, Clone)]
pub struct IssueReport<'a> {
    pub task_id: &'a str,
    /// `owner/name`.
    pub repository: &'a str,
    pub issue_number: u64,
    pub stage: IssueStage,
    /// Markdown for the progress comment.
    pub body: &'a str,
}

/// The embedded forge: pushes to the clone URL itself (a local bare repository) and records pull requests and
/// comments in the store, where `codingworker show` reads them.
pub struct LocalForge {
    store: Arc<Store>,
}

impl LocalForge {
    pub fn new(store: Arc<Store>) -> Self {
        Self { store }
    }
}

#[async_trait::async_trait]
impl Forge for LocalForge {
    fn name(&self) -> &'static str {
        "local"
    }

    /// The embedded queue is written only by this machine; there is no remote issue to re-check.
    async fn check_task(&self, _repository: &str, _issue_number: u64) -> Result<TaskCheck, ForgeError> {
        Ok(TaskCheck::Proceed)
    }

    async fn push_target(&self, _repository: &str, clone_url: &str) -> Result<PushTarget, ForgeError> {
        Ok(PushTarget { url: clone_url.to_owned(), env: Vec::new() })
    }

    async fn open_pull_request(&self, draft: &PullRequestDraft) -> Result<PullRequestRecord, ForgeError> {
        let record = self.store.record_pull_request(&draft.to_record(None))?;
        Ok(record)
    }

    /// Progress goes to the task's events; the final word is an `issue_comment`, as a forge's would be.
    async fn report_on_issue(&self, report: &IssueReport<'_>) -> Result<(), ForgeError> {
        let kind = if report.stage == IssueStage::Working { "issue_progress" } else { "issue_comment" };
        self.store.add_event(report.task_id, None, kind, &format!("#{}: {}", report.issue_number, report.body))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_local_forge_records_pull_requests_and_comments_in_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("store.db")).unwrap());
        store
            .upsert_task(&codingworker_store::NewTask {
                task_id: "t1".into(),
                project: "default".into(),
                repository: "o/r".into(),
                issue_number: 3,
                title: "Fix".into(),
                message_json: "{}".into(),
            })
            .unwrap();
        let forge = LocalForge::new(Arc::clone(&store));
        let target = forge.push_target("o/r", "/srv/git/r.git").await.unwrap();
        assert_eq!(target.url, "/srv/git/r.git");
        assert!(target.env.is_empty());
        let draft = PullRequestDraft {
            task_id: "t1".into(),
            repository: "o/r".into(),
            issue_number: 3,
            title: "Fix #3".into(),
            body: "Fixes #3".into(),
            head_branch: "codingworker/issue-3-fix".into(),
            base_branch: "main".into(),
            head_commit: "abc".into(),
            verified: true,
        };
        let first = forge.open_pull_request(&draft).await.unwrap();
        let again = forge.open_pull_request(&PullRequestDraft { head_commit: "def".into(), ..draft }).await.unwrap();
        assert_eq!((first.number, again.number, again.head_commit.as_str()), (1, 1, "def"));
        let report = |stage, body| IssueReport { task_id: "t1", repository: "o/r", issue_number: 3, stage, body };
        forge.report_on_issue(&report(IssueStage::Working, "Working on it")).await.unwrap();
        forge.report_on_issue(&report(IssueStage::Done, "Opened #1")).await.unwrap();
        let detail = store.task_detail("t1").unwrap().unwrap();
        assert!(detail.events.iter().any(|e| e.kind == "issue_comment" && e.detail.contains("Opened #1")));
        assert!(detail.events.iter().any(|e| e.kind == "issue_progress" && e.detail.contains("Working on it")));
        assert_eq!(detail.pull_request.unwrap().head_commit, "def");
    }
}
