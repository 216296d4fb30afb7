//! The whole worker with the Docker sandbox, on the real engine and the real model: the built-in agent fixes the
//! demo with its tests running in a Python toolchain container. (The OpenHands backend: tests/openhands_e2e.rs.)
//!
//! Needs Docker, busybox-static, the Python test image (scripts/sandbox-test-image.sh) and the model server,
//! hence ignored; scripts/test.sh runs it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[path = "../../sandbox/tests/support/mod.rs"]
mod support;

use std::time::Duration;

use codingworker_store::TaskState;
use common::TestEnv;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker, the Python test image and the model server: scripts/test.sh runs it"]
async fn the_builtin_agent_runs_the_demo_tests_inside_the_sandbox() {
    if support::docker_missing() {
        return;
    }
    let (url, protocol, model) = common::test_model();
    let image = support::python_image().await;
    let mut env = TestEnv::new().await;
    env.extra_env.extend([
        ("CODINGWORKER_SANDBOX_MODE".to_owned(), "docker".to_owned()),
        ("CODINGWORKER_SANDBOX_IMAGE".to_owned(), image.to_owned()),
        ("CODINGWORKER_LLM_MODEL".to_owned(), model),
        ("CODINGWORKER_LLM_MAX_RETRIES".to_owned(), "2".to_owned()),
        ("CODINGWORKER_QUEUE_VISIBILITY_TIMEOUT_SECS".to_owned(), "600".to_owned()),
    ]);
    let out = tokio::time::timeout(Duration::from_secs(1800), env.run_demo_command(&url, &protocol, 1).output())
        .await
        .expect("the run finishes within 30 minutes")
        .expect("run starts");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "run failed:\n{}\n{stderr}", String::from_utf8_lossy(&out.stdout));

    let task_id = env.store().list_tasks(1).unwrap()[0].task_id.clone();
    let detail = env.detail(&task_id);
    assert_eq!(detail.task.state, TaskState::Succeeded);
    assert!(detail.pull_request.as_ref().is_some_and(|pr| pr.verified));
    assert!(env.pushed_branch_passes_tests().await, "the pushed branch passes the demo's tests on the host too");
    let started = detail.events.iter().find(|e| e.kind == "sandbox_started").expect("a sandbox_started event");
    assert!(started.detail.contains(image), "{}", started.detail);
    // The tests' own output, streamed from the container into the attempt log.
    let log = std::fs::read_to_string(env.data_dir.join("logs").join(format!("{task_id}.log"))).unwrap();
    let streamed: Vec<&str> = log.lines().filter(|l| l.contains("codingworker::output")).collect();
    assert!(streamed.iter().any(|l| l.contains("Ran ")), "unittest's summary is in the log:\n{log}");
    println!("sandbox: {}\nstreamed lines: {}", started.detail, streamed.len());
    assert!(support::attempt_containers_of(&task_id).await.is_empty(), "the attempt's container is gone");
}

/// A test that loops forever, run inside the sandbox: the base run is killed at its limit inside the container
/// (which stays usable), the suite runs again with a per-test limit, the hanging test fails alone, and the scripted
/// fix is judged `fixed` by it. The model is scripted: this is about processes in the container, not the model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker and the Python test image: scripts/test.sh runs it"]
async fn a_hanging_test_inside_the_sandbox_fails_alone() {
    if support::docker_missing() {
        return;
    }
    let image = support::python_image().await;
    let loop_py = "def countdown(n):\n    while n != 0:\n        n -= 1\n    return \"done\"\n";
    let test_py = "import unittest\n\nfrom loop import countdown\n\n\nclass LoopTest(unittest.TestCase):\n    \
                   def test_positive(self):\n        self.assertEqual(countdown(3), \"done\")\n\n    \
                   def test_negative(self):\n        self.assertEqual(countdown(-1), \"done\")\n";
    let fix = "loop.py\n<<<<<<< SEARCH\n    while n != 0:\n=======\n    while n > 0:\n>>>>>>> REPLACE\n";
    let model = common::model_answering(fix).await;
    let mut env = TestEnv::with_files(&[("loop.py", loop_py), ("test_loop.py", test_py)]).await;
    env.extra_env.extend([
        ("CODINGWORKER_SANDBOX_MODE".to_owned(), "docker".to_owned()),
        ("CODINGWORKER_SANDBOX_IMAGE".to_owned(), image.to_owned()),
        ("CODINGWORKER_AGENT_TEST_TIMEOUT_SECS".to_owned(), "8".to_owned()),
        ("CODINGWORKER_QUEUE_VISIBILITY_TIMEOUT_SECS".to_owned(), "600".to_owned()),
    ]);
    let mut command = env.command(&model.uri(), "openai");
    command.args(["run", "--repo"]).arg(&env.remote).args([
        "--name",
        "acme/loop",
        "--issue",
        "4",
        "--title",
        "countdown(-1) never returns",
        "--body",
        "It hangs forever.",
    ]);
    let out = tokio::time::timeout(Duration::from_secs(300), command.output()).await.expect("finishes").unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let task_id = env.store().list_tasks(1).unwrap()[0].task_id.clone();
    let detail = env.detail(&task_id);
    let stopped: Vec<&str> =
        detail.events.iter().filter(|e| e.kind == "tests_stopped").map(|e| e.detail.as_str()).collect();
    assert!(stopped.iter().any(|s| s.contains("did not finish in 8 s")), "{stopped:?}");
    assert_eq!(detail.attempts[0].verdict.as_deref(), Some("fixed"), "{:?}", detail.events);
    assert!(support::attempt_containers_of(&task_id).await.is_empty(), "the attempt's container is gone");
}
