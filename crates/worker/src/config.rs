//! Configuration: a TOML file plus `CODINGWORKER_*` environment overrides, validated once at start-up.
//!
//! Every key has an environment variable named after its path: `llm.base_url` is `CODINGWORKER_LLM_BASE_URL`.
//! Values are read as JSON when they parse as JSON (numbers, booleans, arrays) and as strings otherwise.

use std::path::{Path, PathBuf};
use std::time::Duration;

use codingworker_llm::{LlmConfig, Protocol};
use serde::{Deserialize, Serialize};

/// Prefix of every environment override.
pub const ENV_PREFIX: &str = "CODINGWORKER_";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the queue, the store, mirrors, worktrees and task logs live. Default: the platform data directory.
    pub data_dir: Option<PathBuf>,
    pub queue: QueueConfig,
    pub aws: AwsSection,
    pub metrics: MetricsSection,
    pub forge: ForgeSection,
    pub llm: LlmSection,
    pub agent: AgentSection,
    pub sandbox: SandboxSection,
    /// The OpenHands backend (`agent.backend = "openhands"`, or a task's `overrides.agent`).
    pub openhands: codingworker_openhands::OpenHandsSettings,
    pub worker: WorkerSection,
    pub web: WebSection,
    pub git: GitSection,
    pub log: LogSection,
    /// Models tried after the local one (`llm.*`) when it cannot do a task. Off by default.
    pub fallback: FallbackSection,
    /// Several projects served by one worker, each with its own queue and settings. Empty: one project from the
    /// settings above (or one per URL in `queue.sqs.queue_urls`).
    pub projects: Vec<ProjectSection>,
}

/// One project: its queue, and the settings that differ from the top-level ones (unset keys inherit them).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProjectSection {
    /// Letters, digits, `-` and `_`; names the project in logs, the dashboard and `submit --project`.
    pub name: String,
    /// The project's SQS queue (`queue.backend = "sqs"`); the embedded backend gives each project its own file.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub queue_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_repositories: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_command: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox_image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_backend: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_budget_secs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_label: Option<String>,
    /// At most this many of the project's tasks at once; `queue.concurrency` stays the limit for all together.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
}

/// What hands a task from one model of the chain to the next.
pub const FALLBACK_CONDITIONS: [&str; 4] = ["tests_failed", "no_change", "timed_out", "endpoint_down"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FallbackSection {
    /// Off by default, so API cost stays zero unless you turn it on.
    pub enabled: bool,
    /// When the next model takes over: `tests_failed` (the change fails the tests, or leaves tests failing
    /// with none showing a fix), `no_change` (no usable change), `timed_out` (over `step_time_budget_secs`),
    /// `endpoint_down` (the model server does not answer).
    pub on: Vec<String>,
    /// Each model of the chain gets at most this long of an attempt.
    pub step_time_budget_secs: u64,
    /// Spend of all paid models per calendar month (UTC), from the cost the providers report. When reached, the
    /// chain stops at the local model and says so in the task's events, the pull request and on the issue.
    pub monthly_spend_cap_usd: f64,
    /// The models tried after the local one, in order.
    pub models: Vec<FallbackModel>,
}

impl Default for FallbackSection {
    fn default() -> Self {
        Self {
            enabled: false,
            on: FALLBACK_CONDITIONS.map(String::from).to_vec(),
            step_time_budget_secs: 1200,
            monthly_spend_cap_usd: 5.0,
            models: Vec::new(),
        }
    }
}

/// A model endpoint of the fallback chain, e.g. OpenRouter.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FallbackModel {
    /// Shown in events, the pull request and the dashboard, e.g. `openrouter`.
    pub name: String,
    /// `openai` (OpenRouter and most providers) or `ollama`.
    pub protocol: String,
    /// Server root without `/v1`, e.g. `https://openrouter.ai/api`.
    pub base_url: String,
    pub model: String,
    /// The environment variable holding the API key (the key never goes in this file); empty: no key.
    pub api_key_env: String,
    /// Ask the provider to report each call's cost (`usage: {include: true}`, as OpenRouter takes it).
    pub request_cost: bool,
    /// Prices used when the provider reports no cost; a paid endpoint needs one or the other for the cap to hold.
    pub usd_per_million_prompt_tokens: f64,
    pub usd_per_million_completion_tokens: f64,
    /// The model's context window; default `llm.context_tokens`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_tokens: Option<u32>,
}

impl Default for FallbackModel {
    fn default() -> Self {
        Self {
            name: String::new(),
            protocol: "openai".into(),
            base_url: String::new(),
            model: String::new(),
            api_key_env: String::new(),
            request_cost: true,
            usd_per_million_prompt_tokens: 0.0,
            usd_per_million_completion_tokens: 0.0,
            context_tokens: None,
        }
    }
}

/// Where a project's tasks wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueLocation {
    /// A file of the embedded queue under the data directory.
    Embedded(String),
    Sqs(String),
}

/// A project as the worker serves it: its queue, its limit, and the whole configuration with its own settings
/// applied.
#[derive(Debug, Clone)]
pub struct Project {
    pub name: String,
    pub queue: QueueLocation,
    pub concurrency: u32,
    pub config: Config,
}

/// Running unattended: shutdown, disk and retention.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerSection {
    /// On SIGTERM, how long a running task may still take before it is stopped and handed back to the queue.
    /// Keep it under the service manager's stop timeout (systemd TimeoutStopSec=60, launchd ExitTimeOut=60).
    pub shutdown_grace_secs: u64,
    /// Below this much free space in the data directory the worker takes no new tasks (and /readyz says so).
    pub min_free_disk_mb: u64,
    /// Task logs older than this are deleted (at start-up and daily).
    pub log_retention_days: u64,
}

impl Default for WorkerSection {
    fn default() -> Self {
        Self { shutdown_grace_secs: 45, min_free_disk_mb: 1024, log_retention_days: 30 }
    }
}

/// The dashboard and its endpoints (`/healthz`, `/readyz`, `/metrics`), served by `codingworker worker`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSection {
    pub enabled: bool,
    /// `127.0.0.1:7878` by default: this machine only. Any other address needs `web.token`.
    pub bind: String,
    /// Bearer token required on every page but /healthz when set (and always when bound beyond loopback);
    /// better given as CODINGWORKER_WEB_TOKEN than in the file.
    pub token: String,
}

impl Default for WebSection {
    fn default() -> Self {
        Self { enabled: true, bind: "127.0.0.1:7878".into(), token: String::new() }
    }
}

/// Where the built-in agent's commands (tests, checks) run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxSection {
    /// `docker` (a locked-down container per attempt) or `host` (directly on this machine: trusted repositories
    /// only).
    pub mode: String,
    /// The project's toolchain image; build the default one with `docker build -t codingworker-sandbox:latest
    /// deploy/sandbox`.
    pub image: String,
    /// `uid:gid` commands run as inside the container, never root; `auto` is the worker's own (or 10001:10001
    /// when the worker runs as root).
    pub user: String,
    pub memory_mb: u64,
    pub cpus: f64,
    pub pids_limit: i64,
    /// `none` (default: tests need no network), `bridge`, or a Docker network's name.
    pub network: String,
}

impl Default for SandboxSection {
    fn default() -> Self {
        Self {
            mode: "docker".into(),
            image: "codingworker-sandbox:latest".into(),
            user: "auto".into(),
            memory_mb: 2048,
            cpus: 2.0,
            pids_limit: 256,
            network: "none".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// `sqlite` (embedded, under the data directory) or `sqs` (the queues in `queue.sqs.queue_urls`).
    pub backend: String,
    /// Repositories whose tasks this worker takes, as `owner/name` or `owner/*`; others are parked unworked.
    /// Empty takes every repository, which suits the embedded queue (only this machine writes to it).
    pub allowed_repositories: Vec<String>,
    /// Tasks worked on at once, across all queues. Each task runs the model, so 1 suits one laptop.
    pub concurrency: u32,
    pub sqs: SqsSection,
    /// How long a received task stays hidden from other workers; a heartbeat extends it while work goes on.
    pub visibility_timeout_secs: u64,
    /// Receives before a task is parked in the dead-letter store.
    pub max_receives: u32,
    /// Long-poll wait per receive.
    pub wait_secs: u64,
    /// Delay before a failed task becomes visible again, multiplied by the attempt number.
    pub retry_delay_secs: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqsSection {
    /// One queue per project, as Terraform's `queue_url` output prints them. In the environment: one URL, or
    /// several as a JSON array.
    #[serde(deserialize_with = "one_or_many")]
    pub queue_urls: Vec<String>,
}

/// How the worker reaches AWS (SQS and CloudWatch Logs).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AwsSection {
    /// Empty: the region in the queue URL, else the AWS config's (AWS_REGION, ~/.aws/config).
    pub region: String,
    /// A profile of the shared AWS config; empty: the default credential chain (environment, SSO, AWS_PROFILE).
    pub profile: String,
    /// Another endpoint for every AWS service (moto, LocalStack); empty: AWS.
    pub endpoint_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForgeSection {
    /// `local` (pull requests recorded in the task store) or `github`.
    pub kind: String,
    /// GitHub's REST API; `https://HOST/api/v3` for GitHub Enterprise Server.
    pub api_url: String,
    /// Where branches are pushed: `https://github.com` or the Enterprise host.
    pub web_url: String,
    /// The label that asks for work; a task whose issue has lost it is not worked.
    pub trigger_label: String,
    /// Open every pull request as a draft, even when the tests pass.
    pub draft_pull_requests: bool,
    /// A file holding the token, readable only by you; the environment (CODINGWORKER_GITHUB_TOKEN) wins.
    pub token_file: Option<PathBuf>,
    /// `/codingworker` follow-ups on one pull request before the worker asks for a human instead.
    pub max_follow_up_rounds: u32,
    /// Paths a change may never touch (CI and automation configuration, which runs with the repository's secrets
    /// when pushed): a directory ends in `/`; matched from the repository root, ignoring case.
    pub protected_paths: Vec<String>,
    /// A changed file larger than this is refused.
    pub max_file_bytes: u64,
    /// Status labels put on the issue; one at a time.
    pub label_working: String,
    pub label_done: String,
    pub label_failed: String,
}

impl Default for ForgeSection {
    fn default() -> Self {
        Self {
            kind: "local".into(),
            api_url: "https://api.github.com".into(),
            web_url: "https://github.com".into(),
            trigger_label: "codingworker".into(),
            draft_pull_requests: true,
            token_file: None,
            max_follow_up_rounds: 3,
            protected_paths: [
                ".github/",
                ".gitlab-ci.yml",
                ".gitlab/",
                ".circleci/",
                ".travis.yml",
                "Jenkinsfile",
                "azure-pipelines.yml",
                ".buildkite/",
                ".gitmodules",
            ]
            .map(String::from)
            .to_vec(),
            max_file_bytes: 1024 * 1024,
            label_working: "codingworker:in-progress".into(),
            label_done: "codingworker:done".into(),
            label_failed: "codingworker:failed".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSection {
    /// CloudWatch Logs group for the worker's metrics (Terraform's `worker_log_group`); empty: no metrics.
    pub cloudwatch_log_group: String,
    /// Seconds between flushes; each flush is also the heartbeat the "worker off" alarm watches.
    pub interval_secs: u64,
}

impl Default for MetricsSection {
    fn default() -> Self {
        Self { cloudwatch_log_group: String::new(), interval_secs: 60 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmSection {
    /// `ollama` (native /api/chat) or `openai` (any OpenAI-compatible /v1/chat/completions server).
    pub protocol: String,
    pub base_url: String,
    pub model: String,
    pub context_tokens: u32,
    pub max_output_tokens: u32,
    pub request_timeout_secs: u64,
    pub connect_timeout_secs: u64,
    pub keep_alive: String,
    pub max_retries: usize,
    pub retry_base_delay_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentSection {
    /// `builtin` (CodingWorker's agent for small models) or `openhands`; a task may ask for the other.
    pub backend: String,
    /// Candidate changes at most per attempt (greedy, the other edit format, a revision, then samples), each run
    /// against the tests; the one the tests agree on is chosen.
    pub max_candidates: u32,
    /// Candidates past `max_candidates` while none is `fixed`, as long as `search_budget_secs` lasts (bench run
    /// 2026-12-06T134809Z: 8 of the 16 tasks without a `fixed` candidate stopped at 10 (13 model calls) with a
    /// minute or more of the budget left). A `fixed` candidate's choice is still settled within `max_candidates`.
    pub extra_candidates: u32,
    /// Wall time for the search (reproduction tests and candidates), seconds. 240 keeps a task inside the user's
    /// 5-minute target on a CPU; when it runs out the best candidate so far is used with its honest verdict. An
    /// attempt's `time_budget_secs` below it wins (the search then gets four fifths of that).
    pub search_budget_secs: u64,
    /// Model samples asked for reproduction tests written from the issue (0: none). A test is kept only when it
    /// fails on the base commit for a reason in the code.
    pub reproduction_samples: u32,
    /// Reproduction tests kept at most.
    pub max_reproduction_tests: u32,
    /// Add the reproduction test that shows the fix to the pull request as a regression test.
    pub add_regression_test: bool,
    /// Test command as argv, e.g. `["python3", "-m", "pytest", "-q"]`; empty means detect.
    pub test_command: Vec<String>,
    /// Limit of the base commit's test run, seconds (the process tree is killed at it). Later runs get three
    /// times that run's duration plus 10 s, at least 30 s and at most this. A base run that does not finish is
    /// repeated with a per-test limit for pytest and unittest suites, so one hanging test fails alone.
    pub test_timeout_secs: u64,
    /// Sampling temperature of the first attempt; retries add `retry_temperature_step` per attempt so a retry
    /// does not repeat the same mistake.
    pub temperature: f32,
    pub retry_temperature_step: f32,
    pub repo_map_tokens: u32,
    pub context_file_tokens: u32,
    /// Wall-clock limit for one attempt (workspace, agent, tests, push); what was done so far stays in the log.
    pub time_budget_secs: u64,
    /// How the model writes changes: `auto` (by the model's size), `whole`, `functions` or `search-replace`.
    pub edit_format: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GitSection {
    pub author_name: String,
    pub author_email: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSection {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter, e.g. `info` or `codingworker=debug,info`.
    pub level: String,
    /// Also write the worker's own log here, one file per day (`worker.YYYY-MM-DD.log`), keeping
    /// `worker.log_retention_days` of them. Unset: standard error only (journald and Docker rotate it).
    pub dir: Option<PathBuf>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            backend: "sqlite".into(),
            allowed_repositories: Vec::new(),
            concurrency: 1,
            sqs: SqsSection::default(),
            visibility_timeout_secs: 900,
            max_receives: 3,
            wait_secs: 20,
            retry_delay_secs: 30,
        }
    }
}

impl Default for LlmSection {
    fn default() -> Self {
        Self {
            protocol: "ollama".into(),
            base_url: "http://127.0.0.1:11434".into(),
            model: "qwen2.5-coder:1.5b".into(),
            context_tokens: 8192,
            max_output_tokens: 1024,
            request_timeout_secs: 600,
            connect_timeout_secs: 5,
            keep_alive: "30m".into(),
            max_retries: 3,
            retry_base_delay_ms: 2000,
        }
    }
}

impl Default for AgentSection {
    fn default() -> Self {
        Self {
            backend: "builtin".into(),
            max_candidates: 10,
            extra_candidates: 6,
            search_budget_secs: 240,
            reproduction_samples: 3,
            max_reproduction_tests: 3,
            add_regression_test: true,
            test_command: Vec::new(),
            test_timeout_secs: 120,
            temperature: 0.0,
            retry_temperature_step: 0.3,
            repo_map_tokens: 500,
            context_file_tokens: 1500,
            time_budget_secs: 3600,
            edit_format: "auto".into(),
        }
    }
}

impl Default for GitSection {
    fn default() -> Self {
        Self { author_name: "CodingWorker".into(), author_email: "codingworker@localhost".into() }
    }
}

impl Default for LogSection {
    fn default() -> Self {
        Self { format: "text".into(), level: "info".into(), dir: None }
    }
}

/// A configuration problem, named by key, found at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path} is not valid TOML: {detail}")]
    Toml { path: PathBuf, detail: String },
    #[error("config key `{key}`{origin}: {reason}")]
    Invalid { key: String, origin: String, reason: String },
    #[error("no data directory: set `data_dir` in the config or CODINGWORKER_DATA_DIR")]
    NoDataDir,
}

impl ConfigError {
    fn invalid(key: &str, reason: impl Into<String>) -> Self {
        Self::Invalid { key: key.into(), origin: origin_of(key), reason: reason.into() }
    }
}

/// " (from CODINGWORKER_X)" when the value came from the environment, so users know where to look.
fn origin_of(key: &str) -> String {
    let var = env_var_name(key);
    if std::env::var_os(&var).is_some() { format!(" (from {var})") } else { String::new() }
}

/// Whether a URL points at this machine (a local model server costs nothing and needs no cost report).
fn is_loopback_url(value: &str) -> bool {
    let rest = value.split_once("://").map_or(value, |(_, rest)| rest);
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host =
        host.rsplit_once(':').map_or(host, |(h, port)| if port.chars().all(|c| c.is_ascii_digit()) { h } else { host });
    matches!(host, "localhost" | "[::1]") || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

fn is_url(value: &str) -> bool {
    value.starts_with("https://") || value.starts_with("http://")
}

impl ProjectSection {
    /// Writes this project's own settings over `config`.
    fn apply_to(&self, config: &mut Config) {
        if let Some(repositories) = &self.allowed_repositories {
            config.queue.allowed_repositories = repositories.clone();
        }
        if let Some(command) = &self.test_command {
            config.agent.test_command = command.clone();
        }
        if let Some(image) = &self.sandbox_image {
            config.sandbox.image = image.clone();
        }
        if let Some(backend) = &self.agent_backend {
            config.agent.backend = backend.clone();
        }
        if let Some(model) = &self.model {
            config.llm.model = model.clone();
        }
        if let Some(budget) = self.time_budget_secs {
            config.agent.time_budget_secs = budget;
        }
        if let Some(label) = &self.trigger_label {
            config.forge.trigger_label = label.clone();
        }
        if let Some(limit) = self.concurrency {
            config.queue.concurrency = limit;
        }
    }
}

/// `llm.base_url` -> `CODINGWORKER_LLM_BASE_URL`.
pub fn env_var_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.replace('.', "_").to_ascii_uppercase())
}

impl Config {
    /// The platform's default config file, e.g. `~/.config/codingworker/config.toml`.
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("dev", "codingworker", "codingworker")
            .map(|d| d.config_dir().join("config.toml"))
    }

    /// Loads `path` (a missing default file is fine; a missing explicit file is an error), applies the
    /// environment and validates.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let vars: Vec<(String, String)> = std::env::vars().filter(|(name, _)| name.starts_with(ENV_PREFIX)).collect();
        let (file, required) = match path {
            Some(p) => (Some(p.to_path_buf()), true),
            None => (Self::default_path(), false),
        };
        let text = match &file {
            Some(p) => match std::fs::read_to_string(p) {
                Ok(text) => Some((p.clone(), text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => None,
                Err(source) => return Err(ConfigError::Read { path: p.clone(), source }),
            },
            None => None,
        };
        Self::from_sources(text.as_ref().map(|(p, t)| (p.as_path(), t.as_str())), &vars)
    }

    /// Builds the config from file text and environment pairs (separate from `load` so tests need no process
    /// environment).
    pub fn from_sources(file: Option<(&Path, &str)>, env: &[(String, String)]) -> Result<Self, ConfigError> {
        let mut tree = match file {
            Some((path, text)) => {
                let value: toml::Table = toml::from_str(text)
                    .map_err(|e| ConfigError::Toml { path: path.to_path_buf(), detail: e.to_string() })?;
                serde_json::to_value(value)
                    .map_err(|e| ConfigError::Toml { path: path.to_path_buf(), detail: e.to_string() })?
            }
            None => serde_json::Value::Object(serde_json::Map::new()),
        };
        let defaults =
            serde_json::to_value(Config::default()).map_err(|e| ConfigError::invalid("(defaults)", e.to_string()))?;
        let mut keys = Vec::new();
        leaf_keys(&defaults, "", &mut keys);
        for key in keys {
            let var = env_var_name(&key);
            if let Some((_, raw)) = env.iter().find(|(name, _)| *name == var) {
                let value = serde_json::from_str(raw).unwrap_or_else(|_| serde_json::Value::String(raw.clone()));
                set_path(&mut tree, &key, value);
            }
        }
        let config: Config = serde_path_to_error::deserialize(tree).map_err(|e| {
            let key = e.path().to_string();
            let reason = e.into_inner().to_string();
            let key = if key == "." { "(top level)".to_owned() } else { key };
            ConfigError::Invalid { origin: origin_of(&key), key, reason }
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self.queue.backend.as_str() {
            "sqlite" => {}
            // With [[projects]], each project's queue URL is checked with the project.
            "sqs" if self.projects.is_empty() => self.validate_sqs()?,
            "sqs" => {}
            other => {
                return Err(ConfigError::invalid(
                    "queue.backend",
                    format!("`{other}` is not a backend; use `sqlite` (embedded) or `sqs`"),
                ));
            }
        }
        if let Some(bad) = self.queue.allowed_repositories.iter().find(|p| p.split('/').count() != 2) {
            return Err(ConfigError::invalid(
                "queue.allowed_repositories",
                format!("`{bad}` is not `owner/name` or `owner/*`"),
            ));
        }
        if !self.aws.endpoint_url.is_empty() && !is_url(&self.aws.endpoint_url) {
            return Err(ConfigError::invalid("aws.endpoint_url", "must be an http:// or https:// URL"));
        }
        match self.forge.kind.as_str() {
            "local" => {}
            "github" => {
                for (key, url) in [("forge.api_url", &self.forge.api_url), ("forge.web_url", &self.forge.web_url)] {
                    if !is_url(url) {
                        return Err(ConfigError::invalid(key, "must be an http:// or https:// URL"));
                    }
                }
                let forge = &self.forge;
                for (key, label) in [
                    ("forge.trigger_label", &forge.trigger_label),
                    ("forge.label_working", &forge.label_working),
                    ("forge.label_done", &forge.label_done),
                    ("forge.label_failed", &forge.label_failed),
                ] {
                    if label.trim().is_empty() || label.chars().count() > 50 {
                        return Err(ConfigError::invalid(key, "must be 1-50 characters (GitHub's label limit)"));
                    }
                }
            }
            other => {
                return Err(ConfigError::invalid(
                    "forge.kind",
                    format!("`{other}` is not a forge; use `local` or `github`"),
                ));
            }
        }
        if !(10..=3600).contains(&self.metrics.interval_secs) {
            return Err(ConfigError::invalid("metrics.interval_secs", "must be between 10 and 3600"));
        }
        if !(1..=8).contains(&self.queue.concurrency) {
            return Err(ConfigError::invalid("queue.concurrency", "must be between 1 and 8"));
        }
        if !(1..=50).contains(&self.queue.max_receives) {
            return Err(ConfigError::invalid("queue.max_receives", "must be between 1 and 50"));
        }
        if self.queue.visibility_timeout_secs == 0 || self.queue.visibility_timeout_secs > 43_200 {
            // 12 hours is SQS's ceiling; keep the embedded queue honest about it.
            return Err(ConfigError::invalid("queue.visibility_timeout_secs", "must be between 1 and 43200"));
        }
        if self.queue.wait_secs > 20 {
            return Err(ConfigError::invalid("queue.wait_secs", "must be at most 20 (the SQS long-poll limit)"));
        }
        self.llm_config()?;
        if !matches!(self.agent.backend.as_str(), "builtin" | "openhands") {
            return Err(ConfigError::invalid(
                "agent.backend",
                format!("`{}` is not a backend; use `builtin` or `openhands`", self.agent.backend),
            ));
        }
        self.validate_sandbox()?;
        self.validate_worker_and_web()?;
        if !(1..=32).contains(&self.agent.max_candidates) {
            return Err(ConfigError::invalid("agent.max_candidates", "must be between 1 and 32"));
        }
        if self.agent.extra_candidates > 32 {
            return Err(ConfigError::invalid("agent.extra_candidates", "must be between 0 and 32"));
        }
        if self.agent.search_budget_secs == 0 {
            return Err(ConfigError::invalid("agent.search_budget_secs", "must be positive"));
        }
        if self.agent.reproduction_samples > 8 || self.agent.max_reproduction_tests > 8 {
            return Err(ConfigError::invalid(
                "agent.reproduction_samples",
                "at most 8 samples and 8 kept tests (agent.max_reproduction_tests): each is a model call",
            ));
        }
        if !(0.0..=2.0).contains(&self.agent.temperature) {
            return Err(ConfigError::invalid("agent.temperature", "must be between 0.0 and 2.0"));
        }
        codingworker_agent::EditFormat::resolve(&self.agent.edit_format, &self.llm.model)
            .map_err(|e| ConfigError::invalid("agent.edit_format", e))?;
        if self.agent.time_budget_secs == 0 {
            return Err(ConfigError::invalid("agent.time_budget_secs", "must be positive"));
        }
        if self.agent.test_timeout_secs == 0 {
            return Err(ConfigError::invalid("agent.test_timeout_secs", "must be positive"));
        }
        if self.git.author_name.trim().is_empty() {
            return Err(ConfigError::invalid("git.author_name", "must not be empty"));
        }
        if !self.git.author_email.contains('@') {
            return Err(ConfigError::invalid("git.author_email", "must be an email address"));
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err(ConfigError::invalid("log.format", "must be `text` or `json`"));
        }
        self.validate_fallback()?;
        self.validate_projects()?;
        Ok(())
    }

    fn validate_fallback(&self) -> Result<(), ConfigError> {
        let fallback = &self.fallback;
        if let Some(bad) = fallback.on.iter().find(|c| !FALLBACK_CONDITIONS.contains(&c.as_str())) {
            return Err(ConfigError::invalid(
                "fallback.on",
                format!("`{bad}` is not a condition; use any of {}", FALLBACK_CONDITIONS.join(", ")),
            ));
        }
        if !(fallback.monthly_spend_cap_usd.is_finite() && fallback.monthly_spend_cap_usd >= 0.0) {
            return Err(ConfigError::invalid("fallback.monthly_spend_cap_usd", "must be a positive amount of dollars"));
        }
        if fallback.step_time_budget_secs < 30 {
            return Err(ConfigError::invalid("fallback.step_time_budget_secs", "must be at least 30"));
        }
        if fallback.enabled && fallback.models.is_empty() {
            return Err(ConfigError::invalid(
                "fallback.models",
                "fallback is enabled but names no model; add a [[fallback.models]] entry or set fallback.enabled = false",
            ));
        }
        let mut names = std::collections::HashSet::new();
        for (i, model) in fallback.models.iter().enumerate() {
            let key = |field: &str| format!("fallback.models[{i}].{field}");
            if model.name.trim().is_empty() || !names.insert(model.name.as_str()) {
                return Err(ConfigError::invalid(&key("name"), "every fallback model needs a name of its own"));
            }
            model.protocol.parse::<Protocol>().map_err(|e| ConfigError::invalid(&key("protocol"), e))?;
            if !is_url(&model.base_url) {
                return Err(ConfigError::invalid(&key("base_url"), "must be an http:// or https:// URL"));
            }
            if model.model.trim().is_empty() {
                return Err(ConfigError::invalid(&key("model"), "must name the provider's model"));
            }
            let prices = [model.usd_per_million_prompt_tokens, model.usd_per_million_completion_tokens];
            if prices.iter().any(|p| !p.is_finite() || *p < 0.0) {
                return Err(ConfigError::invalid(&key("usd_per_million_prompt_tokens"), "prices must be 0 or more"));
            }
            // A remote endpoint with neither a reported cost nor a price would spend past the cap unseen.
            if fallback.enabled && !is_loopback_url(&model.base_url) && !model.request_cost && prices == [0.0, 0.0] {
                return Err(ConfigError::invalid(
                    &key("request_cost"),
                    "the spend cap cannot be enforced for a remote model without a cost: set request_cost = true \
                     (the provider reports each call's cost) or the usd_per_million_*_tokens prices",
                ));
            }
            if fallback.enabled
                && !model.api_key_env.is_empty()
                && std::env::var(&model.api_key_env).map_or(true, |k| k.trim().is_empty())
            {
                return Err(ConfigError::invalid(
                    &key("api_key_env"),
                    format!(
                        "the API key of fallback model `{}` is read from ${}, which is not set",
                        model.name, model.api_key_env
                    ),
                ));
            }
        }
        Ok(())
    }

    fn validate_projects(&self) -> Result<(), ConfigError> {
        let mut names = std::collections::HashSet::new();
        let sqs = self.queue.backend == "sqs";
        if sqs && !self.projects.is_empty() && !self.queue.sqs.queue_urls.is_empty() {
            return Err(ConfigError::invalid(
                "queue.sqs.queue_urls",
                "with [[projects]], each project names its queue in `queue_url`; remove queue.sqs.queue_urls",
            ));
        }
        for (i, project) in self.projects.iter().enumerate() {
            let key = |field: &str| format!("projects[{i}].{field}");
            let valid_name = !project.name.is_empty()
                && project.name.len() <= 80
                && project.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !valid_name {
                return Err(ConfigError::invalid(&key("name"), "must be 1-80 letters, digits, `-` or `_`"));
            }
            if !names.insert(project.name.to_ascii_lowercase()) {
                return Err(ConfigError::invalid(&key("name"), format!("`{}` names two projects", project.name)));
            }
            match (sqs, project.queue_url.is_empty()) {
                (true, true) => {
                    return Err(ConfigError::invalid(
                        &key("queue_url"),
                        "the sqs backend needs each project's queue URL (Terraform's `queue_url` output)",
                    ));
                }
                (true, false) if !is_url(&project.queue_url) => {
                    return Err(ConfigError::invalid(&key("queue_url"), "is not a queue URL"));
                }
                (false, false) => {
                    return Err(ConfigError::invalid(
                        &key("queue_url"),
                        "is for queue.backend = \"sqs\"; the embedded queue gives each project its own file",
                    ));
                }
                _ => {}
            }
            if let Some(limit) = project.concurrency
                && !(1..=self.queue.concurrency).contains(&limit)
            {
                return Err(ConfigError::invalid(
                    &key("concurrency"),
                    format!("must be between 1 and queue.concurrency ({})", self.queue.concurrency),
                ));
            }
            // The project's own settings must pass the same checks as the top-level ones.
            let mut applied = self.clone();
            applied.projects.clear();
            project.apply_to(&mut applied);
            if sqs {
                applied.queue.sqs.queue_urls = vec![project.queue_url.clone()];
            }
            applied.validate().map_err(|e| match e {
                ConfigError::Invalid { key: inner, reason, .. } => ConfigError::Invalid {
                    key: format!("projects[{i}] ({}): {inner}", project.name),
                    origin: String::new(),
                    reason,
                },
                other => other,
            })?;
        }
        Ok(())
    }

    /// The projects this worker serves, each with its settings applied: the `[[projects]]` entries, else one per
    /// SQS queue URL, else one project named `default` on the embedded queue.
    pub fn projects(&self) -> Vec<Project> {
        let limit = self.queue.concurrency;
        let mut base = self.clone();
        base.projects.clear();
        if self.projects.is_empty() {
            if self.queue.backend == "sqs" {
                return self
                    .queue
                    .sqs
                    .queue_urls
                    .iter()
                    .map(|url| Project {
                        name: url.rsplit('/').next().unwrap_or(url).to_owned(),
                        queue: QueueLocation::Sqs(url.clone()),
                        concurrency: limit,
                        config: base.clone(),
                    })
                    .collect();
            }
            return vec![Project {
                name: "default".into(),
                queue: QueueLocation::Embedded("queue.db".into()),
                concurrency: limit,
                config: base,
            }];
        }
        self.projects
            .iter()
            .map(|project| {
                let mut config = base.clone();
                project.apply_to(&mut config);
                Project {
                    name: project.name.clone(),
                    queue: if self.queue.backend == "sqs" {
                        QueueLocation::Sqs(project.queue_url.clone())
                    } else {
                        QueueLocation::Embedded(format!("queue-{}.db", project.name.to_ascii_lowercase()))
                    },
                    concurrency: project.concurrency.unwrap_or(limit).min(limit),
                    config,
                }
            })
            .collect()
    }

    fn validate_worker_and_web(&self) -> Result<(), ConfigError> {
        if self.worker.shutdown_grace_secs > 3600 {
            return Err(ConfigError::invalid("worker.shutdown_grace_secs", "must be at most 3600"));
        }
        if self.worker.log_retention_days == 0 {
            return Err(ConfigError::invalid("worker.log_retention_days", "must be at least 1"));
        }
        let bind: std::net::SocketAddr = self.web.bind.parse().map_err(|_| {
            ConfigError::invalid(
                "web.bind",
                format!("`{}` is not an address:port such as 127.0.0.1:7878", self.web.bind),
            )
        })?;
        if self.web.enabled && !bind.ip().is_loopback() && self.web.token.len() < 16 {
            return Err(ConfigError::invalid(
                "web.bind",
                format!(
                    "{bind} is reachable from other machines: set web.token (CODINGWORKER_WEB_TOKEN) to a secret of \
                     at least 16 characters, or bind to 127.0.0.1"
                ),
            ));
        }
        Ok(())
    }

    fn validate_sandbox(&self) -> Result<(), ConfigError> {
        let sandbox = &self.sandbox;
        if !matches!(sandbox.mode.as_str(), "docker" | "host") {
            return Err(ConfigError::invalid(
                "sandbox.mode",
                format!("`{}` is not a mode; use `docker` (isolated) or `host` (trusted repositories)", sandbox.mode),
            ));
        }
        if sandbox.image.trim().is_empty() {
            return Err(ConfigError::invalid("sandbox.image", "must name an image"));
        }
        let uid = sandbox.user.split(':').next().unwrap_or_default();
        if sandbox.user != "auto" && (uid == "0" || uid == "root" || uid.parse::<u32>().is_err()) {
            return Err(ConfigError::invalid("sandbox.user", "must be a non-root `uid:gid` such as 10001:10001"));
        }
        if sandbox.memory_mb < 64 {
            return Err(ConfigError::invalid("sandbox.memory_mb", "must be at least 64"));
        }
        if !(sandbox.cpus > 0.0 && sandbox.cpus <= 64.0) {
            return Err(ConfigError::invalid("sandbox.cpus", "must be between 0 and 64"));
        }
        if sandbox.pids_limit < 16 {
            return Err(ConfigError::invalid("sandbox.pids_limit", "must be at least 16"));
        }
        if sandbox.network == "host" || self.openhands.network == "host" {
            let (key, instead) = if sandbox.network == "host" {
                ("sandbox.network", "`none` or a Docker network")
            } else {
                ("openhands.network", "`llm`, `bridge` or a Docker network")
            };
            return Err(ConfigError::invalid(
                key,
                format!("the host network would expose every local service; use {instead}"),
            ));
        }
        if sandbox.network == "llm" {
            return Err(ConfigError::invalid(
                "sandbox.network",
                "the built-in agent calls the model from the worker, so its sandbox needs no model access; use `none`",
            ));
        }
        let openhands = &self.openhands;
        if openhands.image.trim().is_empty() {
            return Err(ConfigError::invalid("openhands.image", "must be set (scripts/openhands-image.sh builds one)"));
        }
        if openhands.image.ends_with(":latest") || !openhands.image.rsplit('/').next().unwrap_or_default().contains(':')
        {
            return Err(ConfigError::invalid(
                "openhands.image",
                "pin a release tag (e.g. `codingworker-openhands:1.58.2`), not latest",
            ));
        }
        if openhands.network == "none" {
            return Err(ConfigError::invalid(
                "openhands.network",
                "the agent-server must reach the model and the worker must reach it; use `llm` (only the model \
                 is reachable), `bridge` or a Docker network",
            ));
        }
        if openhands.ready_timeout_secs == 0 || openhands.max_output_tokens < 64 {
            return Err(ConfigError::invalid(
                "openhands.ready_timeout_secs",
                "ready_timeout_secs must be above 0 and max_output_tokens at least 64",
            ));
        }
        if !(1..=500).contains(&openhands.max_iterations) {
            return Err(ConfigError::invalid("openhands.max_iterations", "must be between 1 and 500"));
        }
        if openhands.max_nudges > 10 {
            return Err(ConfigError::invalid(
                "openhands.max_nudges",
                "must be at most 10 (each one is another run of the agent; 0 turns them off)",
            ));
        }
        if openhands.llm_timeout_secs < 60 {
            return Err(ConfigError::invalid(
                "openhands.llm_timeout_secs",
                "must be at least 60 (CPU inference is slow)",
            ));
        }
        Ok(())
    }

    /// The sandbox limits for the Docker engine.
    pub fn docker_options(&self, worker_id: &str) -> codingworker_sandbox::DockerOptions {
        let sandbox = &self.sandbox;
        codingworker_sandbox::DockerOptions {
            image: sandbox.image.clone(),
            user: sandbox.user.clone(),
            memory_bytes: i64::try_from(sandbox.memory_mb.saturating_mul(1024 * 1024)).unwrap_or(i64::MAX),
            nano_cpus: (sandbox.cpus * 1e9) as i64,
            pids_limit: sandbox.pids_limit,
            network: Some(sandbox.network.clone()).filter(|n| n != "none"),
            worker_id: worker_id.to_owned(),
        }
    }

    /// Whether `owner/name` may be worked on here (see `queue.allowed_repositories`).
    pub fn accepts_repository(&self, full_name: &str) -> bool {
        let allowed = &self.queue.allowed_repositories;
        allowed.is_empty()
            || allowed.iter().any(|pattern| match pattern.strip_suffix("/*") {
                Some(owner) => full_name.split_once('/').is_some_and(|(o, _)| o.eq_ignore_ascii_case(owner)),
                None => pattern.eq_ignore_ascii_case(full_name),
            })
    }

    fn validate_sqs(&self) -> Result<(), ConfigError> {
        let sqs = &self.queue.sqs;
        if sqs.queue_urls.is_empty() {
            return Err(ConfigError::invalid(
                "queue.sqs.queue_urls",
                "the sqs backend needs at least one queue URL (Terraform prints it as the `queue_url` output)",
            ));
        }
        if let Some(bad) = sqs.queue_urls.iter().find(|url| !is_url(url)) {
            return Err(ConfigError::invalid(
                "queue.sqs.queue_urls",
                format!("`{bad}` is not a queue URL like https://sqs.eu-west-1.amazonaws.com/123456789012/name"),
            ));
        }
        Ok(())
    }

    /// The LLM client configuration, checked.
    pub fn llm_config(&self) -> Result<LlmConfig, ConfigError> {
        let llm = &self.llm;
        let protocol: Protocol = llm.protocol.parse().map_err(|e| ConfigError::invalid("llm.protocol", e))?;
        if !is_url(&llm.base_url) {
            return Err(ConfigError::invalid("llm.base_url", "must be an http:// or https:// URL"));
        }
        if llm.model.trim().is_empty() {
            return Err(ConfigError::invalid("llm.model", "must not be empty"));
        }
        if llm.context_tokens < 1024 {
            return Err(ConfigError::invalid("llm.context_tokens", "must be at least 1024"));
        }
        if llm.max_output_tokens == 0 || llm.max_output_tokens >= llm.context_tokens {
            return Err(ConfigError::invalid("llm.max_output_tokens", "must be positive and below llm.context_tokens"));
        }
        if llm.request_timeout_secs == 0 || llm.connect_timeout_secs == 0 {
            return Err(ConfigError::invalid("llm.request_timeout_secs", "timeouts must be positive"));
        }
        Ok(LlmConfig {
            protocol,
            base_url: llm.base_url.trim_end_matches('/').to_owned(),
            model: llm.model.clone(),
            context_tokens: llm.context_tokens,
            max_output_tokens: llm.max_output_tokens,
            connect_timeout: Duration::from_secs(llm.connect_timeout_secs),
            request_timeout: Duration::from_secs(llm.request_timeout_secs),
            keep_alive: llm.keep_alive.clone(),
            max_retries: llm.max_retries,
            retry_base_delay: Duration::from_millis(llm.retry_base_delay_ms),
            api_key: std::env::var("CODINGWORKER_LLM_API_KEY").ok().filter(|k| !k.is_empty()),
            request_cost: false,
        })
    }

    /// The data directory, created if needed.
    pub fn data_dir(&self) -> Result<PathBuf, ConfigError> {
        let dir = match &self.data_dir {
            Some(dir) => dir.clone(),
            None => directories::ProjectDirs::from("dev", "codingworker", "codingworker")
                .map(|d| d.data_dir().to_path_buf())
                .ok_or(ConfigError::NoDataDir)?,
        };
        std::fs::create_dir_all(&dir)
            .map_err(|e| ConfigError::invalid("data_dir", format!("cannot create {}: {e}", dir.display())))?;
        Ok(dir)
    }

    /// Every key with its environment variable, for `--help`-style listings.
    pub fn keys() -> Vec<(String, String)> {
        let mut keys = Vec::new();
        if let Ok(defaults) = serde_json::to_value(Config::default()) {
            leaf_keys(&defaults, "", &mut keys);
        }
        keys.into_iter().map(|k| (env_var_name(&k), k)).collect()
    }
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

fn leaf_keys(value: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (name, child) in map {
                let key = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
                leaf_keys(child, &key, out);
            }
        }
        _ => out.push(prefix.to_owned()),
    }
}

fn set_path(tree: &mut serde_json::Value, key: &str, value: serde_json::Value) {
    let mut node = tree;
    let parts: Vec<&str> = key.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        if !node.is_object() {
            *node = serde_json::Value::Object(serde_json::Map::new());
        }
        let serde_json::Value::Object(map) = node else { return };
        if i + 1 == parts.len() {
            map.insert((*part).to_owned(), value);
            return;
        }
        node = map.entry((*part).to_owned()).or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_are_valid() {
        let config = Config::from_sources(None, &[]).unwrap();
        assert_eq!(config.llm.model, "qwen2.5-coder:1.5b");
        assert_eq!(config.queue.max_receives, 3);
    }

    #[test]
    fn file_then_environment_override() {
        let file = "[llm]\nprotocol = \"openai\"\nbase_url = \"http://127.0.0.1:8089\"\n[agent]\nmax_candidates = 2\n";
        let config = Config::from_sources(
            Some((Path::new("c.toml"), file)),
            &env(&[
                ("CODINGWORKER_AGENT_MAX_CANDIDATES", "4"),
                ("CODINGWORKER_AGENT_TEST_COMMAND", "[\"python3\",\"-m\",\"pytest\"]"),
                ("CODINGWORKER_LLM_MODEL", "qwen2.5-coder:7b"),
                ("CODINGWORKER_DATA_DIR", "/tmp/cw"),
            ]),
        )
        .unwrap();
        assert_eq!(config.llm.protocol, "openai");
        assert_eq!(config.agent.max_candidates, 4);
        assert_eq!(config.agent.test_command, vec!["python3", "-m", "pytest"]);
        assert_eq!(config.llm.model, "qwen2.5-coder:7b");
        assert_eq!(config.data_dir, Some(PathBuf::from("/tmp/cw")));
    }

    #[test]
    fn errors_name_the_key() {
        let err = Config::from_sources(Some((Path::new("c.toml"), "[llm]\nmodle = \"x\"\n")), &[]).unwrap_err();
        assert!(err.to_string().contains("modle"), "{err}");
        let err = Config::from_sources(None, &env(&[("CODINGWORKER_QUEUE_MAX_RECEIVES", "many")])).unwrap_err();
        assert!(err.to_string().contains("queue.max_receives"), "{err}");
        let err = Config::from_sources(None, &env(&[("CODINGWORKER_LLM_PROTOCOL", "grpc")])).unwrap_err();
        assert!(err.to_string().contains("llm.protocol"), "{err}");
        let err = Config::from_sources(None, &env(&[("CODINGWORKER_LLM_BASE_URL", "localhost:11434")])).unwrap_err();
        assert!(err.to_string().contains("llm.base_url"), "{err}");
        let err = Config::from_sources(None, &env(&[("CODINGWORKER_AGENT_EDIT_FORMAT", "udiff")])).unwrap_err();
        assert!(err.to_string().contains("agent.edit_format") && err.to_string().contains("change-to"), "{err}");
        let err = Config::from_sources(Some((Path::new("c.toml"), "[llm\n")), &[]).unwrap_err();
        assert!(err.to_string().contains("c.toml"), "{err}");
    }

    #[test]
    fn the_sqs_backend_needs_queue_urls_and_takes_one_from_the_environment() {
        let err = Config::from_sources(None, &env(&[("CODINGWORKER_QUEUE_BACKEND", "sqs")])).unwrap_err();
        assert!(err.to_string().contains("queue.sqs.queue_urls"), "{err}");
        let url = "https://sqs.eu-west-1.amazonaws.com/123456789012/project";
        let config = Config::from_sources(
            None,
            &env(&[("CODINGWORKER_QUEUE_BACKEND", "sqs"), ("CODINGWORKER_QUEUE_SQS_QUEUE_URLS", url)]),
        )
        .unwrap();
        assert_eq!(config.queue.sqs.queue_urls, vec![url.to_owned()]);
        let two = format!(r#"["{url}", "{url}-2"]"#);
        let config = Config::from_sources(
            None,
            &env(&[("CODINGWORKER_QUEUE_BACKEND", "sqs"), ("CODINGWORKER_QUEUE_SQS_QUEUE_URLS", &two)]),
        )
        .unwrap();
        assert_eq!(config.queue.sqs.queue_urls.len(), 2);
        let err = Config::from_sources(
            None,
            &env(&[("CODINGWORKER_QUEUE_BACKEND", "sqs"), ("CODINGWORKER_QUEUE_SQS_QUEUE_URLS", "project-queue")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("not a queue URL"), "{err}");
    }

    #[test]
    fn the_allowlist_matches_names_and_owners() {
        let text = "[queue]\nallowed_repositories = [\"acme/api\", \"tools/*\"]\n";
        let config = Config::from_sources(Some((Path::new("c.toml"), text)), &[]).unwrap();
        assert!(config.accepts_repository("acme/api"));
        assert!(config.accepts_repository("ACME/Api"));
        assert!(config.accepts_repository("tools/anything"));
        assert!(!config.accepts_repository("acme/web"));
        assert!(!config.accepts_repository("evil/api"));
        assert!(Config::default().accepts_repository("anyone/anything"));
        let bad = "[queue]\nallowed_repositories = [\"acme\"]\n";
        let err = Config::from_sources(Some((Path::new("c.toml"), bad)), &[]).unwrap_err();
        assert!(err.to_string().contains("queue.allowed_repositories"), "{err}");
    }

    #[test]
    fn projects_inherit_the_top_level_settings_and_override_their_own() {
        let text = r#"
[queue]
concurrency = 2
[agent]
test_command = ["make", "test"]
[[projects]]
name = "api"
allowed_repositories = ["acme/api"]
model = "qwen2.5-coder:7b"
test_command = ["python3", "-m", "pytest"]
sandbox_image = "acme-api:1"
agent_backend = "openhands"
time_budget_secs = 900
trigger_label = "bot:api"
concurrency = 1
[[projects]]
name = "web"
"#;
        let config = Config::from_sources(Some((Path::new("c.toml"), text)), &[]).unwrap();
        let projects = config.projects();
        assert_eq!(projects.len(), 2);
        let (api, web) = (&projects[0], &projects[1]);
        assert_eq!(api.queue, QueueLocation::Embedded("queue-api.db".into()));
        assert_eq!(api.concurrency, 1);
        assert_eq!(api.config.llm.model, "qwen2.5-coder:7b");
        assert_eq!(api.config.agent.test_command, vec!["python3", "-m", "pytest"]);
        assert_eq!(api.config.sandbox.image, "acme-api:1");
        assert_eq!(api.config.agent.backend, "openhands");
        assert_eq!(api.config.agent.time_budget_secs, 900);
        assert_eq!(api.config.forge.trigger_label, "bot:api");
        assert!(api.config.accepts_repository("acme/api") && !api.config.accepts_repository("acme/web"));
        assert_eq!(web.concurrency, 2);
        assert_eq!(web.config.llm.model, "qwen2.5-coder:1.5b");
        assert_eq!(web.config.agent.test_command, vec!["make", "test"]);
        assert!(web.config.accepts_repository("anyone/anything"));

        let default = Config::from_sources(None, &[]).unwrap().projects();
        assert_eq!(default.len(), 1);
        assert_eq!(
            (default[0].name.as_str(), &default[0].queue),
            ("default", &QueueLocation::Embedded("queue.db".into()))
        );
    }

    #[test]
    fn project_mistakes_are_named_by_project() {
        let bad = |text: &str| Config::from_sources(Some((Path::new("c.toml"), text)), &[]).unwrap_err().to_string();
        let err = bad("[[projects]]\nname = \"a\"\nconcurrency = 3\n");
        assert!(err.contains("projects[0].concurrency") && err.contains("queue.concurrency (1)"), "{err}");
        let err = bad("[[projects]]\nname = \"a\"\n[[projects]]\nname = \"A\"\n");
        assert!(err.contains("names two projects"), "{err}");
        let err = bad("[[projects]]\nname = \"a b\"\n");
        assert!(err.contains("projects[0].name"), "{err}");
        let err = bad("[[projects]]\nname = \"a\"\nagent_backend = \"aider\"\n");
        assert!(err.contains("projects[0] (a): agent.backend"), "{err}");
        let err = bad("[[projects]]\nname = \"a\"\nqueue_url = \"https://sqs.eu-west-1.amazonaws.com/1/a\"\n");
        assert!(err.contains("is for queue.backend"), "{err}");
        let err = bad("[queue]\nbackend = \"sqs\"\n[[projects]]\nname = \"a\"\n");
        assert!(err.contains("projects[0].queue_url"), "{err}");
        let err = bad(
            "[queue]\nbackend = \"sqs\"\n[queue.sqs]\nqueue_urls = [\"https://sqs.eu-west-1.amazonaws.com/1/q\"]\n\
             [[projects]]\nname = \"a\"\nqueue_url = \"https://sqs.eu-west-1.amazonaws.com/1/a\"\n",
        );
        assert!(err.contains("remove queue.sqs.queue_urls"), "{err}");
        let sqs = "[queue]\nbackend = \"sqs\"\n[[projects]]\nname = \"a\"\nqueue_url = \"https://sqs.eu-west-1.amazonaws.com/1/a\"\n";
        let config = Config::from_sources(Some((Path::new("c.toml"), sqs)), &[]).unwrap();
        assert_eq!(config.projects()[0].queue, QueueLocation::Sqs("https://sqs.eu-west-1.amazonaws.com/1/a".into()));
    }

    #[test]
    fn fallback_is_off_by_default_and_checked_when_on() {
        let config = Config::from_sources(None, &[]).unwrap();
        assert!(!config.fallback.enabled && config.fallback.models.is_empty());
        let bad = |text: &str| Config::from_sources(Some((Path::new("c.toml"), text)), &[]).unwrap_err().to_string();
        let err = bad("[fallback]\nenabled = true\n");
        assert!(err.contains("fallback.models") && err.contains("names no model"), "{err}");
        let err = bad("[fallback]\non = [\"always\"]\n");
        assert!(err.contains("fallback.on") && err.contains("tests_failed"), "{err}");
        let remote_without_cost = "[fallback]\nenabled = true\n[[fallback.models]]\nname = \"or\"\n\
            base_url = \"https://openrouter.ai/api\"\nmodel = \"qwen/qwen-2.5-coder-32b-instruct\"\nrequest_cost = false\n";
        let err = bad(remote_without_cost);
        assert!(err.contains("fallback.models[0].request_cost") && err.contains("spend cap"), "{err}");
        let missing_key = "[fallback]\nenabled = true\n[[fallback.models]]\nname = \"or\"\n\
            base_url = \"https://openrouter.ai/api\"\nmodel = \"m\"\napi_key_env = \"CODINGWORKER_TEST_SURELY_UNSET_KEY\"\n";
        let err = bad(missing_key);
        assert!(err.contains("$CODINGWORKER_TEST_SURELY_UNSET_KEY"), "{err}");
        let local = "[fallback]\nenabled = true\n[[fallback.models]]\nname = \"bigger\"\n\
            base_url = \"http://127.0.0.1:8090\"\nmodel = \"qwen2.5-coder:7b\"\nrequest_cost = false\n";
        let config = Config::from_sources(Some((Path::new("c.toml"), local)), &[]).unwrap();
        assert_eq!(config.fallback.models[0].protocol, "openai");
        assert!(is_loopback_url("http://localhost:11434/") && is_loopback_url("http://127.0.0.1:8089"));
        assert!(!is_loopback_url("https://openrouter.ai/api") && !is_loopback_url("http://10.0.0.1:80"));
    }

    #[test]
    fn every_key_has_an_env_var() {
        let keys = Config::keys();
        assert!(keys.iter().any(|(var, key)| var == "CODINGWORKER_LLM_BASE_URL" && key == "llm.base_url"));
        assert!(keys.iter().any(|(var, _)| var == "CODINGWORKER_DATA_DIR"));
    }
}
