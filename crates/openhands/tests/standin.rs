//! The OpenHands backend on the real Docker engine, against a stand-in image built here
//! (`tests/standin`: the real image cannot be pulled without a registry). The stand-in checks the container
//! contract (command, environment, mounts), asks the real model through the `llm` network's relay, and acts on
//! `standin:` lines in the task: write a file, exit with a status, end in an agent state, or sleep.
//!
//! Needs Docker, busybox-static and the model server (CODINGWORKER_TEST_LLM_*), hence ignored; scripts/test.sh
//! runs it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use codingworker_llm::Protocol;
use codingworker_openhands::{ModelEndpoint, OpenHandsError, OpenHandsRequest, OpenHandsSettings, run};
use codingworker_sandbox::{DockerOptions, DockerSandbox, WORKER_LABEL};

#[path = "../../sandbox/tests/support/mod.rs"]
mod support;

fn endpoint() -> ModelEndpoint {
    let protocol = match std::env::var("CODINGWORKER_TEST_LLM_PROTOCOL").as_deref() {
        Ok("ollama") => Protocol::Ollama,
        _ => Protocol::OpenAi,
    };
    ModelEndpoint {
        protocol,
        base_url: std::env::var("CODINGWORKER_TEST_LLM_URL").unwrap_or_else(|_| "http://127.0.0.1:8089".into()),
        model: std::env::var("CODINGWORKER_TEST_LLM_MODEL").unwrap_or_else(|_| "qwen2.5-coder-1.5b".into()),
    }
}

async fn setup(worker_id: &str) -> (DockerSandbox, OpenHandsSettings) {
    let image = support::openhands_standin_image().await;
    let sandbox = DockerSandbox::connect(DockerOptions {
        image: support::busybox_image().await.into(),
        worker_id: worker_id.into(),
        ..DockerOptions::default()
    })
    .await
    .expect("Docker answers");
    sandbox.remove_orphans().await.unwrap();
    let settings = OpenHandsSettings { image, ..OpenHandsSettings::default() };
    (sandbox, settings)
}

/// Runs `task`; the attempt is named after the sandbox's worker id, so the tests' containers never share a name.
async fn run_task(
    sandbox: &DockerSandbox,
    settings: &OpenHandsSettings,
    worktree: &Path,
    task: &str,
    budget: Duration,
) -> Result<codingworker_openhands::OpenHandsRun, OpenHandsError> {
    let scratch = tempfile::tempdir().unwrap();
    let request = OpenHandsRequest {
        attempt: &sandbox.options().worker_id,
        worktree,
        task_text: task,
        scratch_dir: &scratch.path().join("task"),
        budget,
    };
    run(sandbox, settings, &endpoint(), &request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker, busybox-static and the model server: scripts/test.sh runs it"]
async fn openhands_changes_the_worktree_through_the_model_on_the_llm_network() {
    if support::docker_missing() {
        return;
    }
    let (sandbox, settings) = setup("openhands-ok").await;
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("README.md"), "A project.\n").unwrap();
    let started = Instant::now();
    let run = run_task(
        &sandbox,
        &settings,
        work.path(),
        "Add a greeting.\nstandin: write hello.txt",
        Duration::from_secs(300),
    )
    .await
    .unwrap();
    println!("OpenHands stand-in run in {:?}:\n{}", started.elapsed(), run.output_tail);
    assert!(run.output_tail.contains("contract ok"), "{}", run.output_tail);
    let greeting = std::fs::read_to_string(work.path().join("hello.txt")).unwrap();
    assert!(!greeting.trim().is_empty(), "the model's answer is the change");
    assert!(support::containers_labelled(WORKER_LABEL, "openhands-ok").await.is_empty(), "its container is removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker and busybox-static: scripts/test.sh runs it"]
async fn a_failing_exit_status_or_agent_state_is_a_retryable_failure() {
    if support::docker_missing() {
        return;
    }
    let (sandbox, settings) = setup("openhands-fail").await;
    let work = tempfile::tempdir().unwrap();
    let budget = Duration::from_secs(120);
    match run_task(&sandbox, &settings, work.path(), "standin: exit 3", budget).await {
        Err(e @ OpenHandsError::Exited { code: 3, .. }) => {
            assert!(e.is_retryable());
            assert!(e.to_string().contains("AgentState.ERROR"), "the output's tail explains it: {e}");
        }
        other => panic!("expected exit 3, got {other:?}"),
    }
    match run_task(&sandbox, &settings, work.path(), "standin: state ERROR", budget).await {
        Err(e @ OpenHandsError::AgentState { .. }) => assert!(e.is_retryable() && e.to_string().contains("ERROR")),
        other => panic!("expected the agent state to count, got {other:?}"),
    }
    // A contract the worker broke is reported by the stand-in as exit 64: here the socket is withheld.
    let without_socket = OpenHandsSettings { mount_docker_socket: false, ..settings.clone() };
    match run_task(&sandbox, &without_socket, work.path(), "standin: write x.txt", budget).await {
        Err(OpenHandsError::Exited { code: 64, tail }) => assert!(tail.contains("Docker socket"), "{tail}"),
        other => panic!("expected the stand-in to refuse, got {other:?}"),
    }
    assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 0, "nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker and busybox-static: scripts/test.sh runs it"]
async fn a_run_past_its_budget_is_killed_and_its_container_removed() {
    if support::docker_missing() {
        return;
    }
    let (sandbox, settings) = setup("openhands-slow").await;
    let work = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let result = run_task(&sandbox, &settings, work.path(), "standin: sleep 600", Duration::from_secs(3)).await;
    assert!(matches!(result, Err(OpenHandsError::TimedOut { secs: 3 })), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    // Removal is asynchronous after a kill; give the engine a moment.
    for _ in 0..20 {
        if support::containers_labelled(WORKER_LABEL, "openhands-slow").await.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the killed container is still there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker and busybox-static: scripts/test.sh runs it"]
async fn a_missing_image_says_how_to_get_it_and_is_not_retried() {
    if support::docker_missing() {
        return;
    }
    let (sandbox, settings) = setup("openhands-missing").await;
    let settings = OpenHandsSettings { image: "codingworker-test-no-such-image:0.0".into(), ..settings };
    let work = tempfile::tempdir().unwrap();
    let err = run_task(&sandbox, &settings, work.path(), "anything", Duration::from_secs(30)).await.unwrap_err();
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("docker pull codingworker-test-no-such-image:0.0"), "{err}");
}
