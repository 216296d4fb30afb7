//! The dashboard in a real browser: headless Chromium driven through chromedriver (fantoccini), against the real
//! server with a store holding a task in every state. It checks what a user sees, retries the draft task with the
//! button, and saves screenshots (see `screenshots_dir`).
//!
//! Needs Debian's `chromium` and `chromium-driver`, hence ignored; scripts/test.sh runs it (.ci/run installs them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use codingworker_protocol::{Overrides, local_task_message};
use codingworker_queue::{Queue, SqliteQueue, SqliteQueueOptions};
use codingworker_store::{AttemptFinish, AttemptStatus, NewPullRequest, NewTask, Store, TaskState};
use codingworker_worker::{Config, DataPaths, build_services};
use fantoccini::{ClientBuilder, Locator};

const STATES: [TaskState; 7] = [
    TaskState::Queued,
    TaskState::Running,
    TaskState::Retrying,
    TaskState::Succeeded,
    TaskState::Draft,
    TaskState::DeadLettered,
    TaskState::Rejected,
];

/// Where the screenshots go: `CODINGWORKER_SCREENSHOTS_DIR` (docs/screenshots holds the committed ones, made with
/// `CODINGWORKER_SCREENSHOTS_DIR=$PWD/docs/screenshots cargo test -p codingworker-web --test browser -- --ignored`),
/// else a directory under the system's temporary directory, so a test run leaves the checkout clean.
fn screenshots_dir() -> PathBuf {
    std::env::var_os("CODINGWORKER_SCREENSHOTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("codingworker-screenshots"))
}

/// Records one task in `state` the way the worker would have, with attempts, usage, a branch and a pull request
/// where the state has them.
/// What the seeded attempts' tests showed: the fixed task, a draft that breaks nothing but shows no fix, and one
/// whose tests fail.
fn verdict_of(state: TaskState) -> Option<String> {
    match state {
        TaskState::Succeeded => Some("fixed".into()),
        TaskState::Draft => Some("no_regressions".into()),
        TaskState::DeadLettered => Some("tests_fail".into()),
        _ => None,
    }
}

async fn seed(store: &Store, queue: &SqliteQueue, state: TaskState, issue: u64, title: &str) -> String {
    let message =
        local_task_message("acme", "shop", "/srv/git/shop.git", issue, title, "See the title.", Overrides::default())
            .unwrap();
    let body = message.to_json().unwrap();
    let task_id = message.task_id.clone();
    store
        .upsert_task(&NewTask {
            task_id: task_id.clone(),
            project: "shop".into(),
            repository: "acme/shop".into(),
            issue_number: issue,
            title: title.into(),
            message_json: body.clone(),
        })
        .unwrap();
    let attempts = match state {
        TaskState::Queued => 0,
        TaskState::Retrying | TaskState::Draft | TaskState::DeadLettered => 2,
        _ => 1,
    };
    for n in 1..=attempts {
        let attempt = store.start_attempt(&task_id, None).unwrap();
        store.add_event(&task_id, Some(attempt), "received", &format!("attempt {n} of 3")).unwrap();
        if state == TaskState::Running && n == attempts {
            store.add_event(&task_id, Some(attempt), "agent_running", "built-in agent").unwrap();
            continue;
        }
        let succeeded = state == TaskState::Succeeded;
        let finish = AttemptFinish {
            status: if succeeded { AttemptStatus::Succeeded } else { AttemptStatus::Failed },
            summary: if succeeded { "Fixed the rounding in totals.".into() } else { String::new() },
            error: (!succeeded)
                .then(|| "tests still fail with the best of 6 candidate(s): AssertionError: 10.0 != 9.99".into()),
            llm_calls: 2,
            prompt_tokens: 1210,
            completion_tokens: 240,
            cached_prompt_tokens: None,
            branch: succeeded.then(|| format!("codingworker/issue-{issue}-fix")),
            commit: succeeded.then(|| "0123456789abcdef".into()),
            // The succeeded task's change came from a fallback model that reported its cost.
            model: Some(if succeeded { "qwen/qwen-2.5-coder-32b-instruct" } else { "qwen2.5-coder:1.5b" }.into()),
            cost_usd: if succeeded { 0.0123 } else { 0.0 },
            verdict: verdict_of(state),
        };
        store.finish_attempt(attempt, &finish).unwrap();
    }
    let error = match state {
        TaskState::Draft | TaskState::Retrying => Some("tests still fail with the best of 6 candidate(s)"),
        TaskState::DeadLettered => Some("the attempt exceeded its time budget of 3600s"),
        TaskState::Rejected => Some("issue #7 of acme/shop is closed"),
        _ => None,
    };
    store.set_task_state(&task_id, state, error).unwrap();
    if state == TaskState::Succeeded {
        store
            .record_pull_request(&NewPullRequest {
                task_id: task_id.clone(),
                repository: "acme/shop".into(),
                title: format!("Fix #{issue}: {title}"),
                body: "Closes".into(),
                head_branch: format!("codingworker/issue-{issue}-fix"),
                base_branch: "main".into(),
                head_commit: "0123456789abcdef".into(),
                verified: true,
                url: None,
            })
            .unwrap();
    }
    if state == TaskState::DeadLettered {
        queue.send(&body).await.unwrap();
        let received = queue.receive(Duration::ZERO).await.unwrap().unwrap();
        queue.dead_letter(&received.receipt, "the attempt exceeded its time budget of 3600s").await.unwrap();
    }
    task_id
}

struct Chromedriver(tokio::process::Child);

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

async fn start_chromedriver() -> (Chromedriver, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = tokio::process::Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver (apt-get install chromium chromium-driver)");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return (Chromedriver(child), port);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromium-driver: scripts/test.sh runs it"]
async fn the_dashboard_shows_every_state_and_retries_a_failed_task() {
    let dir = tempfile::tempdir().unwrap();
    let llm_url = std::env::var("CODINGWORKER_TEST_LLM_URL").unwrap_or_else(|_| "http://127.0.0.1:9".into());
    let vars: Vec<(String, String)> = [
        ("CODINGWORKER_DATA_DIR", dir.path().to_str().unwrap()),
        ("CODINGWORKER_SANDBOX_MODE", "host"),
        ("CODINGWORKER_LLM_PROTOCOL", "openai"),
        ("CODINGWORKER_LLM_BASE_URL", llm_url.as_str()),
        ("CODINGWORKER_FALLBACK_ENABLED", "true"),
        (
            "CODINGWORKER_FALLBACK_MODELS",
            r#"[{"name": "openrouter", "base_url": "http://127.0.0.1:9", "model": "qwen/qwen-2.5-coder-32b-instruct",
                "request_cost": false}]"#,
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let config = Config::from_sources(None, &vars).unwrap();
    let paths = DataPaths::new(&config).unwrap();
    let store = Arc::new(Store::open(&paths.store).unwrap());
    let queue = Arc::new(SqliteQueue::open(&paths.queue, SqliteQueueOptions::default()).unwrap());
    let titles = [
        "Search ignores accents",
        "Export to CSV times out",
        "Cart total rounds down",
        "Totals are off by a cent",
        "Discount codes are case-sensitive",
        "Invoice PDF has no VAT line",
        "Add dark mode",
    ];
    let mut ids = Vec::new();
    for (i, (state, title)) in STATES.iter().zip(titles).enumerate() {
        ids.push(seed(&store, &queue, *state, 40 + i as u64, title).await);
    }
    let failed_id = ids[4].clone();

    let services = Arc::new(build_services(config, &paths, Arc::clone(&store)).await.unwrap());
    let listener = codingworker_web::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let queues = vec![codingworker_worker::NamedQueue { project: "shop".into(), queue: queue.clone() }];
    let dashboard = Arc::new(codingworker_web::Dashboard::new(services, queues, addr));
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    tokio::spawn(codingworker_web::serve(listener, dashboard, shutdown));

    let (_driver, port) = start_chromedriver().await;
    let capabilities: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1500"]
        }
    }))
    .unwrap();
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a chromium session");
    let base = format!("http://127.0.0.1:{}", addr.port());
    client.goto(&format!("{base}/")).await.unwrap();

    // Every state is on the page, each with its badge and the actions it allows.
    for (state, id) in STATES.iter().zip(&ids) {
        let card = client.find(Locator::Css(&format!("[data-task='{id}']"))).await.unwrap();
        assert_eq!(card.attr("data-state").await.unwrap().as_deref(), Some(state.as_str()));
        let text = card.text().await.unwrap();
        let expected_button = match state {
            TaskState::Draft => Some("Retry"),
            TaskState::DeadLettered => Some("Redrive"),
            TaskState::Running => Some("Cancel"),
            _ => None,
        };
        if let Some(button) = expected_button {
            assert!(text.contains(button), "{state:?}: {text}");
        }
        // The verdict of the newest attempt that reached one, with its own badge.
        let verdict = match card.find(Locator::Css("[data-verdict]")).await {
            Ok(badge) => badge.attr("data-verdict").await.unwrap(),
            Err(_) => None,
        };
        assert_eq!(verdict, verdict_of(*state), "{state:?}: {text}");
        if *state == TaskState::Draft {
            assert!(
                !text.contains("tests still fail"),
                "a draft shows its verdict, not a retried attempt's error: {text}"
            );
        }
    }
    let page = client.source().await.unwrap();
    assert!(page.contains("PR #1 (local)") && page.contains("codingworker/issue-43-fix"), "links to the work");
    assert!(page.contains("dead-lettered"), "queue depths");
    assert!(page.contains("qwen/qwen-2.5-coder-32b-instruct") && page.contains("$0.01"), "model and cost per task");
    assert!(page.contains("project shop"), "the task's project");
    assert!(page.contains("$0.01</span> of the $5.00 cap"), "the month's spend against the cap");
    std::fs::create_dir_all(screenshots_dir()).unwrap();
    std::fs::write(screenshots_dir().join("dashboard.png"), client.screenshot().await.unwrap()).unwrap();

    // On a phone-sized screen.
    client.set_window_size(390, 1600).await.unwrap();
    client.refresh().await.unwrap();
    std::fs::write(screenshots_dir().join("dashboard-phone.png"), client.screenshot().await.unwrap()).unwrap();
    client.set_window_size(1280, 1500).await.unwrap();

    // Retry the draft task with its button: it is queued again and the queue holds its message.
    let retry = client.find(Locator::Css(&format!("[data-task='{failed_id}'] button"))).await.unwrap();
    retry.click().await.unwrap();
    // The form posts and redirects to the task's page; a badge found before that would be the old page's.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !client.current_url().await.unwrap().path().ends_with(&failed_id) {
        assert!(std::time::Instant::now() < deadline, "the retry lands on the task's page");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let badge = client.wait().for_element(Locator::Css(".badge")).await.unwrap();
    assert_eq!(badge.text().await.unwrap(), "queued");
    std::fs::write(screenshots_dir().join("task-retried.png"), client.screenshot().await.unwrap()).unwrap();
    let detail = store.task_detail(&failed_id).unwrap().unwrap();
    assert_eq!(detail.task.state, TaskState::Queued);
    assert!(detail.events.iter().any(|e| e.kind == "retry_requested"));
    let depth = queue.depth().await.unwrap();
    assert_eq!((depth.visible, depth.dead), (1, 1), "the retried message waits; the dead letter stays parked");

    client.close().await.unwrap();
}
