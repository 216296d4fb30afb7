//! Running the worker unattended, through the real binary: the dashboard's actions (cancel a running task,
//! redrive it), its endpoints and token, and the disk-space guard on a small scratch filesystem.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codingworker_queue::Queue as _;
use codingworker_store::TaskState;
use common::{DEMO_FIX, TestEnv, model_answering, model_hanging_once_then};
use tokio::io::AsyncBufReadExt as _;

/// A `worker` with its dashboard on a free port; returns the process, the dashboard's base URL and its log lines
/// as they come.
async fn worker_with_dashboard(
    env: &TestEnv,
    llm_url: &str,
    extra: &[(&str, &str)],
) -> (tokio::process::Child, String, Arc<Mutex<Vec<String>>>) {
    let mut command = env.command(llm_url, "openai");
    command
        .env("CODINGWORKER_WEB_ENABLED", "true")
        .env("CODINGWORKER_WEB_BIND", "127.0.0.1:0")
        .env("CODINGWORKER_QUEUE_VISIBILITY_TIMEOUT_SECS", "600")
        .arg("worker")
        .stderr(std::process::Stdio::piped());
    for (name, value) in extra {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (address_tx, address_rx) = tokio::sync::oneshot::channel();
    let mut reader = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let collected = Arc::clone(&lines);
    tokio::spawn(async move {
        let mut address_tx = Some(address_tx);
        while let Ok(Some(line)) = reader.next_line().await {
            if let Some(rest) = line.split("dashboard at ").nth(1)
                && let Some(tx) = address_tx.take()
            {
                let _ = tx.send(rest.split_whitespace().next().unwrap_or_default().trim_end_matches('/').to_owned());
            }
            collected.lock().unwrap().push(line);
        }
    });
    let base = tokio::time::timeout(Duration::from_secs(30), address_rx)
        .await
        .expect("the worker announces its dashboard")
        .expect("dashboard address");
    (child, base, lines)
}

async fn wait_for_state(env: &TestEnv, task_id: &str, state: TaskState, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let current = env.detail(task_id).task.state;
        if current == state {
            return;
        }
        assert!(Instant::now() < deadline, "task is {current:?}, not {state:?}, after {within:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn stop(mut worker: tokio::process::Child) {
    let pid = worker.id().unwrap().to_string();
    let _ = tokio::process::Command::new("kill").args(["-TERM", &pid]).status().await;
    let status = tokio::time::timeout(Duration::from_secs(30), worker.wait()).await.expect("stops").unwrap();
    assert!(status.success());
}

/// The form token every action needs, as the page carries it.
fn csrf_of(page: &str) -> String {
    let start = page.find("name=\"csrf\" value=\"").expect("a form on the page") + "name=\"csrf\" value=\"".len();
    page[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_cancels_a_running_task_and_redrives_it_behind_its_token() {
    let env = TestEnv::new().await;
    let server = model_hanging_once_then(DEMO_FIX).await;
    // /readyz asks the server for its models.
    common::serve_model_list(&server).await;
    let url = server.uri();
    let task_id = env.submit_demo(&url).await;
    let token = "a-long-dashboard-token-0123456789";
    let (worker, base, _lines) = worker_with_dashboard(&env, &url, &[("CODINGWORKER_WEB_TOKEN", token)]).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let get = |path: &str| http.get(format!("{base}{path}")).bearer_auth(token).send();

    assert_eq!(http.get(format!("{base}/healthz")).send().await.unwrap().text().await.unwrap(), "ok\n");
    let anonymous = http.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401, "the token is required");
    let rebinding =
        http.get(format!("{base}/")).bearer_auth(token).header("host", "evil.example").send().await.unwrap();
    assert_eq!(rebinding.status(), 421, "a foreign Host is refused on loopback");

    env.wait_for_event(&task_id, "model_call").await;
    let page = get("/").await.unwrap().text().await.unwrap();
    assert!(page.contains(&task_id) && page.contains("data-state=\"running\""), "{page}");
    let csrf = csrf_of(&page);
    let forged = http
        .post(format!("{base}/tasks/{task_id}/cancel"))
        .bearer_auth(token)
        .form(&[("csrf", "guess")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403, "a form without the page's token is refused");

    let cancelled = http
        .post(format!("{base}/tasks/{task_id}/cancel"))
        .bearer_auth(token)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), 303);
    wait_for_state(&env, &task_id, TaskState::DeadLettered, Duration::from_secs(20)).await;
    assert_eq!(env.queue().depth().await.unwrap().dead, 1, "parked, not lost");
    let detail = env.detail(&task_id);
    assert!(detail.events.iter().any(|e| e.kind == "cancelled"));
    assert_eq!(detail.attempts[0].status, codingworker_store::AttemptStatus::Interrupted);
    let worktrees: Vec<_> = std::fs::read_dir(env.data_dir.join("worktrees"))
        .map(|entries| entries.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(worktrees.is_empty(), "the cancelled attempt's worktree is removed: {worktrees:?}");

    // Redriven, it runs again, and this time the model answers at once.
    let redriven = http
        .post(format!("{base}/tasks/{task_id}/redrive"))
        .bearer_auth(token)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(redriven.status(), 303);
    wait_for_state(&env, &task_id, TaskState::Succeeded, Duration::from_secs(60)).await;

    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    for expected in [
        "codingworker_tasks_total{outcome=\"succeeded\"} 1",
        "codingworker_tasks_total{outcome=\"dead_lettered\"} 1",
        "codingworker_tasks{state=\"succeeded\"} 1",
        "codingworker_llm_request_duration_seconds_count",
    ] {
        assert!(metrics.contains(expected), "missing {expected}:\n{metrics}");
    }
    let ready = get("/readyz").await.unwrap();
    assert_eq!(ready.status(), 200, "{}", ready.text().await.unwrap());
    stop(worker).await;
}

/// Mounts a 64 MiB tmpfs at `dir` (root only) and unmounts it when dropped.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn mount(dir: &std::path::Path) -> Option<Scratch> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64m", "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Scratch(dir.to_path_buf()))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "mounts a scratch tmpfs, which needs root: scripts/test.sh runs it"]
async fn a_nearly_full_disk_stops_the_worker_taking_tasks_and_readyz_says_why() {
    let env = TestEnv::new().await;
    let Some(_scratch) = Scratch::mount(&env.data_dir) else {
        panic!("cannot mount a tmpfs at {} (this test needs root)", env.data_dir.display());
    };
    let server = model_answering(DEMO_FIX).await;
    let url = server.uri();
    let task_id = env.submit_demo(&url).await;
    // 64 MiB disk, 40 MiB used: about 24 MiB free, below the 32 MiB the worker is told to keep.
    let filler = env.data_dir.join("filler");
    std::fs::write(&filler, vec![0u8; 40 * 1024 * 1024]).unwrap();
    let (worker, base, lines) =
        worker_with_dashboard(&env, &url, &[("CODINGWORKER_WORKER_MIN_FREE_DISK_MB", "32")]).await;

    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503);
    let body = ready.text().await.unwrap();
    assert!(body.contains("worker.min_free_disk_mb = 32") && body.contains("not taking tasks"), "{body}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let detail = env.detail(&task_id);
    assert_eq!((detail.task.state, detail.attempts.len()), (TaskState::Queued, 0), "no task taken");
    assert_eq!(env.queue().depth().await.unwrap().visible, 1);
    let said: Vec<String> =
        lines.lock().unwrap().iter().filter(|l| l.contains("not taking tasks until space is freed")).cloned().collect();
    assert_eq!(said.len(), 1, "one clear line, not one per check: {said:?}");
    println!("the worker said: {}", said[0]);

    // Space freed: the worker notices on its next check and does the task.
    std::fs::remove_file(&filler).unwrap();
    wait_for_state(&env, &task_id, TaskState::Succeeded, Duration::from_secs(60)).await;
    assert!(lines.lock().unwrap().iter().any(|l| l.contains("again: taking tasks")));
    stop(worker).await;
}
