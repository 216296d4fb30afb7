//! Dependency faults through the real binary: a model server that is down when the daemon starts and comes back
//! later. The daemon keeps running, takes no task meanwhile (none loses an attempt), says so once, and does the
//! task when the server answers. (The queue outage, against moto through a switchable proxy, is in sqs_moto.rs.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use codingworker_store::TaskState;
use common::{CollectingWorker, DEMO_FIX, TestEnv, completion};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_server_outage_holds_tasks_back_without_burning_attempts() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let env = TestEnv::new().await;
    let task_id = env.submit_demo(&url).await;
    let mut command = env.command(&url, "openai");
    command.env("CODINGWORKER_QUEUE_VISIBILITY_TIMEOUT_SECS", "600").arg("worker");
    let worker = CollectingWorker::spawn(command);

    worker.wait_for_line("does not answer", Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let detail = env.detail(&task_id);
    assert_eq!((detail.task.state, detail.attempts.len()), (TaskState::Queued, 0), "no attempt while it is down");
    assert_eq!(worker.lines_with("does not answer").len(), 1, "one line per outage, not one per check");
    assert!(worker.child.id().is_some(), "the daemon keeps running");

    // The server comes back on the same address.
    let server =
        MockServer::builder().listener(std::net::TcpListener::bind(("127.0.0.1", port)).unwrap()).start().await;
    common::serve_model_list(&server).await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(DEMO_FIX)))
        .mount(&server)
        .await;
    worker.wait_for_line("answers again", Duration::from_secs(90)).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while env.detail(&task_id).task.state != TaskState::Succeeded {
        assert!(std::time::Instant::now() < deadline, "{:?}", env.detail(&task_id).events);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let detail = env.detail(&task_id);
    assert_eq!(detail.attempts.len(), 1, "the outage cost no attempt");
    println!("the worker said: {}", worker.lines_with("does not answer")[0]);
    println!("and then: {}", worker.lines_with("answers again")[0]);
    worker.stop().await;
}
