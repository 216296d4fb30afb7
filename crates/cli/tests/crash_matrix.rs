//! The crash matrix: the worker is SIGKILLed at each stage of a task (held there by the fault hook
//! `CODINGWORKER_FAULT_PAUSE`), a new worker is started, and the invariants must hold wherever the kill landed:
//! the task completes exactly once, there is one pushed branch and one pull request, no worktree is left, the queue
//! is empty, and the attempts say what happened (interrupted, then succeeded; or one attempt when the kill came
//! after the acknowledgement).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use codingworker_queue::{Queue as _, QueueDepth};
use codingworker_store::{AttemptStatus, TaskState};
use common::{DEMO_FIX, TestEnv, model_answering};

async fn kill_at(stage: &str) {
    let env = TestEnv::new().await;
    let server = model_answering(DEMO_FIX).await;
    let url = server.uri();
    let task_id = env.submit_demo(&url).await;

    let mut first = env
        .command(&url, "openai")
        .env(codingworker_worker::faults::FAULT_PAUSE_VAR, format!("{stage}=60"))
        .arg("worker")
        .spawn()
        .unwrap();
    env.wait_for_event(&task_id, stage).await;
    first.kill().await.unwrap();
    let _ = first.wait().await;

    // A new worker (as after a reboot), without the hook.
    env.work_until_idle(&url).await;

    let detail = env.detail(&task_id);
    assert_eq!(detail.task.state, TaskState::Succeeded, "{stage}: {:?}", detail.events);
    let statuses: Vec<AttemptStatus> = detail.attempts.iter().map(|a| a.status).collect();
    let expected = if stage == "acknowledged" {
        vec![AttemptStatus::Succeeded]
    } else {
        vec![AttemptStatus::Interrupted, AttemptStatus::Succeeded]
    };
    assert_eq!(statuses, expected, "{stage}: the attempts");
    let prs: Vec<_> = env.store().pull_requests(100).unwrap().into_iter().filter(|p| p.task_id == task_id).collect();
    assert_eq!(prs.len(), 1, "{stage}: exactly one pull request");
    assert_eq!(prs[0].number, 1, "{stage}: not a second one under a new number");
    let branches = codingworker_git::testing::git(
        &env.remote,
        &["for-each-ref", "--format=%(refname)", "refs/heads/codingworker/"],
    )
    .await
    .unwrap();
    assert_eq!(branches.lines().count(), 1, "{stage}: one branch: {branches}");
    assert!(env.pushed_branch_passes_tests().await, "{stage}: the pushed branch passes the tests");
    let leftovers: Vec<_> = std::fs::read_dir(env.data_dir.join("worktrees"))
        .map(|entries| entries.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{stage}: worktrees left: {leftovers:?}");
    assert_eq!(env.queue().depth().await.unwrap(), QueueDepth::default(), "{stage}: the queue is empty");
    let acknowledged = detail.events.iter().filter(|e| e.kind == "acknowledged").count();
    assert_eq!(acknowledged, 1, "{stage}: acknowledged once");
}

macro_rules! crash_at {
    ($($name:ident => $stage:literal),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            tokio::time::timeout(Duration::from_secs(240), kill_at($stage)).await.expect("the matrix case finishes");
        }
    )*};
}

crash_at! {
    killed_after_the_message_was_received => "received",
    killed_when_the_workspace_was_ready => "workspace_ready",
    killed_while_the_agent_runs => "agent_running",
    killed_after_the_commit => "committed",
    killed_after_the_push => "pushed",
    killed_after_the_pull_request_was_opened => "pr_opened",
    killed_after_the_acknowledgement => "acknowledged",
}
