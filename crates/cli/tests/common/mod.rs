//! Shared set-up for the binary's tests: a bare "remote" holding the demo repository, an isolated data
//! directory and config, and a `codingworker` command wired to a given model server.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use codingworker_store::{Store, TaskDetail};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub remote: PathBuf,
    pub data_dir: PathBuf,
    pub config: PathBuf,
    /// Set on every command, after the defaults (e.g. the SQS backend's settings).
    pub extra_env: Vec<(String, String)>,
}

/// The fix a good model gives for the demo bug, as a SEARCH/REPLACE block.
pub const DEMO_FIX: &str = "stats.py\n<<<<<<< SEARCH\n    middle = len(ordered) // 2\n    return ordered[middle]\n=======\n    middle = len(ordered) // 2\n    if len(ordered) % 2 == 0:\n        return (ordered[middle - 1] + ordered[middle]) / 2\n    return ordered[middle]\n>>>>>>> REPLACE\n";

pub fn demo_repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo/repo")
}

pub fn demo_issue() -> (String, String) {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo/issue.md"))
        .expect("demo issue");
    let (title, body) = text.split_once('\n').expect("title line");
    (title.trim().to_owned(), body.trim().to_owned())
}

/// The real model server the ignored end-to-end tests use: (URL, protocol, model), from CODINGWORKER_TEST_LLM_*.
pub fn test_model() -> (String, String, String) {
    let url = std::env::var("CODINGWORKER_TEST_LLM_URL").expect(
        "set CODINGWORKER_TEST_LLM_URL to the model server, e.g. http://127.0.0.1:8089 (scripts/model-server.sh)",
    );
    let protocol = std::env::var("CODINGWORKER_TEST_LLM_PROTOCOL").unwrap_or_else(|_| "openai".into());
    let model = std::env::var("CODINGWORKER_TEST_LLM_MODEL").unwrap_or_else(|_| "qwen2.5-coder:1.5b".into());
    (url, protocol, model)
}

/// A running `worker` whose log lines are collected as they come.
pub struct CollectingWorker {
    pub child: tokio::process::Child,
    pub lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl CollectingWorker {
    /// Starts `command` (a `worker` command from [`TestEnv::command`]) with its log collected.
    pub fn spawn(mut command: tokio::process::Command) -> Self {
        use tokio::io::AsyncBufReadExt as _;
        let mut child = command.stderr(std::process::Stdio::piped()).spawn().expect("worker starts");
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut reader = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
        let collected = std::sync::Arc::clone(&lines);
        tokio::spawn(async move {
            while let Ok(Some(line)) = reader.next_line().await {
                collected.lock().expect("lines").push(line);
            }
        });
        Self { child, lines }
    }

    /// Lines containing `text` so far.
    pub fn lines_with(&self, text: &str) -> Vec<String> {
        self.lines.lock().expect("lines").iter().filter(|l| l.contains(text)).cloned().collect()
    }

    /// Waits (at most `within`) for a line containing `text`, and returns it.
    pub async fn wait_for_line(&self, text: &str, within: Duration) -> String {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(line) = self.lines_with(text).into_iter().next() {
                return line;
            }
            assert!(std::time::Instant::now() < deadline, "no `{text}` in the worker's log within {within:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, and a clean exit.
    pub async fn stop(mut self) {
        let pid = self.child.id().expect("running").to_string();
        let _ = tokio::process::Command::new("kill").args(["-TERM", &pid]).status().await;
        let status =
            tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await.expect("stops").expect("exit");
        assert!(status.success(), "the worker exits cleanly");
    }
}

impl TestEnv {
    /// Like [`TestEnv::new`], with a remote holding `files` instead of the demo repository.
    pub async fn with_files(files: &[(&str, &str)]) -> TestEnv {
        let dir = tempfile::tempdir().expect("tempdir");
        let remote = codingworker_git::testing::bare_remote_with(dir.path(), files).await.expect("remote");
        let data_dir = dir.path().join("data");
        let config = dir.path().join("config.toml");
        std::fs::write(&config, "# isolated from the user's config\n").expect("config");
        TestEnv { remote, data_dir, config, dir, extra_env: Vec::new() }
    }

    pub async fn new() -> TestEnv {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut files = Vec::new();
        for entry in std::fs::read_dir(demo_repo_dir()).expect("demo repo") {
            let entry = entry.expect("entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            let content = std::fs::read_to_string(entry.path()).expect("demo file");
            files.push((name, content));
        }
        let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, c)| (n.as_str(), c.as_str())).collect();
        let remote = codingworker_git::testing::bare_remote_with(dir.path(), &borrowed).await.expect("remote");
        let data_dir = dir.path().join("data");
        let config = dir.path().join("config.toml");
        std::fs::write(&config, "# isolated from the user's config\n").expect("config");
        TestEnv { remote, data_dir, config, dir, extra_env: Vec::new() }
    }

    /// A `codingworker` command with this environment's data dir and config, talking to `llm_url` via `protocol`,
    /// with short queue timings so retries happen within seconds.
    pub fn command(&self, llm_url: &str, protocol: &str) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_codingworker"));
        for (name, _) in std::env::vars() {
            if name.starts_with("CODINGWORKER_") {
                command.env_remove(name);
            }
        }
        command
            .env("CODINGWORKER_CONFIG", &self.config)
            .env("CODINGWORKER_DATA_DIR", &self.data_dir)
            .env("CODINGWORKER_LLM_PROTOCOL", protocol)
            .env("CODINGWORKER_LLM_BASE_URL", llm_url)
            .env("CODINGWORKER_LLM_MAX_RETRIES", "0")
            .env("CODINGWORKER_LLM_RETRY_BASE_DELAY_MS", "10")
            .env("CODINGWORKER_QUEUE_VISIBILITY_TIMEOUT_SECS", "2")
            .env("CODINGWORKER_QUEUE_WAIT_SECS", "4")
            .env("CODINGWORKER_QUEUE_RETRY_DELAY_SECS", "0")
            .env("CODINGWORKER_AGENT_TEST_COMMAND", "[\"python3\", \"-m\", \"unittest\"]")
            // These tests are about the queue, the forge and the model; tests/docker_e2e.rs runs the sandbox.
            .env("CODINGWORKER_SANDBOX_MODE", "host")
            // Tests run workers side by side; tests/dashboard.rs turns it on with a port of its own.
            .env("CODINGWORKER_WEB_ENABLED", "false")
            .env("RUST_LOG", "info")
            .kill_on_drop(true);
        for (name, value) in &self.extra_env {
            command.env(name, value);
        }
        command
    }

    /// `codingworker run` on the demo issue, numbered `issue`, of `demo/stats`; callers add settings and run it.
    pub fn run_demo_command(&self, llm_url: &str, protocol: &str, issue: u64) -> tokio::process::Command {
        let (title, body) = demo_issue();
        let mut command = self.command(llm_url, protocol);
        command.args(["run", "--repo"]).arg(&self.remote).args([
            "--name",
            "demo/stats",
            "--issue",
            &issue.to_string(),
            "--title",
            &title,
            "--body",
            &body,
        ]);
        command
    }

    /// Enqueues the demo issue through the `submit` command and returns the task id.
    pub async fn submit_demo(&self, llm_url: &str) -> String {
        let (title, body) = demo_issue();
        let out = self
            .command(llm_url, "openai")
            .args(["submit", "--repo"])
            .arg(&self.remote)
            .args(["--name", "demo/stats", "--issue", "1", "--title", &title, "--body", &body])
            .output()
            .await
            .expect("submit runs");
        assert!(out.status.success(), "submit failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf8").trim().to_owned()
    }

    pub fn store(&self) -> Store {
        Store::open(&self.data_dir.join("store.db")).expect("store")
    }

    pub fn detail(&self, task_id: &str) -> TaskDetail {
        self.store().task_detail(task_id).expect("store read").expect("task recorded")
    }

    pub fn queue(&self) -> codingworker_queue::SqliteQueue {
        codingworker_queue::SqliteQueue::open(
            &self.data_dir.join("queue.db"),
            codingworker_queue::SqliteQueueOptions { visibility_timeout: Duration::from_secs(2), ..Default::default() },
        )
        .expect("queue")
    }

    /// Runs `worker --until-idle` to completion and returns its stderr.
    pub async fn work_until_idle(&self, llm_url: &str) -> String {
        let out = tokio::time::timeout(
            Duration::from_secs(300),
            self.command(llm_url, "openai").args(["worker", "--until-idle"]).output(),
        )
        .await
        .expect("worker finishes within 5 minutes")
        .expect("worker runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "worker failed: {stderr}");
        stderr
    }

    /// The codingworker branch pushed to the remote, if any.
    pub async fn pushed_branch(&self) -> Option<String> {
        let refs = codingworker_git::testing::git(
            &self.remote,
            &["for-each-ref", "--format=%(refname:short)", "refs/heads/codingworker/"],
        )
        .await
        .ok()?;
        refs.lines().next().map(str::to_owned)
    }

    /// Checks out the pushed branch and runs the demo's tests there.
    pub async fn pushed_branch_passes_tests(&self) -> bool {
        let Some(branch) = self.pushed_branch().await else { return false };
        let checkout = self.dir.path().join("check");
        let status = tokio::process::Command::new("git")
            .args(["clone", "--quiet", "--branch", &branch])
            .arg(&self.remote)
            .arg(&checkout)
            .status()
            .await
            .expect("git");
        if !status.success() {
            return false;
        }
        let out = tokio::process::Command::new("python3")
            .args(["-m", "unittest"])
            .current_dir(&checkout)
            .output()
            .await
            .expect("python3");
        out.status.success()
    }
}

/// An OpenAI-compatible chat completion body with `content`.
pub fn completion(content: &str) -> serde_json::Value {
    serde_json::json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "qwen2.5-coder:1.5b",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 321, "completion_tokens": 45, "total_tokens": 366}
    })
}

/// Lists `qwen2.5-coder:1.5b` on `server`'s OpenAI-compatible `/v1/models`, as the model checks expect.
pub async fn serve_model_list(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"data": [{"id": "qwen2.5-coder:1.5b"}]})),
        )
        .mount(server)
        .await;
}

/// A model server that always answers `reply`.
pub async fn model_answering(reply: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(reply)))
        .mount(&server)
        .await;
    server
}

/// A model server whose first answer takes two minutes (so a worker is surely mid-task) and whose later
/// answers are immediate.
pub async fn model_hanging_once_then(reply: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(reply)).set_delay(Duration::from_secs(120)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(reply)))
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

impl TestEnv {
    /// Waits (at most a minute) until the task has an event of `kind`.
    /// The task may not be recorded yet (a message sent straight to SQS is recorded when a worker receives it).
    pub async fn wait_for_event(&self, task_id: &str, kind: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let events = self.store().task_detail(task_id).expect("store read").map(|d| d.events).unwrap_or_default();
            if events.iter().any(|e| e.kind == kind) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "no `{kind}` event within a minute: {events:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
