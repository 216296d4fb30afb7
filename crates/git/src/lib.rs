//! Git workspaces: a cached mirror per repository, a fresh worktree per attempt, commit and push.
//!
//! Everything goes through the `git` command line: it is what users already have configured and debugged, it
//! speaks every transport, and its errors are the ones they can search for. Worktrees are detached, so the
//! mirror's refs only ever mirror the remote and a fetch can never clobber work in progress.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

/// Paths git should never commit for the agent: caches produced by running tests, and the agent's own
/// reproduction check.
const EXCLUDES: &str = "# added by codingworker: test caches must not end up in a pull request\n\
__pycache__/\n*.pyc\n.pytest_cache/\nnode_modules/\n.mypy_cache/\n.ruff_cache/\n/target/\n\
.codingworker_check.*\n/tests/codingworker_check.rs\n";

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("`git` was not found on PATH; install git (2.30 or newer) and retry")]
    GitMissing,
    #[error("`git {command}` failed ({status}): {stderr}")]
    Command { command: String, status: String, stderr: String },
    #[error("`git {command}` did not finish within {after:?}")]
    Timeout { command: String, after: Duration },
    #[error("base branch `{branch}` does not exist in {repository}")]
    BaseBranchMissing { repository: String, branch: String },
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error(
        "the remote branch `{branch}` changed while the worker worked; nothing was overwritten, and the next attempt \
         starts from what is there"
    )]
    LeaseRejected { branch: String },
    #[error(
        "`{branch}` and its {tries} numbered variants all hold commits CodingWorker did not write; delete or rename \
             some of them"
    )]
    NoFreeBranch { branch: String, tries: u32 },
}

impl GitError {
    /// Network trouble and timeouts may pass; a missing branch or a rejected command will not.
    pub fn is_retryable(&self) -> bool {
        match self {
            GitError::Timeout { .. } => true,
            GitError::Command { stderr, .. } => {
                let s = stderr.to_ascii_lowercase();
                [
                    "could not resolve",
                    "connection",
                    "timed out",
                    "early eof",
                    "the remote end hung up",
                    "502",
                    "503",
                    "504",
                    "unable to access",
                    "index.lock",
                ]
                .iter()
                .any(|needle| s.contains(needle))
            }
            GitError::Io { .. } | GitError::LeaseRejected { .. } => true,
            GitError::NoFreeBranch { .. } | GitError::GitMissing | GitError::BaseBranchMissing { .. } => false,
        }
    }
}

/// Who commits: the configured bot identity, never the user's global git config.
#[derive(Debug, Clone)]
pub struct Author {
    pub name: String,
    pub email: String,
}

/// Manages mirrors and worktrees under one directory.
#[derive(Debug, Clone)]
pub struct GitWorkspaces {
    mirrors: PathBuf,
    worktrees: PathBuf,
    author: Author,
    network_timeout: Duration,
}

/// One attempt's checkout.
#[derive(Debug)]
pub struct Workspace {
    pub path: PathBuf,
    pub mirror: PathBuf,
    pub branch: String,
    pub base_branch: String,
    pub base_commit: String,
    author: Author,
    network_timeout: Duration,
}

/// How many names a push tries (`branch`, `branch-2` ... `branch-20`) before giving up.
const MAX_BRANCH_SUFFIX: u32 = 20;

/// Where a commit is pushed: a branch, and the lease the push holds on it.
#[derive(Debug, Clone, PartialEq)]
pub struct PushPlan {
    /// The branch to push to: the workspace's own, or `<branch>-N` when that one holds someone else's commits.
    pub branch: String,
    /// The remote tip the push expects (`None`: the branch must not exist yet).
    pub lease: Option<String>,
    /// Branches passed over, and why: for the pull request and the issue comment.
    pub passed_over: Vec<PassedOver>,
}

/// A branch the worker did not push to because that would drop someone's commits.
#[derive(Debug, Clone, PartialEq)]
pub struct PassedOver {
    pub branch: String,
    pub why: String,
}

impl PushPlan {
    /// One sentence for people: why the change is on another branch than the usual one; `None` when it is not.
    pub fn explanation(&self) -> Option<String> {
        if self.passed_over.is_empty() {
            return None;
        }
        let left: Vec<String> = self.passed_over.iter().map(|p| format!("`{}` ({})", p.branch, p.why)).collect();
        Some(format!(
            "Left as they are: {}. CodingWorker never removes a commit it did not write, so this change is on `{}` \
             instead.",
            left.join("; "),
            self.branch
        ))
    }
}

fn short_sha(sha: &str) -> &str {
    sha.get(..10).unwrap_or(sha)
}

/// What a commit contains.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub sha: String,
    pub files: Vec<String>,
    /// `git diff --stat` of the commit against the base.
    pub diff_stat: String,
    /// The full patch, for records and pull-request bodies.
    pub patch: String,
}

impl GitWorkspaces {
    pub fn new(root: &Path, author: Author) -> Self {
        Self {
            mirrors: root.join("mirrors"),
            worktrees: root.join("worktrees"),
            author,
            network_timeout: Duration::from_secs(600),
        }
    }

    /// Fetches (or first clones) the mirror of `clone_url` and checks out a fresh detached worktree at the base.
    pub async fn prepare(
        &self,
        repository: &str,
        clone_url: &str,
        base_branch: Option<&str>,
        branch: &str,
        worktree_name: &str,
    ) -> Result<Workspace, GitError> {
        let mirror = self.mirrors.join(format!("{}.git", repository.replace('/', "__")));
        if mirror.join("HEAD").exists() {
            run_git(Some(&mirror), &["remote", "update", "--prune"], self.network_timeout).await?;
        } else {
            create_dir(&self.mirrors).await?;
            let target = path_str(&mirror)?;
            // A half-finished clone from a killed process would make every later fetch fail.
            if mirror.exists() {
                remove_dir(&mirror).await?;
            }
            run_git(None, &["clone", "--mirror", "--", clone_url, &target], self.network_timeout).await?;
        }
        tokio::fs::write(mirror.join("info").join("exclude"), EXCLUDES)
            .await
            .map_err(|source| GitError::Io { context: "writing the mirror's info/exclude".into(), source })?;

        let base_branch = match base_branch {
            Some(b) => b.to_owned(),
            None => {
                let head = run_git(Some(&mirror), &["symbolic-ref", "--short", "HEAD"], LOCAL_TIMEOUT).await?;
                head.trim().to_owned()
            }
        };
        let base_ref = format!("refs/heads/{base_branch}^{{commit}}");
        let base_commit =
            match run_git(Some(&mirror), &["rev-parse", "--verify", "--quiet", &base_ref], LOCAL_TIMEOUT).await {
                Ok(sha) => sha.trim().to_owned(),
                Err(GitError::Command { .. }) => {
                    return Err(GitError::BaseBranchMissing { repository: repository.into(), branch: base_branch });
                }
                Err(e) => return Err(e),
            };

        create_dir(&self.worktrees).await?;
        let path = self.worktrees.join(worktree_name);
        if path.exists() {
            remove_dir(&path).await?;
        }
        // Forget worktrees whose directories are gone (a previous attempt was killed).
        run_git(Some(&mirror), &["worktree", "prune"], LOCAL_TIMEOUT).await?;
        let target = path_str(&path)?;
        run_git(Some(&mirror), &["worktree", "add", "--detach", "--force", &target, &base_commit], LOCAL_TIMEOUT)
            .await?;
        Ok(Workspace {
            path,
            mirror,
            branch: branch.to_owned(),
            base_branch,
            base_commit,
            author: self.author.clone(),
            network_timeout: self.network_timeout,
        })
    }
}

impl Workspace {
    /// Paths that differ from the base, including untracked ones (excludes applied).
    pub async fn changed_files(&self) -> Result<Vec<String>, GitError> {
        let out =
            run_git(Some(&self.path), &["status", "--porcelain", "-z", "--untracked-files=all"], LOCAL_TIMEOUT).await?;
        Ok(out.split('\0').filter(|e| e.len() > 3).map(|e| e[3..].to_owned()).collect())
    }

    /// Throws away every change since the worktree was prepared (tracked, untracked and ignored files), so the
    /// next model of a fallback chain starts from the same code as the first.
    pub async fn discard_changes(&self) -> Result<(), GitError> {
        run_git(Some(&self.path), &["reset", "--hard", "--quiet", "HEAD"], LOCAL_TIMEOUT).await?;
        run_git(Some(&self.path), &["clean", "-ffdxq"], LOCAL_TIMEOUT).await?;
        Ok(())
    }

    /// Stages `paths` (repository-relative; new, changed or deleted) and nothing else, and commits as the configured
    /// author. `None` when none of them differs from `HEAD`. Only the files the agent wrote are named: a test run
    /// leaves files of its own (`Cargo.lock`, caches) that are no part of the change (bench task 24, 2026-12-06: a
    /// `Cargo.lock` written by `cargo test` went into the pull request).
    pub async fn commit(&self, message: &str, paths: &[String]) -> Result<Option<CommitInfo>, GitError> {
        if paths.is_empty() {
            return Ok(None);
        }
        let mut add: Vec<&str> = vec!["add", "--all", "--"];
        add.extend(paths.iter().map(String::as_str));
        run_git(Some(&self.path), &add, LOCAL_TIMEOUT).await?;
        let staged = run_git(Some(&self.path), &["diff", "--cached", "--name-only", "-z"], LOCAL_TIMEOUT).await?;
        let files: Vec<String> = staged.split('\0').filter(|f| !f.is_empty()).map(str::to_owned).collect();
        if files.is_empty() {
            return Ok(None);
        }
        let message_file = self.path.join(".git-codingworker-message");
        // The message goes through a file: issue titles are untrusted and must never meet a shell or argv parser.
        tokio::fs::write(&message_file, message)
            .await
            .map_err(|source| GitError::Io { context: "writing the commit message".into(), source })?;
        let name = format!("user.name={}", self.author.name);
        let email = format!("user.email={}", self.author.email);
        let message_path = path_str(&message_file)?;
        let result = run_git(
            Some(&self.path),
            &["-c", &name, "-c", &email, "commit", "--quiet", "--no-verify", "-F", &message_path],
            LOCAL_TIMEOUT,
        )
        .await;
        let _ = tokio::fs::remove_file(&message_file).await;
        result?;
        let sha = run_git(Some(&self.path), &["rev-parse", "HEAD"], LOCAL_TIMEOUT).await?.trim().to_owned();
        let range = format!("{}..{}", self.base_commit, sha);
        let diff_stat = run_git(Some(&self.path), &["diff", "--stat", &range], LOCAL_TIMEOUT).await?;
        let patch = run_git(Some(&self.path), &["diff", &range], LOCAL_TIMEOUT).await?;
        Ok(Some(CommitInfo { sha, files, diff_stat: diff_stat.trim_end().to_owned(), patch }))
    }

    /// Decides where the commit may go without dropping a commit the worker did not write, from the remote's
    /// branches as fetched when the workspace was prepared. `branch`, then `branch-2` ... `branch-20`, the first
    /// that is absent, that the commit fast-forwards, or whose tip is `last_pushed(branch)` (the commit this worker
    /// last pushed there, from the store) with every commit it would drop committed by the worker's own identity.
    ///
    /// Errors: [`GitError::NoFreeBranch`] when all 20 names hold other people's commits.
    pub async fn plan_push(&self, last_pushed: &(dyn Fn(&str) -> Option<String> + Sync)) -> Result<PushPlan, GitError> {
        let mut passed_over = Vec::new();
        for n in 1..=MAX_BRANCH_SUFFIX {
            let branch = if n == 1 { self.branch.clone() } else { format!("{}-{n}", self.branch) };
            let tip = self.remote_tip(&branch).await?;
            let Some(tip) = tip else {
                return Ok(PushPlan { branch, lease: None, passed_over });
            };
            if self.is_ancestor_of_head(&tip).await? {
                // A fast-forward (a follow-up builds on the branch): nothing on the remote is lost.
                return Ok(PushPlan { branch, lease: Some(tip), passed_over });
            }
            let foreign = self.foreign_commits(&tip).await?;
            if foreign.is_empty() && last_pushed(&branch).as_deref() == Some(tip.as_str()) {
                return Ok(PushPlan { branch, lease: Some(tip), passed_over });
            }
            let why = match foreign.first() {
                Some(commit) => format!("it holds {} commit(s) CodingWorker did not write ({commit})", foreign.len()),
                None => format!("its tip {} is not the commit CodingWorker last pushed there", short_sha(&tip)),
            };
            passed_over.push(PassedOver { branch, why });
        }
        Err(GitError::NoFreeBranch { branch: self.branch.clone(), tries: MAX_BRANCH_SUFFIX })
    }

    /// Pushes HEAD to `plan.branch` on `remote_url` with a lease: the remote branch must still be what the plan saw
    /// (absent, or at `plan.lease`), so a commit pushed meanwhile is never overwritten. Each attempt starts from
    /// the base again, so the worker's own earlier commit is replaced, not appended to. `extra_env` carries
    /// credentials so they never touch a config file.
    ///
    /// Errors: [`GitError::LeaseRejected`] (retryable) when the branch moved since the workspace was prepared.
    pub async fn push(
        &self,
        remote_url: &str,
        plan: &PushPlan,
        extra_env: &[(String, String)],
    ) -> Result<(), GitError> {
        let lease = format!("--force-with-lease=refs/heads/{}:{}", plan.branch, plan.lease.as_deref().unwrap_or(""));
        // No `+` on the refspec: it would force the update past the lease. The lease alone permits replacing the
        // expected commit.
        let refspec = format!("HEAD:refs/heads/{}", plan.branch);
        let pushed = run_git_env(
            Some(&self.path),
            &["push", "--quiet", &lease, "--", remote_url, &refspec],
            self.network_timeout,
            extra_env,
        )
        .await;
        match pushed {
            Err(GitError::Command { stderr, .. })
                if stderr.contains("stale info") || stderr.contains("already exists") =>
            {
                Err(GitError::LeaseRejected { branch: plan.branch.clone() })
            }
            other => other.map(|_| ()),
        }
    }

    /// The remote's tip of `branch` as the mirror last fetched it.
    async fn remote_tip(&self, branch: &str) -> Result<Option<String>, GitError> {
        let name = format!("refs/heads/{branch}^{{commit}}");
        match run_git(Some(&self.mirror), &["rev-parse", "--verify", "--quiet", &name], LOCAL_TIMEOUT).await {
            Ok(sha) => Ok(Some(sha.trim().to_owned())),
            Err(GitError::Command { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn is_ancestor_of_head(&self, commit: &str) -> Result<bool, GitError> {
        match run_git(Some(&self.path), &["merge-base", "--is-ancestor", commit, "HEAD"], LOCAL_TIMEOUT).await {
            Ok(_) => Ok(true),
            Err(GitError::Command { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Commits a push of HEAD over `tip` would drop that another identity committed: `<sha> by <name>`, newest
    /// first.
    async fn foreign_commits(&self, tip: &str) -> Result<Vec<String>, GitError> {
        let log = run_git(Some(&self.path), &["log", "--format=%H%x00%ce%x00%cn", tip, "^HEAD"], LOCAL_TIMEOUT).await?;
        Ok(log
            .lines()
            .filter_map(|line| {
                let mut fields = line.split('\0');
                let (sha, email, name) = (fields.next()?, fields.next()?, fields.next()?);
                (email != self.author.email).then(|| format!("{} by {name}", short_sha(sha)))
            })
            .collect())
    }

    /// Removes the worktree; failures only leave a directory that the next `prepare` cleans up.
    pub async fn remove(self) {
        let target = self.path.to_string_lossy().into_owned();
        if run_git(Some(&self.mirror), &["worktree", "remove", "--force", &target], LOCAL_TIMEOUT).await.is_err() {
            let _ = tokio::fs::remove_dir_all(&self.path).await;
        }
    }
}

/// `codingworker/issue-42-fix-median-for-even-lists`: readable, stable across retries, safe for git.
pub fn branch_name(issue_number: u64, title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_matches('-');
    if slug.is_empty() {
        format!("codingworker/issue-{issue_number}")
    } else {
        format!("codingworker/issue-{issue_number}-{slug}")
    }
}

/// Hides credentials in URLs before they reach a log or an error message.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => format!("{}***{}", &url[..scheme_end + 3], &url[at..]),
        _ => url.to_owned(),
    }
}

const LOCAL_TIMEOUT: Duration = Duration::from_secs(120);

async fn run_git(dir: Option<&Path>, args: &[&str], timeout: Duration) -> Result<String, GitError> {
    run_git_env(dir, args, timeout, &[]).await
}

async fn run_git_env(
    dir: Option<&Path>,
    args: &[&str],
    timeout: Duration,
    extra_env: &[(String, String)],
) -> Result<String, GitError> {
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.arg("-C").arg(dir);
    }
    // Repositories are untrusted: no hooks, no command-running transports, never wait for a password prompt.
    command
        .args(["-c", "core.hooksPath=/dev/null", "-c", "protocol.ext.allow=never", "-c", "core.autocrlf=false"])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .envs(extra_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let shown = args.iter().map(|a| redact_url(a)).collect::<Vec<_>>().join(" ");
    let child = command.spawn().map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            GitError::GitMissing
        } else {
            GitError::Io { context: format!("starting `git {shown}`"), source }
        }
    })?;
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(result) => result.map_err(|source| GitError::Io { context: format!("running `git {shown}`"), source })?,
        Err(_) => return Err(GitError::Timeout { command: shown, after: timeout }),
    };
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stderr: String = stderr.lines().map(redact_url).collect::<Vec<_>>().join("\n");
        Err(GitError::Command { command: shown, status: output.status.to_string(), stderr: truncate(&stderr, 2000) })
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

fn path_str(path: &Path) -> Result<String, GitError> {
    path.to_str().map(str::to_owned).ok_or_else(|| GitError::Io {
        context: format!("path {} is not valid UTF-8", path.display()),
        source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
    })
}

async fn create_dir(path: &Path) -> Result<(), GitError> {
    tokio::fs::create_dir_all(path)
        .await
        .map_err(|source| GitError::Io { context: format!("creating {}", path.display()), source })
}

async fn remove_dir(path: &Path) -> Result<(), GitError> {
    tokio::fs::remove_dir_all(path)
        .await
        .map_err(|source| GitError::Io { context: format!("removing {}", path.display()), source })
}

/// Helpers for tests in this and other crates: a bare "remote" with one commit.
pub mod testing {
    use super::*;

    /// Creates `dir/remote.git` (bare) from the files in `files`, on branch `main`. Returns its path.
    pub async fn bare_remote_with(dir: &Path, files: &[(&str, &str)]) -> Result<PathBuf, GitError> {
        let seed = dir.join("seed");
        create_dir(&seed).await?;
        for (name, content) in files {
            let path = seed.join(name);
            if let Some(parent) = path.parent() {
                create_dir(parent).await?;
            }
            tokio::fs::write(&path, content)
                .await
                .map_err(|source| GitError::Io { context: "writing seed file".into(), source })?;
        }
        run_git(Some(&seed), &["init", "--quiet", "--initial-branch=main"], LOCAL_TIMEOUT).await?;
        run_git(Some(&seed), &["add", "--all"], LOCAL_TIMEOUT).await?;
        run_git(
            Some(&seed),
            &["-c", "user.name=Seed", "-c", "user.email=seed@example.invalid", "commit", "--quiet", "-m", "seed"],
            LOCAL_TIMEOUT,
        )
        .await?;
        let remote = dir.join("remote.git");
        let remote_str = path_str(&remote)?;
        let seed_str = path_str(&seed)?;
        run_git(None, &["clone", "--quiet", "--bare", &seed_str, &remote_str], LOCAL_TIMEOUT).await?;
        Ok(remote)
    }

    /// Runs git for assertions in tests.
    pub async fn git(dir: &Path, args: &[&str]) -> Result<String, GitError> {
        run_git(Some(dir), args, LOCAL_TIMEOUT).await
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{bare_remote_with, git};
    use super::*;

    fn author() -> Author {
        Author { name: "CodingWorker".into(), email: "bot@codingworker.invalid".into() }
    }

    #[test]
    fn branch_names_are_slugged() {
        assert_eq!(branch_name(42, "Fix median() for EVEN lists!"), "codingworker/issue-42-fix-median-for-even-lists");
        assert_eq!(branch_name(3, "   ***  "), "codingworker/issue-3");
        assert_eq!(branch_name(5, "--upload-pack=x ../.."), "codingworker/issue-5-upload-pack-x");
        assert!(branch_name(1, &"long word ".repeat(30)).len() < 70);
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("https://x-access-token:ghs_secret@github.com/o/r.git"),
            "https://***@github.com/o/r.git"
        );
        assert_eq!(redact_url("/tmp/remote.git"), "/tmp/remote.git");
    }

    #[tokio::test]
    async fn discarding_changes_restores_the_prepared_code() {
        let dir = tempfile::tempdir().unwrap();
        let remote = bare_remote_with(dir.path(), &[("app.py", "x = 1\n")]).await.unwrap();
        let workspaces = GitWorkspaces::new(&dir.path().join("data"), author());
        let ws = workspaces.prepare("o/r", remote.to_str().unwrap(), None, "b", "t1-a1").await.unwrap();
        std::fs::write(ws.path.join("app.py"), "x = 2\n").unwrap();
        std::fs::write(ws.path.join("new.py"), "y = 1\n").unwrap();
        std::fs::create_dir_all(ws.path.join("__pycache__")).unwrap();
        std::fs::write(ws.path.join("__pycache__/app.pyc"), "junk").unwrap();
        ws.discard_changes().await.unwrap();
        assert!(ws.changed_files().await.unwrap().is_empty());
        assert_eq!(std::fs::read_to_string(ws.path.join("app.py")).unwrap(), "x = 1\n");
        assert!(!ws.path.join("new.py").exists() && !ws.path.join("__pycache__").exists());
    }

    #[tokio::test]
    async fn prepare_commit_push_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let remote = bare_remote_with(dir.path(), &[("app.py", "x = 1\n")]).await.unwrap();
        let remote_url = remote.to_str().unwrap();
        let workspaces = GitWorkspaces::new(&dir.path().join("data"), author());
        let ws = workspaces.prepare("o/r", remote_url, None, "codingworker/issue-1-x", "t1-a1").await.unwrap();
        assert_eq!(ws.base_branch, "main");
        assert!(ws.changed_files().await.unwrap().is_empty());
        assert!(ws.commit("nothing", &[]).await.unwrap().is_none());
        assert!(ws.commit("nothing", &["app.py".into()]).await.unwrap().is_none(), "unchanged: nothing to commit");

        std::fs::write(ws.path.join("app.py"), "x = 2\n").unwrap();
        std::fs::create_dir_all(ws.path.join("__pycache__")).unwrap();
        std::fs::write(ws.path.join("__pycache__/app.cpython-311.pyc"), "junk").unwrap();
        assert_eq!(ws.changed_files().await.unwrap(), vec!["app.py".to_string()]);
        // A file a test run left (not ignored) is no part of the change: only the named paths are committed.
        std::fs::write(ws.path.join("Cargo.lock"), "version = 4\n").unwrap();
        let commit = ws.commit("Fix #1: x\n\nRefs #1", &["app.py".into()]).await.unwrap().unwrap();
        assert_eq!(commit.files, vec!["app.py".to_string()]);
        assert!(!commit.patch.contains("Cargo.lock"));
        assert!(commit.diff_stat.contains("app.py"));
        assert!(commit.patch.contains("+x = 2"));
        let plan = ws.plan_push(&|_| None).await.unwrap();
        assert_eq!((plan.branch.as_str(), plan.lease.as_deref()), ("codingworker/issue-1-x", None));
        ws.push(remote_url, &plan, &[]).await.unwrap();
        let first = commit.sha.clone();

        let log = git(&remote, &["log", "-1", "--format=%an <%ae>|%s", "codingworker/issue-1-x"]).await.unwrap();
        assert_eq!(log.trim(), "CodingWorker <bot@codingworker.invalid>|Fix #1: x");
        assert!(!ws.path.join(".git-codingworker-message").exists());

        // A second attempt starts from the base again and replaces the branch.
        let path = ws.path.clone();
        ws.remove().await;
        assert!(!path.exists());
        let ws2 = workspaces.prepare("o/r", remote_url, None, "codingworker/issue-1-x", "t1-a2").await.unwrap();
        assert_eq!(std::fs::read_to_string(ws2.path.join("app.py")).unwrap(), "x = 1\n");
        std::fs::write(ws2.path.join("app.py"), "x = 3\n").unwrap();
        ws2.commit("again", &["app.py".into()]).await.unwrap().unwrap();
        // The worker last pushed `first` there: its own commit is replaced, under a lease on it.
        let plan = ws2.plan_push(&|_| Some(first.clone())).await.unwrap();
        assert_eq!((plan.branch.as_str(), plan.lease.as_deref()), ("codingworker/issue-1-x", Some(first.as_str())));
        ws2.push(remote_url, &plan, &[]).await.unwrap();
        let shown = git(&remote, &["show", "codingworker/issue-1-x:app.py"]).await.unwrap();
        assert_eq!(shown, "x = 3\n");
    }

    #[tokio::test]
    async fn missing_base_branch_and_missing_repo_are_permanent() {
        let dir = tempfile::tempdir().unwrap();
        let remote = bare_remote_with(dir.path(), &[("a", "a")]).await.unwrap();
        let workspaces = GitWorkspaces::new(&dir.path().join("data"), author());
        let err =
            workspaces.prepare("o/r", remote.to_str().unwrap(), Some("nope"), "b", "w").await.expect_err("no branch");
        assert!(matches!(err, GitError::BaseBranchMissing { .. }), "{err}");
        assert!(!err.is_retryable());
        let missing = dir.path().join("missing.git");
        let err = workspaces.prepare("o/x", missing.to_str().unwrap(), None, "b", "w").await.expect_err("no repo");
        assert!(!err.is_retryable(), "{err}");
    }

    #[tokio::test]
    async fn a_killed_clone_is_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let remote = bare_remote_with(dir.path(), &[("a", "a")]).await.unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("mirrors/o__r.git")).unwrap();
        let workspaces = GitWorkspaces::new(&data, author());
        let ws = workspaces.prepare("o/r", remote.to_str().unwrap(), None, "b", "w").await.unwrap();
        assert!(ws.path.join("a").exists());
    }

    /// A person's commit on the branch (made in a clone of the remote) as the branch's new tip.
    async fn human_commit(dir: &Path, remote: &Path, branch: &str) -> String {
        let clone = dir.join(format!("human-{}", branch.replace('/', "_")));
        git(dir, &["clone", "--quiet", "--branch", branch, remote.to_str().unwrap(), clone.to_str().unwrap()])
            .await
            .unwrap();
        std::fs::write(clone.join("notes.md"), "a maintainer's fix-up\n").unwrap();
        git(&clone, &["add", "notes.md"]).await.unwrap();
        git(&clone, &["-c", "user.name=Jane", "-c", "user.email=jane@example.com", "commit", "-qm", "fix-up"])
            .await
            .unwrap();
        git(&clone, &["push", "--quiet", "origin", branch]).await.unwrap();
        git(&clone, &["rev-parse", "HEAD"]).await.unwrap().trim().to_owned()
    }

    #[tokio::test]
    async fn a_branch_holding_someone_elses_commit_is_never_pushed_over() {
        let dir = tempfile::tempdir().unwrap();
        let remote = bare_remote_with(dir.path(), &[("app.py", "x = 1\n")]).await.unwrap();
        let url = remote.to_str().unwrap();
        let workspaces = GitWorkspaces::new(&dir.path().join("data"), author());
        let branch = "codingworker/issue-7-tags";
        let ws = workspaces.prepare("o/r", url, None, branch, "a1").await.unwrap();
        std::fs::write(ws.path.join("app.py"), "x = 2\n").unwrap();
        let ours = ws.commit("ours", &["app.py".into()]).await.unwrap().unwrap().sha;
        ws.push(url, &ws.plan_push(&|_| None).await.unwrap(), &[]).await.unwrap();
        ws.remove().await;
        let human = human_commit(dir.path(), &remote, branch).await;

        // Even with the store saying the worker pushed `ours` there, the human's commit on top keeps the branch.
        let ws = workspaces.prepare("o/r", url, None, branch, "a2").await.unwrap();
        std::fs::write(ws.path.join("app.py"), "x = 3\n").unwrap();
        ws.commit("again", &["app.py".into()]).await.unwrap().unwrap();
        let plan = ws.plan_push(&|b| (b == branch).then(|| ours.clone())).await.unwrap();
        assert_eq!((plan.branch.as_str(), plan.lease.as_deref()), ("codingworker/issue-7-tags-2", None));
        assert!(plan.explanation().unwrap().contains("did not write"), "{:?}", plan.explanation());
        ws.push(url, &plan, &[]).await.unwrap();
        let tip = git(&remote, &["rev-parse", branch]).await.unwrap();
        assert_eq!(tip.trim(), human, "the person's commit is still the branch's tip");

        // A tip the store does not know (a person's own branch of that name, made with the bot's identity even)
        // is not replaced either.
        let ws2 = workspaces.prepare("o/r", url, None, branch, "a3").await.unwrap();
        std::fs::write(ws2.path.join("app.py"), "x = 4\n").unwrap();
        ws2.commit("third", &["app.py".into()]).await.unwrap().unwrap();
        let plan = ws2.plan_push(&|_| None).await.unwrap();
        assert_eq!(plan.branch, "codingworker/issue-7-tags-3");
    }

    #[tokio::test]
    async fn a_lease_refuses_a_branch_that_moved_after_the_fetch() {
        let dir = tempfile::tempdir().unwrap();
        let remote = bare_remote_with(dir.path(), &[("app.py", "x = 1\n")]).await.unwrap();
        let url = remote.to_str().unwrap();
        let workspaces = GitWorkspaces::new(&dir.path().join("data"), author());
        let ws = workspaces.prepare("o/r", url, None, "main", "a1").await.unwrap();
        std::fs::write(ws.path.join("app.py"), "x = 2\n").unwrap();
        ws.commit("ours", &["app.py".into()]).await.unwrap().unwrap();
        let plan = ws.plan_push(&|_| None).await.unwrap();
        assert!(plan.lease.is_some(), "main fast-forwards: {plan:?}");
        let human = human_commit(dir.path(), &remote, "main").await;
        let err = ws.push(url, &plan, &[]).await.expect_err("the lease holds");
        assert!(matches!(err, GitError::LeaseRejected { .. }) && err.is_retryable(), "{err}");
        assert_eq!(git(&remote, &["rev-parse", "main"]).await.unwrap().trim(), human);
    }
}
