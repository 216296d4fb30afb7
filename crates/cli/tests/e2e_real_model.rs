//! End to end with the real model: the demo issue goes through `codingworker run` (queue, worker, agent, git,
//! local forge) against a real model server, and the pushed branch must pass the demo's tests.
//!
//! Needs a model server: `scripts/test.sh` starts one and runs this with `--include-ignored`; by hand:
//! `eval "$(scripts/model-server.sh)"; CODINGWORKER_TEST_LLM_URL=$CODINGWORKER_LLM_BASE_URL cargo test -p codingworker-cli --test e2e_real_model -- --ignored`

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use codingworker_store::TaskState;
use common::TestEnv;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a real model server (CODINGWORKER_TEST_LLM_URL); scripts/test.sh runs it"]
async fn the_real_model_fixes_the_demo_bug_and_the_branch_passes_its_tests() {
    let (url, protocol, model) = common::test_model();
    let env = TestEnv::new().await;

    let started = Instant::now();
    let out = tokio::time::timeout(
        Duration::from_secs(1800),
        env.run_demo_command(&url, &protocol, 1)
            .env("CODINGWORKER_LLM_MODEL", &model)
            .env("CODINGWORKER_LLM_MAX_RETRIES", "2")
            .env("CODINGWORKER_AGENT_TEMPERATURE", "0")
            // Real model calls are slow; never let the message reappear mid-task.
            .env("CODINGWORKER_QUEUE_VISIBILITY_TIMEOUT_SECS", "600")
            .output(),
    )
    .await
    .expect("the run finishes within 30 minutes")
    .expect("run starts");
    let wall = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(out.status.success(), "run failed\nstdout:\n{stdout}\nstderr:\n{stderr}");

    let tasks = env.store().list_tasks(10).expect("tasks");
    let detail = env.detail(&tasks[0].task_id);
    assert_eq!(detail.task.state, TaskState::Succeeded);
    let pr = detail.pull_request.clone().expect("pull request recorded");
    assert!(pr.verified, "the fix must be verified by the tests");
    assert!(env.pushed_branch_passes_tests().await, "the pushed branch passes the demo's tests");
    let calls: u32 = detail.attempts.iter().map(|a| a.llm_calls).sum();
    let prompt: u64 = detail.attempts.iter().map(|a| a.prompt_tokens).sum();
    let completion: u64 = detail.attempts.iter().map(|a| a.completion_tokens).sum();
    assert!(calls >= 1 && prompt > 0 && completion > 0);
    println!(
        "real model run: wall {:.1}s, attempts {}, LLM calls {calls}, prompt tokens {prompt}, completion tokens {completion}",
        wall.as_secs_f64(),
        detail.attempts.len()
    );
}
