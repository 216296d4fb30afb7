//! The task lifecycle and the worker loop, plus configuration.

pub mod config;
pub mod duplicates;
pub mod fallback;
pub mod faults;
pub mod housekeeping;
pub mod lifecycle;
pub mod policy;
pub mod scheduler;
pub mod tasklog;
pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;

use codingworker_forge::{
    Forge, ForgeError, GitHubForge, GitHubOptions, LocalForge, StatusLabels, TokenSource, keyring_entry, load_token,
};
use codingworker_git::{Author, GitWorkspaces};
use codingworker_llm::{LlmClient, LlmError};
use codingworker_queue::{
    Queue, QueueError, SqliteQueue, SqliteQueueOptions, SqsQueue, SqsQueueOptions, region_of_url,
};
use codingworker_sandbox::{DockerSandbox, SandboxError};
use codingworker_store::{Store, StoreError};
use codingworker_telemetry::{CloudWatchOptions, Metrics, TelemetryError};
use secrecy::SecretString;

pub use config::{Config, ConfigError, Project, QueueLocation};
pub use lifecycle::{Disposition, Services};
pub use worker::{RunMode, Worker, WorkerError, WorkerStats};

/// Why the worker could not start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("opening the task store: {0}")]
    Store(#[from] StoreError),
    #[error("opening the queue: {0}")]
    Queue(#[from] QueueError),
    #[error("configuring the model client: {0}")]
    Llm(#[from] LlmError),
    #[error(transparent)]
    Metrics(#[from] TelemetryError),
    #[error("setting up the forge: {0}")]
    Forge(#[from] ForgeError),
    #[error("{0}")]
    Sandbox(String),
}

/// Paths under the data directory.
#[derive(Debug, Clone)]
pub struct DataPaths {
    pub root: PathBuf,
    pub queue: PathBuf,
    pub store: PathBuf,
    pub logs: PathBuf,
}

impl DataPaths {
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        let root = config.data_dir()?;
        Ok(Self { queue: root.join("queue.db"), store: root.join("store.db"), logs: root.join("logs"), root })
    }
}

pub fn open_store(paths: &DataPaths) -> Result<Arc<Store>, SetupError> {
    Ok(Arc::new(Store::open(&paths.store)?))
}

/// A project's queue, by name.
#[derive(Clone)]
pub struct NamedQueue {
    pub project: String,
    pub queue: Arc<dyn Queue>,
}

/// Every project's queue (each SQS queue checked now, so a wrong URL or missing credentials stop start-up).
pub async fn open_queues(config: &Config, paths: &DataPaths) -> Result<Vec<NamedQueue>, SetupError> {
    let mut queues = Vec::new();
    for project in config.projects() {
        let queue = open_project_queue(config, paths, &project).await?;
        queues.push(NamedQueue { project: project.name, queue });
    }
    Ok(queues)
}

/// The project a task from this machine (`submit`, `run`) goes to: the one named, else the first whose
/// allowlist takes `repository`, else the first.
pub fn choose_project(config: &Config, name: Option<&str>, repository: &str) -> Result<Project, SetupError> {
    let projects = config.projects();
    let chosen = match name {
        Some(name) => projects.iter().find(|p| p.name.eq_ignore_ascii_case(name)).cloned().ok_or_else(|| {
            let known: Vec<&str> = projects.iter().map(|p| p.name.as_str()).collect();
            SetupError::Config(ConfigError::Invalid {
                key: "--project".into(),
                origin: String::new(),
                reason: format!("no project `{name}`; configured: {}", known.join(", ")),
            })
        })?,
        None => projects
            .iter()
            .find(|p| !p.config.queue.allowed_repositories.is_empty() && p.config.accepts_repository(repository))
            .or_else(|| projects.first())
            .cloned()
            .ok_or_else(|| {
                SetupError::Config(ConfigError::Invalid {
                    key: "projects".into(),
                    origin: String::new(),
                    reason: "no project or queue configured".into(),
                })
            })?,
    };
    Ok(chosen)
}

/// Opens one project's queue: its file of the embedded queue, or its SQS queue.
pub async fn open_project_queue(
    config: &Config,
    paths: &DataPaths,
    project: &Project,
) -> Result<Arc<dyn Queue>, SetupError> {
    let visibility_timeout = std::time::Duration::from_secs(config.queue.visibility_timeout_secs);
    match &project.queue {
        QueueLocation::Embedded(file) => {
            let options = SqliteQueueOptions {
                visibility_timeout,
                max_receives: config.queue.max_receives,
                ..Default::default()
            };
            Ok(Arc::new(SqliteQueue::open(&paths.root.join(file), options)?))
        }
        QueueLocation::Sqs(url) => {
            let aws = aws_sdk_config(config).await;
            let queue = SqsQueue::connect(&aws, SqsQueueOptions { queue_url: url.clone(), visibility_timeout }).await?;
            if queue.max_receives() != config.queue.max_receives {
                tracing::info!(
                    queue = %url,
                    "the queue's redrive policy allows {} receives; it decides, not queue.max_receives ({})",
                    queue.max_receives(),
                    config.queue.max_receives
                );
            }
            Ok(Arc::new(queue))
        }
    }
}

/// Names this worker's containers: derived from the data directory, so two workers on one machine never remove
/// each other's containers, and a restarted worker finds its own orphans.
pub fn worker_id(paths: &DataPaths) -> String {
    let root = paths.root.canonicalize().unwrap_or_else(|_| paths.root.clone());
    // FNV-1a: stable across builds and platforms, unlike the standard library's hasher.
    let hash = root
        .to_string_lossy()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{hash:016x}")
}

/// Connects to Docker when the configuration needs it (`sandbox.mode = "docker"` or the OpenHands backend),
/// checks the sandbox image, and (for a starting worker, `remove_orphans`) removes containers a crashed run of
/// this worker left. In `host` mode it says loudly that commands run unisolated.
pub async fn connect_sandbox(
    config: &Config,
    paths: &DataPaths,
    remove_orphans: bool,
) -> Result<Option<Arc<DockerSandbox>>, SetupError> {
    let docker_mode = config.sandbox.mode == "docker";
    if !docker_mode {
        tracing::warn!(
            "sandbox.mode = \"host\": the agent's commands (the repository's tests) run directly on this machine with \
             your user's rights. Use it only for repositories you trust; set sandbox.mode = \"docker\" otherwise."
        );
    }
    let options = config.docker_options(&worker_id(paths));
    if !docker_mode && config.agent.backend != "openhands" {
        // Docker is optional here, but where it runs a task may still ask for the OpenHands backend.
        return Ok(match DockerSandbox::connect(options).await {
            Ok(sandbox) => Some(Arc::new(sandbox)),
            Err(e) => {
                tracing::debug!("no Docker for tasks that ask for OpenHands: {e}");
                None
            }
        });
    }
    let sandbox = DockerSandbox::connect(options).await.map_err(|e| {
        SetupError::Sandbox(format!(
            "{e}. Start Docker, or for trusted repositories only set sandbox.mode = \"host\" (CODINGWORKER_SANDBOX_MODE=host)"
        ))
    })?;
    if docker_mode && !sandbox.has_image(&config.sandbox.image).await.map_err(sandbox_error)? {
        return Err(SetupError::Sandbox(format!(
            "the sandbox image `{}` (sandbox.image) is not in the Docker engine. Build the default one with \
             `docker build -t codingworker-sandbox:latest deploy/sandbox`, or set sandbox.image to your project's \
             toolchain image",
            config.sandbox.image
        )));
    }
    if config.agent.backend == "openhands" {
        // Ollama gets openhands.context_tokens with every call; another server has what it was started with.
        let context =
            if config.llm.protocol == "ollama" { config.openhands.context_tokens } else { config.llm.context_tokens };
        if let Some(warning) = codingworker_openhands::context_warning(context) {
            tracing::warn!("{warning}");
        }
        if !sandbox.has_image(&config.openhands.image).await.map_err(sandbox_error)? {
            tracing::warn!(
                "the OpenHands image {} is not in the Docker engine yet: build it with scripts/openhands-image.sh \
                 (no registry needed) before its tasks arrive",
                config.openhands.image
            );
        }
    }
    let removed = if remove_orphans { sandbox.remove_orphans().await.map_err(sandbox_error)? } else { 0 };
    if removed > 0 {
        tracing::info!("removed {removed} container(s) left by an earlier run of this worker");
    }
    Ok(Some(Arc::new(sandbox)))
}

fn sandbox_error(e: SandboxError) -> SetupError {
    SetupError::Sandbox(e.to_string())
}

/// Builds everything the lifecycle needs from a validated config.
pub async fn build_services(config: Config, paths: &DataPaths, store: Arc<Store>) -> Result<Services, SetupError> {
    let docker = connect_sandbox(&config, paths, false).await?;
    let llm = LlmClient::new(config.llm_config()?)?;
    let git = GitWorkspaces::new(
        &paths.root,
        Author { name: config.git.author_name.clone(), email: config.git.author_email.clone() },
    );
    let forge = build_forge(&config, &store, true)?;
    let project = config.projects().first().map_or_else(|| "default".to_owned(), |p| p.name.clone());
    Ok(Services {
        project,
        forge,
        store,
        git,
        docker,
        llm,
        fallback: fallback::endpoints(&config)?,
        logs_dir: paths.logs.clone(),
        metrics: Metrics::disabled(),
        disk: Arc::new(housekeeping::DiskGuard::new(paths.root.clone(), config.worker.min_free_disk_mb)),
        cancellations: Arc::new(housekeeping::Cancellations::default()),
        model_outage: housekeeping::Outage::default(),
        config,
    })
}

/// The services of one project: the shared store, disk guard, cancellations and metrics of `base`, with the
/// project's own model, trigger label (forge) and sandbox image (checked in the engine now).
pub async fn build_project_services(base: &Services, project: &Project) -> Result<Services, SetupError> {
    let config = project.config.clone();
    let docker = match &base.docker {
        Some(docker) if docker.options().image != config.sandbox.image => {
            let own = docker.with_image(&config.sandbox.image);
            if config.sandbox.mode == "docker" && !own.has_image(&config.sandbox.image).await.map_err(sandbox_error)? {
                return Err(SetupError::Sandbox(format!(
                    "the sandbox image `{}` of project {} (projects.sandbox_image) is not in the Docker engine; build \
                     or pull it first",
                    config.sandbox.image, project.name
                )));
            }
            Some(Arc::new(own))
        }
        other => other.clone(),
    };
    Ok(Services {
        project: project.name.clone(),
        forge: build_forge(&config, &base.store, false)?,
        store: Arc::clone(&base.store),
        git: base.git.clone(),
        docker,
        llm: LlmClient::new(config.llm_config()?)?,
        fallback: fallback::endpoints(&config)?,
        logs_dir: base.logs_dir.clone(),
        metrics: base.metrics.clone(),
        disk: Arc::clone(&base.disk),
        cancellations: Arc::clone(&base.cancellations),
        model_outage: housekeeping::Outage::default(),
        config,
    })
}

/// The forge the config names; `announce` logs where the GitHub token came from (once per process).
fn build_forge(config: &Config, store: &Arc<Store>, announce: bool) -> Result<Arc<dyn Forge>, SetupError> {
    let store = Arc::clone(store);
    let forge: Arc<dyn Forge> = match config.forge.kind.as_str() {
        "github" => {
            let (token, source) = github_token(config)?;
            if announce {
                tracing::info!(?source, "GitHub token found");
            }
            Arc::new(GitHubForge::new(
                GitHubOptions {
                    api_url: config.forge.api_url.clone(),
                    web_url: config.forge.web_url.clone(),
                    token,
                    trigger_label: config.forge.trigger_label.clone(),
                    draft_pull_requests: config.forge.draft_pull_requests,
                    status_labels: StatusLabels {
                        working: config.forge.label_working.clone(),
                        done: config.forge.label_done.clone(),
                        failed: config.forge.label_failed.clone(),
                    },
                    request_timeout: std::time::Duration::from_secs(30),
                    max_tries: 4,
                    retry_base_delay: std::time::Duration::from_secs(2),
                },
                store,
            )?)
        }
        _ => Arc::new(LocalForge::new(store)),
    };
    Ok(forge)
}

/// What a starting daemon clears before taking tasks: containers, worktrees and (from older versions) OpenHands
/// task files a crashed run left, and task logs past their retention. Only `codingworker worker` does this; a one-off `run` next to a
/// running daemon must not touch the daemon's attempts.
pub async fn startup_housekeeping(services: &Services, paths: &DataPaths) {
    if let Some(docker) = &services.docker {
        match docker.remove_orphans().await {
            Ok(0) => {}
            Ok(n) => tracing::info!("removed {n} container(s) left by an earlier run of this worker"),
            Err(e) => tracing::warn!("could not look for leftover containers: {e}"),
        }
    }
    // `openhands/` held the task files of the backend before the agent-server; nothing writes there now.
    let leftovers = housekeeping::clear_leftovers(&paths.root.join("worktrees"))
        + housekeeping::clear_leftovers(&paths.root.join("openhands"));
    if leftovers > 0 {
        tracing::info!("removed {leftovers} worktree(s) and task file(s) left by an earlier run");
    }
    spawn_log_expiry(paths.logs.clone(), services.config.worker.log_retention_days);
}

/// Deletes expired task logs now and once a day.
fn spawn_log_expiry(logs: PathBuf, retention_days: u64) {
    let retention = std::time::Duration::from_secs(retention_days.saturating_mul(86_400));
    tokio::spawn(async move {
        let mut daily = tokio::time::interval(std::time::Duration::from_secs(86_400));
        loop {
            daily.tick().await;
            let removed = housekeeping::expire_logs(&logs, retention);
            if removed > 0 {
                tracing::info!(
                    "deleted {removed} task log(s) older than {retention_days} days (worker.log_retention_days)"
                );
            }
        }
    });
}

/// The AWS configuration every AWS client of the worker shares: the default credential chain or `aws.profile`,
/// `aws.endpoint_url` for tests, and the region from `aws.region`, else the first queue URL (the metrics go
/// where the queues are), else the AWS config's.
pub async fn aws_sdk_config(config: &Config) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(profile) = non_empty(&config.aws.profile) {
        loader = loader.profile_name(profile);
    }
    let region = non_empty(&config.aws.region)
        .or_else(|| config.queue.sqs.queue_urls.first().and_then(|url| region_of_url(url)));
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region));
    }
    if let Some(endpoint) = non_empty(&config.aws.endpoint_url) {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

/// An optional string setting: empty means unset.
fn non_empty(value: &str) -> Option<String> {
    Some(value.to_owned()).filter(|v| !v.is_empty())
}

/// The GitHub token and where it was found, by the same rules for the worker, `doctor` and `token status`.
pub fn github_token(config: &Config) -> Result<(SecretString, TokenSource), ForgeError> {
    let environment: Vec<(String, String)> = std::env::vars().collect();
    let token_file = config.forge.token_file.as_deref().map(expand_home);
    let keyring = keyring_entry().ok();
    load_token(&environment, keyring.as_ref(), token_file.as_deref())
}

/// `~/x` is `$HOME/x`, as a user writing a config file expects.
pub fn expand_home(path: &std::path::Path) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path.to_path_buf(),
    }
}

/// Starts publishing metrics to CloudWatch when `metrics.cloudwatch_log_group` is set; the publisher flushes once
/// more when `shutdown` turns true, and the returned task ends after that flush.
pub async fn start_metrics(
    config: &Config,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(Metrics, Option<tokio::task::JoinHandle<()>>), SetupError> {
    if config.metrics.cloudwatch_log_group.is_empty() {
        return Ok((Metrics::disabled(), None));
    }
    let options = CloudWatchOptions {
        log_group: config.metrics.cloudwatch_log_group.clone(),
        log_stream: None,
        interval: std::time::Duration::from_secs(config.metrics.interval_secs),
    };
    let (metrics, task) = Metrics::cloudwatch(&aws_sdk_config(config).await, options, shutdown).await?;
    Ok((metrics, Some(task)))
}
