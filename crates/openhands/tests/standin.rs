//! The OpenHands backend on the real Docker engine, against a stand-in agent-server built here
//! (`tests/standin`: the Python test image and a server answering the REST calls the worker makes; the real
//! agent-server runs in tests/real_agent_server.rs). The stand-in checks the container contract (no Docker
//! socket, read-only root, not root, the session key, text tool calls), asks the real model through the `llm`
//! network's relay, and acts on `standin:` lines in the task: write a file (at once, or
//! only when a later message asks again), sleep, end stuck or with an error.
//!
//! Needs Docker, the Python test image (scripts/sandbox-test-image.sh) and the model server
//! (CODINGWORKER_TEST_LLM_*), hence ignored; scripts/test.sh runs it.

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
        temperature: 0.0,
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
) -> (Result<codingworker_openhands::OpenHandsRun, OpenHandsError>, Vec<String>) {
    let request =
        OpenHandsRequest { attempt: &sandbox.options().worker_id, worktree, task_text: task, hints: &[], budget };
    let mut lines = Vec::new();
    let result = run(sandbox, settings, &endpoint(), &request, &mut |line| lines.push(line)).await;
    (result, lines)
}

async fn containers_gone(worker: &str) -> bool {
    // Removal is asynchronous after a kill; give the engine a moment.
    for _ in 0..20 {
        if support::containers_labelled(WORKER_LABEL, worker).await.is_empty() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker, the Python test image and the model server: scripts/test.sh runs it"]
async fn openhands_changes_the_worktree_through_the_model_on_the_llm_network() {
    if support::docker_missing() {
        return;
    }
    let (sandbox, settings) = setup("openhands-ok").await;
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("README.md"), "A project.\n").unwrap();
    let started = Instant::now();
    let (result, lines) = run_task(
        &sandbox,
        &settings,
        work.path(),
        "Add a greeting.\nstandin: write hello.txt",
        Duration::from_secs(300),
    )
    .await;
    let run = result.unwrap();
    println!("OpenHands stand-in run in {:?}: {}\n{lines:#?}", started.elapsed(), run.describe());
    println!("container: {}", serde_json::to_string_pretty(&run.container).unwrap());
    assert_eq!(run.status, "finished");
    assert_eq!(run.usage.calls, 1, "the model was called once, through the relay");
    assert!(run.usage.prompt_tokens > 0 && run.usage.completion_tokens > 0);
    assert_eq!(run.events.describe_actions(), "file_editor ×1, finish ×1");
    assert!(lines.iter().any(|l| l.contains("ready")) && lines.iter().any(|l| l.contains("conversation")));
    assert!(!run.container.env.iter().any(|e| e.starts_with("OH_SESSION_API_KEYS_0")), "the key is not reported");
    let greeting = std::fs::read_to_string(work.path().join("hello.txt")).unwrap();
    assert!(!greeting.trim().is_empty(), "the model's answer is the change");
    assert!(containers_gone("openhands-ok").await, "its container is removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker, the Python test image and the model server: scripts/test.sh runs it"]
async fn a_run_that_finishes_with_nothing_changed_is_asked_to_go_on() {
    if support::docker_missing() {
        return;
    }
    let (sandbox, settings) = setup("openhands-nudge").await;
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("README.md"), "A project.\n").unwrap();
    let task = "Add a greeting.\nstandin: write-after-nudge hello.txt";
    let (result, lines) = run_task(&sandbox, &settings, work.path(), task, Duration::from_secs(300)).await;
    let run = result.unwrap();
    println!("{}\n{lines:#?}", run.describe());
    assert_eq!(run.nudges, 1, "one nudge, and the second run changed the worktree");
    assert_eq!(run.usage.calls, 2, "the model was called by both runs");
    assert!(run.describe().contains("asked 1 time(s) to go on"), "{}", run.describe());
    assert!(lines.iter().any(|l| l.contains("finished with nothing changed")), "{lines:#?}");
    assert!(work.path().join("hello.txt").exists(), "the nudged run wrote its file");
    // With nudges off, the same agent ends with nothing changed.
    let off = OpenHandsSettings { max_nudges: 0, ..settings };
    let quiet = tempfile::tempdir().unwrap();
    let run = run_task(&sandbox, &off, quiet.path(), task, Duration::from_secs(300)).await.0.unwrap();
    assert_eq!((run.nudges, run.usage.calls), (0, 1));
    assert!(!quiet.path().join("hello.txt").exists());
    assert!(containers_gone("openhands-nudge").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker, the Python test image and the model server: scripts/test.sh runs it"]
async fn a_nudged_run_cut_by_the_budget_still_reports_what_it_spent() {
    if support::docker_missing() {
        return;
    }
    let (sandbox, settings) = setup("openhands-nudge-budget").await;
    let work = tempfile::tempdir().unwrap();
    // Each run sleeps 120 s: the first ends with ~100 s left (enough for a nudge), the nudged one outlasts the budget.
    let (result, lines) =
        run_task(&sandbox, &settings, work.path(), "standin: sleep 120", Duration::from_secs(225)).await;
    let run = result.unwrap();
    println!("{}\n{lines:#?}", run.describe());
    assert_eq!((run.status.as_str(), run.nudges), ("budget", 1));
    assert!(run.describe().starts_with("was stopped by the time budget"), "{}", run.describe());
    assert_eq!(run.usage.calls, 1, "the first run's model call is still counted after the budget cut");
    assert!(run.events.events > 0, "the events were read before the conversation was deleted");
    assert!(containers_gone("openhands-nudge-budget").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker, the Python test image and the model server: scripts/test.sh runs it"]
async fn errors_stuck_runs_and_iteration_limits_are_told_apart() {
    if support::docker_missing() {
        return;
    }
    let (sandbox, settings) = setup("openhands-end").await;
    let work = tempfile::tempdir().unwrap();
    let budget = Duration::from_secs(300);
    match run_task(&sandbox, &settings, work.path(), "standin: error LLMServiceUnavailableError", budget).await.0 {
        Err(e @ OpenHandsError::Agent { .. }) => {
            assert!(e.is_retryable() && e.to_string().contains("LLMServiceUnavailableError"), "{e}");
        }
        other => panic!("expected the agent's error, got {other:?}"),
    }
    match run_task(&sandbox, &settings, work.path(), "standin: error LLMAuthenticationError", budget).await.0 {
        Err(e @ OpenHandsError::Agent { .. }) => assert!(!e.is_retryable(), "{e}"),
        other => panic!("expected the agent's error, got {other:?}"),
    }
    // Reaching the iteration limit or stopping as stuck still leaves a change for the tests to judge.
    let limit = run_task(&sandbox, &settings, work.path(), "standin: error MaxIterationsReached", budget).await.0;
    assert!(limit.unwrap().describe().starts_with("reached its iteration limit"));
    let stuck = run_task(&sandbox, &settings, work.path(), "standin: stuck", budget).await.0;
    assert_eq!(stuck.unwrap().status, "stuck");
    assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 0, "nothing was written");
    assert!(containers_gone("openhands-end").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker and the Python test image: scripts/test.sh runs it"]
async fn a_run_past_its_budget_is_interrupted_and_its_container_removed() {
    if support::docker_missing() {
        return;
    }
    let (sandbox, settings) = setup("openhands-slow").await;
    let work = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (result, _) = run_task(&sandbox, &settings, work.path(), "standin: sleep 600", Duration::from_secs(40)).await;
    assert!(matches!(result, Err(OpenHandsError::TimedOut { secs: 40 })), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(80), "{:?}", started.elapsed());
    assert!(containers_gone("openhands-slow").await, "the container is still there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker and the Python test image: scripts/test.sh runs it"]
async fn a_missing_image_says_how_to_build_it_and_is_not_retried() {
    if support::docker_missing() {
        return;
    }
    let (sandbox, settings) = setup("openhands-missing").await;
    let settings = OpenHandsSettings { image: "codingworker-test-no-such-image:0.0".into(), ..settings };
    let work = tempfile::tempdir().unwrap();
    let err = run_task(&sandbox, &settings, work.path(), "anything", Duration::from_secs(30)).await.0.unwrap_err();
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("scripts/openhands-image.sh"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker and the Python test image: scripts/test.sh runs it"]
async fn the_running_container_has_no_docker_socket_and_a_read_only_root() {
    if support::docker_missing() {
        return;
    }
    let (sandbox, settings) = setup("openhands-inspect").await;
    let settings = OpenHandsSettings { max_nudges: 0, ..settings };
    let work = tempfile::tempdir().unwrap();
    let inspect = async {
        // While the stand-in sleeps, read the container's configuration from the engine itself.
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let found = support::containers_labelled(WORKER_LABEL, "openhands-inspect").await;
            if let Some(id) = found.first() {
                let out = support::docker(&["inspect", id]).await;
                if out.status.success() {
                    return String::from_utf8(out.stdout).unwrap();
                }
            }
        }
    };
    let running = run_task(&sandbox, &settings, work.path(), "standin: sleep 20", Duration::from_secs(120));
    let (config, (result, _)) = tokio::join!(inspect, running);
    result.unwrap();
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    let container = &config[0];
    println!("{}", serde_json::to_string_pretty(&container["HostConfig"]).unwrap());
    assert!(!config.to_string().contains("docker.sock"), "no Docker socket anywhere in the container's config");
    assert_eq!(container["HostConfig"]["ReadonlyRootfs"], true);
    assert_eq!(container["HostConfig"]["CapDrop"], serde_json::json!(["ALL"]));
    assert_eq!(container["HostConfig"]["Binds"].as_array().unwrap().len(), 1, "only the worktree is mounted");
    assert_ne!(container["Config"]["User"], "", "not the image's (root) user");
}
