//! Where pull requests are opened and issues are reported on.
//!
//! [`Forge`] is the seam between the task lifecycle and a code host. [`LocalForge`], the embedded default, keeps
//! pull-request records and issue comments in the task store so the whole flow runs without any account.

use std::sync::Arc;

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

/// Where and how to push a branch.
#[derive(Debug, Clone)]
pub struct PushTarget {
    /// Remote URL without credentials (safe to log).
    pub url: String,
    /// Environment for the `git push` process only, e.g. an auth header; never written to a config file.
    pub env: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    #[error("recording in the local store failed: {0}")]
    Store(#[from] StoreError),
    #[error("the forge refused: {0}")]
    Rejected(String),
}

impl ForgeError {
    pub fn is_retryable(&self) -> bool {
        match self {
            ForgeError::Store(e) => e.is_retryable(),
            ForgeError::Rejected(_) => false,
        }
    }
}

/// A code host: where branches are pushed, pull requests opened and issues commented on.
#[async_trait::async_trait]
pub trait Forge: Send + Sync {
    /// Short name for logs and `doctor`.
    fn name(&self) -> &'static str;
    /// Where to push the work branch of a repository whose clone URL is `clone_url`.
    async fn push_target(&self, repository: &str, clone_url: &str) -> Result<PushTarget, ForgeError>;
    async fn open_pull_request(&self, draft: &PullRequestDraft) -> Result<PullRequestRecord, ForgeError>;
    /// Reports progress or failure on the issue.
    async fn comment_on_issue(
        &self,
        task_id: &str,
        repository: &str,
        issue_number: u64,
        body: &str,
    ) -> Result<(), ForgeError>;
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

    async fn push_target(&self, _repository: &str, clone_url: &str) -> Result<PushTarget, ForgeError> {
        Ok(PushTarget { url: clone_url.to_owned(), env: Vec::new() })
    }

    async fn open_pull_request(&self, draft: &PullRequestDraft) -> Result<PullRequestRecord, ForgeError> {
        let record = self.store.record_pull_request(&NewPullRequest {
            task_id: draft.task_id.clone(),
            repository: draft.repository.clone(),
            title: draft.title.clone(),
            body: draft.body.clone(),
            head_branch: draft.head_branch.clone(),
            base_branch: draft.base_branch.clone(),
            head_commit: draft.head_commit.clone(),
            verified: draft.verified,
            url: None,
        })?;
        Ok(record)
    }

    async fn comment_on_issue(
        &self,
        task_id: &str,
        _repository: &str,
        issue_number: u64,
        body: &str,
    ) -> Result<(), ForgeError> {
        self.store.add_event(task_id, None, "issue_comment", &format!("#{issue_number}: {body}"))?;
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
        forge.comment_on_issue("t1", "o/r", 3, "Opened #1").await.unwrap();
        let detail = store.task_detail("t1").unwrap().unwrap();
        assert!(detail.events.iter().any(|e| e.kind == "issue_comment" && e.detail.contains("Opened #1")));
        assert_eq!(detail.pull_request.unwrap().head_commit, "def");
    }
}
