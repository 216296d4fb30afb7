//! The SQS path through the real binary against moto's SQS: a message built by the GitHub Actions workflow's
//! script is worked to a pushed branch and deleted; a task that fails every attempt lands in the dead-letter queue
//! with its reason; a worker killed mid-task leaves the message to come back to a restarted worker.
//!
//! Needs moto (`scripts/test.sh` starts it on 127.0.0.1 and sets CODINGWORKER_TEST_SQS_ENDPOINT), hence ignored
//! in a plain `cargo test`; the README's test command runs them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use codingworker_store::{AttemptStatus, TaskState};
use common::{DEMO_FIX, TestEnv, demo_issue, model_answering, model_hanging_once_then};

fn moto_endpoint() -> String {
    std::env::var("CODINGWORKER_TEST_SQS_ENDPOINT")
        .expect("CODINGWORKER_TEST_SQS_ENDPOINT is not set: run scripts/test.sh, which starts moto on 127.0.0.1")
}

fn client(endpoint: &str) -> Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .endpoint_url(endpoint)
        .build();
    Client::from_conf(config)
}

/// A project queue as infra/modules/project makes it: SSE, and a dead-letter queue after 3 receives.
struct ProjectQueue {
    client: Client,
    url: String,
    dead_letter_url: String,
}

impl ProjectQueue {
    async fn create(endpoint: &str) -> ProjectQueue {
        let client = client(endpoint);
        let name = format!(
            "codingworker-test-{}-{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
        );
        let dead_letter_url = client
            .create_queue()
            .queue_name(format!("{name}-dlq"))
            .attributes(QueueAttributeName::SqsManagedSseEnabled, "true")
            .send()
            .await
            .expect("create the dead-letter queue in moto")
            .queue_url
            .unwrap();
        let dead_letter_arn = client
            .get_queue_attributes()
            .queue_url(&dead_letter_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap()
            .remove(&QueueAttributeName::QueueArn)
            .unwrap();
        let redrive = serde_json::json!({"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": 3}).to_string();
        let url = client
            .create_queue()
            .queue_name(&name)
            .attributes(QueueAttributeName::SqsManagedSseEnabled, "true")
            .attributes(QueueAttributeName::RedrivePolicy, redrive)
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        ProjectQueue { client, url, dead_letter_url }
    }

    /// The settings a worker on the user's machine would have, pointed at moto, isolated from any ~/.aws.
    fn worker_env(&self, endpoint: &str, scratch: &Path) -> Vec<(String, String)> {
        for empty in ["aws-config", "aws-credentials"] {
            std::fs::write(scratch.join(empty), "").unwrap();
        }
        [
            ("CODINGWORKER_QUEUE_BACKEND", "sqs".to_owned()),
            ("CODINGWORKER_QUEUE_SQS_QUEUE_URLS", self.url.clone()),
            ("CODINGWORKER_AWS_ENDPOINT_URL", endpoint.to_owned()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            ("AWS_CONFIG_FILE", scratch.join("aws-config").display().to_string()),
            ("AWS_SHARED_CREDENTIALS_FILE", scratch.join("aws-credentials").display().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// (visible, in flight) in the task queue and visible in the dead-letter queue.
    async fn counts(&self) -> (u64, u64, u64) {
        let read = |url: String| {
            let client = self.client.clone();
            async move {
                let attributes = client
                    .get_queue_attributes()
                    .queue_url(url)
                    .attribute_names(QueueAttributeName::All)
                    .send()
                    .await
                    .unwrap()
                    .attributes
                    .unwrap();
                let get = |name: QueueAttributeName| attributes[&name].parse::<u64>().unwrap();
                (
                    get(QueueAttributeName::ApproximateNumberOfMessages),
                    get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
                )
            }
        };
        let (visible, in_flight) = read(self.url.clone()).await;
        let (dead, _) = read(self.dead_letter_url.clone()).await;
        (visible, in_flight, dead)
    }
}

/// Runs the workflow's message builder on an `issues.labeled` event for the demo repository, as the workflow
/// does, and returns the message it prints.
async fn message_from_the_workflow_script(env: &TestEnv) -> serde_json::Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut event: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("integrations/github-actions/testdata/issues.labeled.json")).unwrap(),
    )
    .unwrap();
    // The event is for the local stand-in of the repository: its clone URL and the demo issue.
    let (title, body) = demo_issue();
    event["repository"]["clone_url"] = env.remote.display().to_string().into();
    event["issue"]["title"] = title.into();
    event["issue"]["body"] = body.into();
    let event_path = env.dir.path().join("event.json");
    std::fs::write(&event_path, event.to_string()).unwrap();
    let out = tokio::process::Command::new("python3")
        .arg(root.join("integrations/github-actions/codingworker-message.py"))
        .env("GITHUB_EVENT_PATH", &event_path)
        .env("GITHUB_RUN_ID", "777")
        .env("GITHUB_RUN_ATTEMPT", "1")
        .env("SENDER_PERMISSION", "write")
        .output()
        .await
        .expect("python3 runs the message builder");
    assert!(out.status.success(), "the builder refused: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the builder prints JSON")
}

async fn send_like_the_workflow(env: &TestEnv, queue: &ProjectQueue) -> (String, String) {
    let message = message_from_the_workflow_script(env).await;
    let body = message.to_string();
    queue.client.send_message().queue_url(&queue.url).message_body(&body).send().await.unwrap();
    (message["task_id"].as_str().unwrap().to_owned(), body)
}

async fn sqs_env(endpoint: &str) -> (TestEnv, ProjectQueue) {
    let mut env = TestEnv::new().await;
    let queue = ProjectQueue::create(endpoint).await;
    env.extra_env = queue.worker_env(endpoint, env.dir.path());
    (env, queue)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: scripts/test.sh starts it and sets CODINGWORKER_TEST_SQS_ENDPOINT"]
async fn a_message_sent_like_the_workflow_is_worked_to_a_pushed_branch_and_deleted() {
    let endpoint = moto_endpoint();
    let (mut env, queue) = sqs_env(&endpoint).await;
    let log_group = format!("/codingworker/test-{}", queue.url.rsplit('/').next().unwrap());
    let logs = logs_client(&endpoint);
    logs.create_log_group().log_group_name(&log_group).send().await.expect("create the log group in moto");
    env.extra_env.push(("CODINGWORKER_METRICS_CLOUDWATCH_LOG_GROUP".into(), log_group.clone()));
    let server = model_answering(DEMO_FIX).await;
    let (task_id, _) = send_like_the_workflow(&env, &queue).await;

    let stderr = env.work_until_idle(&server.uri()).await;
    assert!(stderr.contains(&format!("sqs:{}", queue.url)), "the worker says which queue it serves: {stderr}");
    let detail = env.detail(&task_id);
    assert_eq!(detail.task.state, TaskState::Succeeded, "events: {:?}", detail.events);
    assert!(detail.events.iter().any(|e| e.kind == "received" && e.detail.contains("attempt 1 of 3")));
    assert!(env.pushed_branch_passes_tests().await, "the pushed branch must pass the demo's tests");
    assert_eq!(queue.counts().await, (0, 0, 0), "the message is deleted once the outcome is recorded");

    // The worker's metrics reached CloudWatch Logs as EMF lines: a heartbeat, one task started and succeeded.
    let events = logs.filter_log_events().log_group_name(&log_group).send().await.unwrap().events.unwrap_or_default();
    let lines: Vec<serde_json::Value> = events
        .iter()
        .map(|e| serde_json::from_str(e.message().unwrap()).expect("each event is an EMF JSON line"))
        .collect();
    let total = |name: &str| lines.iter().map(|l| l[name].as_u64().unwrap_or(0)).sum::<u64>();
    assert!(total("Heartbeat") >= 1, "{lines:?}");
    assert_eq!((total("TasksStarted"), total("TasksSucceeded"), total("TasksFailed")), (1, 1, 0), "{lines:?}");
    assert!(lines.iter().all(|l| l["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "CodingWorker"));
}

fn logs_client(endpoint: &str) -> aws_sdk_cloudwatchlogs::Client {
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_cloudwatchlogs::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_cloudwatchlogs::Client::from_conf(config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: scripts/test.sh starts it and sets CODINGWORKER_TEST_SQS_ENDPOINT"]
async fn a_task_failing_three_times_lands_in_the_dead_letter_queue_with_its_reason() {
    let endpoint = moto_endpoint();
    let (env, queue) = sqs_env(&endpoint).await;
    let server = model_answering("I am not sure what you mean. Could you share more details?").await;
    let (task_id, body) = send_like_the_workflow(&env, &queue).await;

    env.work_until_idle(&server.uri()).await;
    let detail = env.detail(&task_id);
    assert_eq!(detail.task.state, TaskState::DeadLettered, "events: {:?}", detail.events);
    assert_eq!(detail.attempts.len(), 3, "three receives, three attempts");
    assert!(detail.attempts.iter().all(|a| a.status == AttemptStatus::Failed));
    assert_eq!(queue.counts().await, (0, 0, 1));

    // Nothing lost: the dead-letter copy is the message as sent, with the reason and the attempt count.
    let parked = queue
        .client
        .receive_message()
        .queue_url(&queue.dead_letter_url)
        // A peek: hidden for 0 s, so `status` below sees it too.
        .visibility_timeout(0)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].body(), Some(body.as_str()));
    let attributes: HashMap<String, String> = parked[0]
        .message_attributes()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.string_value().unwrap_or_default().to_owned()))
        .collect();
    let last_error = detail.task.last_error.expect("the store keeps the last failure");
    assert!(attributes["codingworker.reason"].contains(&last_error), "{attributes:?} vs {last_error}");
    assert_eq!(attributes["codingworker.receive_count"], "3");

    // `status` reads the same dead letter back.
    let out = env.command(&server.uri(), "openai").args(["status", "--json"]).output().await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["queues"][0]["dead"], 1);
    assert!(status["dead_letters"][0]["reason"].as_str().unwrap().contains("failed 3 times"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: scripts/test.sh starts it and sets CODINGWORKER_TEST_SQS_ENDPOINT"]
async fn a_worker_killed_mid_task_leaves_the_message_for_a_restarted_worker() {
    let endpoint = moto_endpoint();
    let (env, queue) = sqs_env(&endpoint).await;
    let server = model_hanging_once_then(DEMO_FIX).await;
    let url = server.uri();
    let (task_id, _) = send_like_the_workflow(&env, &queue).await;

    let mut first = env.command(&url, "openai").arg("worker").spawn().expect("worker starts");
    env.wait_for_event(&task_id, "model_call").await;
    first.kill().await.expect("SIGKILL the worker");
    assert_eq!(queue.counts().await, (0, 1, 0), "the dead worker's message is in flight, not lost");

    // Once the visibility timeout (2 s) passes without a heartbeat, SQS hands the message to the new worker.
    env.work_until_idle(&url).await;
    let detail = env.detail(&task_id);
    assert_eq!(detail.task.state, TaskState::Succeeded, "events: {:?}", detail.events);
    let statuses: Vec<AttemptStatus> = detail.attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, vec![AttemptStatus::Interrupted, AttemptStatus::Succeeded]);
    assert!(detail.events.iter().any(|e| e.kind == "received" && e.detail.contains("attempt 2 of 3")));
    assert!(env.pushed_branch_passes_tests().await);
    assert_eq!(queue.counts().await, (0, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: scripts/test.sh starts it and sets CODINGWORKER_TEST_SQS_ENDPOINT"]
async fn a_repository_off_the_allowlist_is_parked_at_once_without_burning_retries() {
    let endpoint = moto_endpoint();
    let (mut env, queue) = sqs_env(&endpoint).await;
    env.extra_env.push(("CODINGWORKER_QUEUE_ALLOWED_REPOSITORIES".into(), r#"["someone-else/*"]"#.into()));
    let server = model_answering(DEMO_FIX).await;
    let (_, body) = send_like_the_workflow(&env, &queue).await;

    env.work_until_idle(&server.uri()).await;
    let chats = server.received_requests().await.unwrap();
    assert!(
        !chats.iter().any(|r| r.url.path().ends_with("/chat/completions")),
        "no model call for a refused repository"
    );
    assert_eq!(queue.counts().await, (0, 0, 1), "acknowledged here, parked there");
    let parked = queue
        .client
        .receive_message()
        .queue_url(&queue.dead_letter_url)
        .message_attribute_names("All")
        .send()
        .await
        .unwrap()
        .messages
        .unwrap();
    assert_eq!(parked[0].body(), Some(body.as_str()));
    let reason = parked[0].message_attributes().unwrap()["codingworker.reason"].string_value().unwrap().to_owned();
    assert!(reason.contains("queue.allowed_repositories"), "{reason}");
    assert_eq!(parked[0].message_attributes().unwrap()["codingworker.receive_count"].string_value(), Some("1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: scripts/test.sh starts it and sets CODINGWORKER_TEST_SQS_ENDPOINT"]
async fn one_worker_serves_one_queue_per_project() {
    let endpoint = moto_endpoint();
    let (mut env, first) = sqs_env(&endpoint).await;
    let second = ProjectQueue::create(&endpoint).await;
    let urls = serde_json::json!([first.url, second.url]).to_string();
    env.extra_env.push(("CODINGWORKER_QUEUE_SQS_QUEUE_URLS".into(), urls));
    let server = model_answering(DEMO_FIX).await;
    let (first_task, _) = send_like_the_workflow(&env, &first).await;
    // A second issue of the same repository, queued on the second project's queue.
    let mut message = message_from_the_workflow_script(&env).await;
    message["task_id"] = "gh-second-project-1".into();
    message["issue"]["number"] = 2.into();
    second.client.send_message().queue_url(&second.url).message_body(message.to_string()).send().await.unwrap();

    let stderr = env.work_until_idle(&server.uri()).await;
    assert!(stderr.contains(&first.url) && stderr.contains(&second.url), "both queues are served: {stderr}");
    for task in [first_task.as_str(), "gh-second-project-1"] {
        assert_eq!(env.detail(task).task.state, TaskState::Succeeded, "{task}");
    }
    assert_eq!(first.counts().await, (0, 0, 0));
    assert_eq!(second.counts().await, (0, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: scripts/test.sh starts it and sets CODINGWORKER_TEST_SQS_ENDPOINT"]
async fn a_wrong_queue_url_stops_start_up_with_what_to_check() {
    let endpoint = moto_endpoint();
    let (mut env, queue) = sqs_env(&endpoint).await;
    let missing = format!("{}-missing", queue.url);
    env.extra_env.push(("CODINGWORKER_QUEUE_SQS_QUEUE_URLS".into(), missing.clone()));
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        env.command("http://127.0.0.1:9", "openai").args(["worker", "--once"]).output(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&missing) && stderr.contains("credentials"), "{stderr}");
}

/// A TCP proxy to moto that can be switched off: while off, every connection is dropped at once, as when the
/// network is down.
struct SwitchableProxy {
    url: String,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl SwitchableProxy {
    async fn to(endpoint: &str) -> SwitchableProxy {
        let target = endpoint.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let switch = std::sync::Arc::clone(&up);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !switch.load(std::sync::atomic::Ordering::SeqCst) {
                    continue; // dropped: the client sees the connection reset
                }
                let target = target.clone();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        SwitchableProxy { url, up }
    }

    fn set(&self, up: bool) {
        self.up.store(up, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: scripts/test.sh starts it and sets CODINGWORKER_TEST_SQS_ENDPOINT"]
async fn a_queue_outage_is_waited_out_with_one_line_and_nothing_is_lost() {
    let endpoint = moto_endpoint();
    let proxy = SwitchableProxy::to(&endpoint).await;
    let mut env = TestEnv::new().await;
    let queue = ProjectQueue::create(&endpoint).await;
    env.extra_env = queue.worker_env(&proxy.url, env.dir.path());
    let server = model_answering(DEMO_FIX).await;
    let mut command = env.command(&server.uri(), "openai");
    command.env("CODINGWORKER_QUEUE_WAIT_SECS", "1").arg("worker");
    let worker = common::CollectingWorker::spawn(command);
    worker.wait_for_line("worker started", Duration::from_secs(30)).await;

    // Down for a while: longer than the old give-up point would have allowed to stay quiet.
    proxy.set(false);
    worker.wait_for_line("does not answer", Duration::from_secs(30)).await;
    let (task_id, _) = send_like_the_workflow(&env, &queue).await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(worker.lines_with("does not answer").len(), 1, "one line for the outage");
    assert!(env.store().task_detail(&task_id).unwrap().is_none(), "nothing was received during the outage");

    proxy.set(true);
    worker.wait_for_line("answers again", Duration::from_secs(90)).await;
    env.wait_for_event(&task_id, "acknowledged").await;
    let detail = env.detail(&task_id);
    assert_eq!((detail.task.state, detail.attempts.len()), (TaskState::Succeeded, 1), "{:?}", detail.events);
    assert_eq!(queue.counts().await, (0, 0, 0));
    println!("{}\n{}", worker.lines_with("does not answer")[0], worker.lines_with("answers again")[0]);
    worker.stop().await;
}

/// Two busy projects on their own moto queues, one slot for both: the worker takes their tasks in turns, each
/// project with its own settings, and the malformed messages parked in one project's dead-letter queue hold
/// nothing up. Prints the order and the waits (the fairness figures of docs/operations.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: scripts/test.sh starts it and sets CODINGWORKER_TEST_SQS_ENDPOINT"]
async fn two_busy_projects_are_served_in_turns_and_one_projects_dead_letters_block_nothing() {
    const PER_PROJECT: usize = 8;
    let endpoint = moto_endpoint();
    let (mut env, alpha) = sqs_env(&endpoint).await;
    let beta = ProjectQueue::create(&endpoint).await;
    env.extra_env.retain(|(name, _)| name != "CODINGWORKER_QUEUE_SQS_QUEUE_URLS");
    env.extra_env.push(("CODINGWORKER_AGENT_TEST_COMMAND".into(), "[\"python3\", \"-m\", \"unittest\"]".into()));
    std::fs::write(
        &env.config,
        format!(
            "[queue]\nconcurrency = 1\n\n[[projects]]\nname = \"alpha\"\nqueue_url = \"{}\"\n\
             allowed_repositories = [\"acme-tools/*\"]\n\n[[projects]]\nname = \"beta\"\nqueue_url = \"{}\"\n\
             test_command = [\"python3\", \"-m\", \"unittest\", \"-v\"]\n",
            alpha.url, beta.url
        ),
    )
    .unwrap();
    let server = model_answering(DEMO_FIX).await;
    let template = message_from_the_workflow_script(&env).await;
    let mut project_of = HashMap::new();
    // Both backlogs are queued before the worker starts, so both projects are busy from the first receive on.
    // Each project its own issues: two requests for one issue would be one request and its duplicate.
    for (name, queue, first_issue) in [("alpha", &alpha, 100), ("beta", &beta, 200)] {
        for i in 0..PER_PROJECT {
            let mut message = template.clone();
            let task_id = format!("gh-{name}-{i}");
            message["task_id"] = task_id.clone().into();
            message["issue"]["number"] = (first_issue + i).into();
            queue.client.send_message().queue_url(&queue.url).message_body(message.to_string()).send().await.unwrap();
            project_of.insert(task_id, name);
        }
    }
    for junk in ["not json", "{\"version\": 1}"] {
        alpha.client.send_message().queue_url(&alpha.url).message_body(junk).send().await.unwrap();
    }

    let started = std::time::Instant::now();
    let stderr = env.work_until_idle(&server.uri()).await;
    let wall = started.elapsed();
    assert!(stderr.contains("serving 2 projects"), "{stderr}");

    let store = env.store();
    let mut starts = Vec::new();
    for (task_id, project) in &project_of {
        let detail = store.task_detail(task_id).unwrap().expect("every task was worked");
        assert_eq!(detail.task.state, TaskState::Succeeded, "{task_id}: {:?}", detail.task.last_error);
        assert_eq!(detail.task.project, *project);
        let verdict = detail.events.iter().find(|e| e.kind == "verdict").expect("verdict event");
        assert!(verdict.detail.starts_with("fixed"), "{task_id}: {}", verdict.detail);
        let baseline = detail.events.iter().find(|e| e.kind == "running").expect("the base commit's test run");
        let own_command = if *project == "beta" { "unittest -v" } else { "unittest`" };
        assert!(baseline.detail.contains(own_command), "{task_id} ran its project's tests: {}", baseline.detail);
        let attempt = &detail.attempts[0];
        starts.push((attempt.started_at, attempt.finished_at.unwrap(), *project));
    }
    starts.sort();
    let order: String = starts.iter().map(|(_, _, p)| if *p == "alpha" { 'A' } else { 'B' }).collect();
    let longest_run = order.as_bytes().chunk_by(|a, b| a == b).map(<[u8]>::len).max().unwrap_or(0);
    let first = starts[0].0;
    for project in ["alpha", "beta"] {
        let mut waits: Vec<f64> = starts
            .iter()
            .filter(|(_, _, p)| *p == project)
            .map(|(start, _, _)| (*start - first).num_milliseconds() as f64 / 1000.0)
            .collect();
        waits.sort_by(f64::total_cmp);
        let finished = starts.iter().filter(|(_, _, p)| *p == project).map(|(_, end, _)| *end).max().unwrap();
        println!(
            "fairness: project {project}: {} tasks, started at {:?} s after the first start, last one done at {:.1} s",
            waits.len(),
            waits,
            (finished - first).num_milliseconds() as f64 / 1000.0
        );
    }
    println!(
        "fairness: start order {order} (A = alpha, B = beta), longest run of one project {longest_run}, \
         {} tasks in {:.1} s",
        starts.len(),
        wall.as_secs_f64()
    );
    assert!(longest_run <= 2, "the projects take turns: {order}");
    let first_half = &order[..PER_PROJECT];
    assert!(
        first_half.matches('A').count() >= PER_PROJECT / 2 - 1
            && first_half.matches('B').count() >= PER_PROJECT / 2 - 1,
        "neither project waits for the other's backlog: {order}"
    );
    // The malformed messages went to alpha's own dead-letter queue; beta's is empty, and both queues are drained.
    assert_eq!(alpha.counts().await, (0, 0, 2));
    assert_eq!(beta.counts().await, (0, 0, 0));
}

/// A project whose queue fails for good (deleted under the running worker) stops alone: the worker says so once
/// and goes on serving the other project.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: scripts/test.sh starts it and sets CODINGWORKER_TEST_SQS_ENDPOINT"]
async fn a_project_whose_queue_is_deleted_stops_alone_and_the_other_is_still_served() {
    let endpoint = moto_endpoint();
    let (mut env, doomed) = sqs_env(&endpoint).await;
    let healthy = ProjectQueue::create(&endpoint).await;
    env.extra_env.retain(|(name, _)| name != "CODINGWORKER_QUEUE_SQS_QUEUE_URLS");
    std::fs::write(
        &env.config,
        format!(
            "[[projects]]\nname = \"doomed\"\nqueue_url = \"{}\"\n\n[[projects]]\nname = \"healthy\"\nqueue_url = \"{}\"\n",
            doomed.url, healthy.url
        ),
    )
    .unwrap();
    let server = model_answering(DEMO_FIX).await;
    let mut worker = common::CollectingWorker::spawn({
        let mut command = env.command(&server.uri(), "openai");
        command.arg("worker");
        command
    });
    worker.wait_for_line("serving 2 projects", Duration::from_secs(60)).await;
    doomed.client.delete_queue().queue_url(&doomed.url).send().await.unwrap();
    let line = worker.wait_for_line("project doomed is no longer served", Duration::from_secs(60)).await;
    assert!(line.contains("the other projects go on"), "{line}");

    let (task_id, _) = send_like_the_workflow(&env, &healthy).await;
    env.wait_for_event(&task_id, "acknowledged").await;
    assert_eq!(env.detail(&task_id).task.state, TaskState::Succeeded);
    assert_eq!(env.detail(&task_id).task.project, "healthy");
    assert_eq!(worker.lines_with("is no longer served").len(), 1, "said once");
    worker.child.kill().await.unwrap();
}
