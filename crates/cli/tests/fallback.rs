//! The fallback chain through the real binary, against model servers on 127.0.0.1: a local model that fails
//! (wrong fix, or down) and a fallback that reports what each call cost, as OpenRouter does. The chain's
//! hand-over, the cost in the pull request, and the monthly spend cap.
//!
//! The real-model test (`#[ignore]`, run by the README's test command) puts the real Qwen2.5-Coder-1.5B behind a
//! proxy that adds the provider's `usage.cost`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use codingworker_store::TaskState;
use common::{DEMO_FIX, TestEnv, completion, serve_model_list, test_model};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// An edit that applies but leaves the demo's bug in place: the "local model" gets the task wrong. (A change of a
/// comment alone is no candidate at all, so it changes code.)
const WRONG_FIX: &str =
    "stats.py\n<<<<<<< SEARCH\n    return ordered[middle]\n=======\n    return ordered[middle] * 1\n>>>>>>> REPLACE\n";

/// Model calls of one attempt on the demo with a model that answers every request with a change: three
/// reproduction samples (the demo's suite fails on the base commit, and a reply without a test is dropped), then the
/// candidate.
const CALLS_PER_ATTEMPT: usize = 4;

/// A local model server that answers every request with a change that fails the tests.
async fn local_model_getting_it_wrong() -> MockServer {
    let server = MockServer::start().await;
    serve_model_list(&server).await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(WRONG_FIX)))
        .mount(&server)
        .await;
    server
}

/// A provider that answers with the fix and reports `cost` dollars per call in `usage.cost`.
async fn provider_reporting_cost(cost: f64) -> MockServer {
    let server = MockServer::start().await;
    let mut reply = completion(DEMO_FIX);
    reply["usage"]["cost"] = cost.into();
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(reply))
        .mount(&server)
        .await;
    server
}

/// Writes a config with fallback on, `fallback` as its only fallback model, and `cap` dollars a month.
fn enable_fallback(env: &TestEnv, fallback_url: &str, model: &str, cap: f64) {
    std::fs::write(
        &env.config,
        format!(
            "[fallback]\nenabled = true\nmonthly_spend_cap_usd = {cap}\nstep_time_budget_secs = 600\n\n\
             [[fallback.models]]\nname = \"provider\"\nbase_url = \"{fallback_url}\"\nmodel = \"{model}\"\n"
        ),
    )
    .unwrap();
}

async fn run_demo(env: &TestEnv, local_url: &str, issue: u64) -> (Option<i32>, String) {
    run_demo_with(env, local_url, issue, &[]).await
}

/// `codingworker run` on the demo issue numbered `issue`, with `extra` environment: its exit status and stderr.
async fn run_demo_with(env: &TestEnv, local_url: &str, issue: u64, extra: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = env.run_demo_command(local_url, "openai", issue);
    command.envs(extra.iter().copied());
    let out = tokio::time::timeout(Duration::from_secs(900), command.output())
        .await
        .expect("run finishes")
        .expect("run starts");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn only_task(env: &TestEnv, issue: u64) -> codingworker_store::TaskDetail {
    let store = env.store();
    let task = store.list_tasks(50).unwrap().into_iter().find(|t| t.issue_number == issue).expect("task recorded");
    store.task_detail(&task.task_id).unwrap().unwrap()
}

async fn chat_calls(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().iter().filter(|r| r.url.path() == "/v1/chat/completions").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_model_failing_the_tests_hands_over_and_the_pull_request_names_the_model_and_cost() {
    let env = TestEnv::new().await;
    let local = local_model_getting_it_wrong().await;
    let provider = provider_reporting_cost(0.0123).await;
    enable_fallback(&env, &provider.uri(), "big-coder", 5.0);

    let (code, stderr) = run_demo(&env, &local.uri(), 1).await;
    assert_eq!(code, Some(0), "{stderr}");
    let detail = only_task(&env, 1);
    assert_eq!(detail.task.state, TaskState::Succeeded);
    assert_eq!(detail.attempts.len(), 1, "one attempt: the hand-over happens inside it");
    let kinds: Vec<&str> = detail.events.iter().map(|e| e.kind.as_str()).collect();
    let gave_up = kinds.iter().position(|k| *k == "model_gave_up").expect("the local model gave up");
    let fallback = kinds.iter().position(|k| *k == "fallback").expect("fallback event");
    assert!(gave_up < fallback, "{kinds:?}");
    assert!(detail.events[gave_up].detail.contains("tests"), "{}", detail.events[gave_up].detail);
    assert_eq!(detail.attempts[0].model.as_deref(), Some("big-coder"));
    assert!((detail.attempts[0].cost_usd - 0.0123 * CALLS_PER_ATTEMPT as f64).abs() < 1e-9);
    let body = &detail.pull_request.as_ref().expect("a pull request").body;
    assert!(body.contains("Written by model `big-coder` (fallback `provider`)"), "{body}");
    assert!(body.contains("Cost of this attempt: $0.05"), "{body}");
    assert!(body.contains("Tried first: `qwen2.5-coder:1.5b` (local): its change failed the tests"), "{body}");
    assert!(chat_calls(&local).await >= 1 && chat_calls(&provider).await == CALLS_PER_ATTEMPT);
    assert!(env.pushed_branch_passes_tests().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_model_server_that_is_down_hands_over_at_once() {
    let env = TestEnv::new().await;
    let provider = provider_reporting_cost(0.002).await;
    enable_fallback(&env, &provider.uri(), "big-coder", 5.0);
    // Nothing listens there: the local server is down.
    let (code, stderr) = run_demo(&env, "http://127.0.0.1:9", 2).await;
    assert_eq!(code, Some(0), "{stderr}");
    let detail = only_task(&env, 2);
    assert_eq!(detail.task.state, TaskState::Succeeded);
    let gave_up = detail.events.iter().find(|e| e.kind == "model_gave_up").expect("the local model gave up");
    assert!(gave_up.detail.contains("did not answer"), "{}", gave_up.detail);
    let body = &detail.pull_request.as_ref().unwrap().body;
    assert!(body.contains("its server did not answer") && body.contains("$0.008000"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_off_keeps_to_the_local_model_and_costs_nothing() {
    let env = TestEnv::new().await;
    let local = local_model_getting_it_wrong().await;
    let provider = provider_reporting_cost(1.0).await;
    // Configured but not enabled: the default.
    std::fs::write(
        &env.config,
        format!("[[fallback.models]]\nname = \"provider\"\nbase_url = \"{}\"\nmodel = \"big-coder\"\n", provider.uri()),
    )
    .unwrap();
    let (code, _) = run_demo_with(&env, &local.uri(), 3, &[("CODINGWORKER_QUEUE_MAX_RECEIVES", "1")]).await;
    assert_eq!(code, Some(3), "the local model's change fails the tests: a draft for a human, not a fix");
    assert_eq!(only_task(&env, 3).task.state, TaskState::Draft);
    assert_eq!(chat_calls(&provider).await, 0, "no call to the paid model");
    let detail = only_task(&env, 3);
    assert_eq!(detail.attempts[0].cost_usd, 0.0);
    let body = &detail.pull_request.as_ref().expect("an unverified draft").body;
    assert!(body.contains("Written by model `qwen2.5-coder:1.5b` (local). Cost of this attempt: $0.00."), "{body}");
}

/// The provider reports $0.15 a call and the cap is $0.50: the first task's fallback calls (four) take the month
/// over the cap; the second task's chain stops at the local model, and its draft pull request and events say why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monthly_spend_cap_stops_the_chain_at_the_local_model_and_says_so() {
    let env = TestEnv::new().await;
    let local = local_model_getting_it_wrong().await;
    let provider = provider_reporting_cost(0.15).await;
    enable_fallback(&env, &provider.uri(), "big-coder", 0.5);

    let (code, stderr) = run_demo(&env, &local.uri(), 4).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(chat_calls(&provider).await, CALLS_PER_ATTEMPT);

    let (code, _) = run_demo_with(&env, &local.uri(), 5, &[("CODINGWORKER_QUEUE_MAX_RECEIVES", "1")]).await;
    assert_eq!(code, Some(3), "the local model's change fails the tests and the cap keeps the fallback out");
    assert_eq!(chat_calls(&provider).await, CALLS_PER_ATTEMPT, "no paid call past the cap");
    let detail = only_task(&env, 5);
    let capped = detail.events.iter().find(|e| e.kind == "fallback_capped").expect("the cap is recorded");
    assert!(capped.detail.contains("$0.50") && capped.detail.contains("$0.60 spent"), "{}", capped.detail);
    let body = &detail.pull_request.as_ref().expect("the local model's draft").body;
    assert!(body.contains("Fallback stopped: the monthly spend cap of $0.50"), "{body}");
    assert!(body.contains("($0.60 spent on models this month)"), "{body}");
    assert_eq!(detail.attempts[0].model.as_deref(), Some("qwen2.5-coder:1.5b"));
}

/// A proxy in front of a real model server that plays a hosted provider: it serves the model under the
/// provider's name (`PROVIDER_MODEL`), adds `usage.cost` to each answer, priced per token, and counts what it
/// charged.
struct CostReportingProxy {
    url: String,
    charged: Arc<Mutex<(usize, f64)>>,
}

impl CostReportingProxy {
    async fn start(
        upstream: String,
        upstream_model: String,
        usd_per_prompt_token: f64,
        usd_per_completion_token: f64,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let charged = Arc::new(Mutex::new((0usize, 0.0f64)));
        let tally = Arc::clone(&charged);
        let client = reqwest::Client::new();
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else { return };
                let (client, upstream, tally) = (client.clone(), upstream.clone(), Arc::clone(&tally));
                let upstream_model = upstream_model.clone();
                tokio::spawn(async move {
                    let Some((method, path, mut body)) = read_request(&mut stream).await else { return };
                    if let Ok(mut request) = serde_json::from_slice::<serde_json::Value>(&body)
                        && request.get("model").is_some()
                    {
                        request["model"] = upstream_model.clone().into();
                        body = request.to_string().into_bytes();
                    }
                    let url = format!("{upstream}{path}");
                    let request = if method == "POST" { client.post(url).body(body) } else { client.get(url) };
                    let Ok(response) = request.header("content-type", "application/json").send().await else { return };
                    let status = response.status().as_u16();
                    let mut text = response.text().await.unwrap_or_default();
                    if let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&text)
                        && let Some(usage) = value.get_mut("usage")
                    {
                        let prompt = usage["prompt_tokens"].as_f64().unwrap_or(0.0);
                        let completion = usage["completion_tokens"].as_f64().unwrap_or(0.0);
                        let cost = prompt * usd_per_prompt_token + completion * usd_per_completion_token;
                        usage["cost"] = cost.into();
                        let mut tally = tally.lock().unwrap();
                        tally.0 += 1;
                        tally.1 += cost;
                        text = value.to_string();
                    }
                    let head = format!(
                        "HTTP/1.1 {status} OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        text.len()
                    );
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(text.as_bytes()).await;
                });
            }
        });
        Self { url, charged }
    }
}

/// One HTTP/1.1 request: (method, path, body).
/// The name the proxy serves the real model under, as OpenRouter names its models.
const PROVIDER_MODEL: &str = "qwen/qwen-2.5-coder-1.5b-instruct";

async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<(String, String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).into_owned();
    let mut first = head.lines().next()?.split_whitespace();
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let length = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    while buffer.len() < header_end + length {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    Some((method, path, buffer[header_end..].to_vec()))
}

/// The must-show: a local model fails the task (its change fails the tests), the real Qwen2.5-Coder-1.5B behind
/// a provider that reports each call's cost solves it, and the pull request says which model wrote it and what
/// it cost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the real model server: scripts/test.sh starts it and sets CODINGWORKER_TEST_LLM_URL"]
async fn the_real_model_as_fallback_solves_what_the_local_model_failed_and_the_pull_request_shows_the_cost() {
    let (url, protocol, model) = test_model();
    assert_eq!(protocol, "openai", "the proxy speaks the OpenAI protocol");
    let env = TestEnv::new().await;
    let local = local_model_getting_it_wrong().await;
    // Priced like a mid-size hosted coder model: $0.20 per million prompt tokens, $0.60 per million completion.
    let provider = CostReportingProxy::start(url, model, 0.2e-6, 0.6e-6).await;
    enable_fallback(&env, &provider.url, PROVIDER_MODEL, 1.0);

    let (code, stderr) = run_demo(&env, &local.uri(), 7).await;
    let detail = only_task(&env, 7);
    let (calls, charged) = *provider.charged.lock().unwrap();
    let body = detail.pull_request.as_ref().map(|pr| pr.body.clone()).unwrap_or_default();
    println!("fallback must-show: {calls} paid call(s), ${charged:.6} charged; pull request body:\n{body}");
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(detail.task.state, TaskState::Succeeded);
    assert!(calls >= 1 && charged > 0.0);
    let recorded: f64 = detail.attempts.iter().map(|a| a.cost_usd).sum();
    assert!((recorded - charged).abs() < 1e-9, "the store has what the provider charged: {recorded} vs {charged}");
    assert!(body.contains(&format!("Written by model `{PROVIDER_MODEL}` (fallback `provider`)")), "{body}");
    assert!(body.contains("Tried first: `qwen2.5-coder:1.5b` (local): its change failed the tests"), "{body}");
    let last = detail.attempts.last().unwrap();
    assert!(
        body.contains(&format!("Cost of this attempt: {}", codingworker_worker::fallback::dollars(last.cost_usd))),
        "{body}"
    );
    assert!(env.pushed_branch_passes_tests().await);
}

/// A paid model is stopped mid-turn before a call that the month's spend no longer allows: its first answer
/// ($0.60, over the $0.50 cap) fails the tests, and its second round is never asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_model_is_stopped_before_a_call_past_the_cap() {
    let env = TestEnv::new().await;
    let local = local_model_getting_it_wrong().await;
    let provider = MockServer::start().await;
    let mut reply = completion(WRONG_FIX);
    reply["usage"]["cost"] = 0.6.into();
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(reply))
        .mount(&provider)
        .await;
    enable_fallback(&env, &provider.uri(), "big-coder", 0.5);
    let (code, _) = run_demo_with(&env, &local.uri(), 6, &[("CODINGWORKER_QUEUE_MAX_RECEIVES", "1")]).await;
    assert_eq!(code, Some(1), "dead-lettered");
    assert_eq!(chat_calls(&provider).await, 1, "the second round's call is not made");
    let detail = only_task(&env, 6);
    let capped = detail.events.iter().find(|e| e.kind == "fallback_capped").expect("the stop is recorded");
    assert!(capped.detail.contains("stopped big-coder") && capped.detail.contains("$0.50"), "{}", capped.detail);
    assert!((detail.attempts[0].cost_usd - 0.6).abs() < 1e-9, "the call made is counted");
    assert_eq!(detail.task.state, TaskState::DeadLettered);
}
