//! The task lifecycle and the worker loop, plus configuration.

pub mod config;
pub mod lifecycle;
pub mod tasklog;
pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;

use codingworker_forge::{
    Forge, ForgeError, GitHubForge, GitHubOptions, LocalForge, StatusLabels, keyring_entry, load_token,
};
use codingworker_git::{Author, GitWorkspaces};
use codingworker_llm::{LlmClient, LlmError};
use codingworker_queue::{Queue, QueueError, SqliteQueue, SqliteQueueOptions, SqsQueue, SqsQueueOptions};
use codingworker_sandbox::HostExecutor;
use codingworker_store::{Store, StoreError};
use codingworker_telemetry::{CloudWatchOptions, Metrics, TelemetryError};

pub use config::{Config, ConfigError};
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

/// The configured queues: the embedded one, or every SQS queue in `queue.sqs.queue_urls` (each checked now, so
/// a wrong URL or missing credentials stop start-up).
pub async fn open_queues(config: &Config, paths: &DataPaths) -> Result<Vec<Arc<dyn Queue>>, SetupError> {
    let visibility_timeout = std::time::Duration::from_secs(config.queue.visibility_timeout_secs);
    if config.queue.backend != "sqs" {
        let options =
            SqliteQueueOptions { visibility_timeout, max_receives: config.queue.max_receives, ..Default::default() };
        return Ok(vec![Arc::new(SqliteQueue::open(&paths.queue, options)?)]);
    }
    let sqs = &config.queue.sqs;
    let non_empty = |value: &str| Some(value.to_owned()).filter(|v| !v.is_empty());
    let mut queues: Vec<Arc<dyn Queue>> = Vec::new();
    for url in &sqs.queue_urls {
        let queue = SqsQueue::connect(SqsQueueOptions {
            queue_url: url.clone(),
            region: non_empty(&config.aws.region),
            profile: non_empty(&config.aws.profile),
            endpoint_url: non_empty(&config.aws.endpoint_url),
            visibility_timeout,
        })
        .await?;
        if queue.max_receives() != config.queue.max_receives {
            tracing::info!(
                queue = %url,
                "the queue's redrive policy allows {} receives; it decides, not queue.max_receives ({})",
                queue.max_receives(),
                config.queue.max_receives
            );
        }
        queues.push(Arc::new(queue));
    }
    Ok(queues)
}

/// The queue new tasks are sent to from this machine (`submit`, `run`): the first configured one.
pub async fn open_queue(config: &Config, paths: &DataPaths) -> Result<Arc<dyn Queue>, SetupError> {
    open_queues(config, paths).await?.into_iter().next().ok_or_else(|| {
        SetupError::Config(ConfigError::Invalid {
            key: "queue.sqs.queue_urls".into(),
            origin: String::new(),
            reason: "no queue configured".into(),
        })
    })
}

/// Builds everything the lifecycle needs from a validated config.
pub fn build_services(config: Config, paths: &DataPaths, store: Arc<Store>) -> Result<Services, SetupError> {
    let llm = LlmClient::new(config.llm_config()?)?;
    let git = GitWorkspaces::new(
        &paths.root,
        Author { name: config.git.author_name.clone(), email: config.git.author_email.clone() },
    );
    let forge: Arc<dyn Forge> = match config.forge.kind.as_str() {
        "github" => {
            let environment: Vec<(String, String)> = std::env::vars().collect();
            let token_file = config.forge.token_file.as_deref().map(expand_home);
            let keyring = keyring_entry().ok();
            let (token, source) = load_token(&environment, keyring.as_ref(), token_file.as_deref())?;
            tracing::info!(?source, "GitHub token found");
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
                Arc::clone(&store),
            )?)
        }
        _ => Arc::new(LocalForge::new(Arc::clone(&store))),
    };
    Ok(Services {
        forge,
        store,
        git,
        executor: HostExecutor::new(),
        llm,
        logs_dir: paths.logs.clone(),
        metrics: Metrics::disabled(),
        config,
    })
}

/// `~/x` is `$HOME/x`, as a user writing a config file expects.
fn expand_home(path: &std::path::Path) -> PathBuf {
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
    let non_empty = |value: &str| Some(value.to_owned()).filter(|v| !v.is_empty());
    let region = non_empty(&config.aws.region).or_else(|| {
        // The queue URL names the region; the metrics go where the queues are.
        config
            .queue
            .sqs
            .queue_urls
            .first()
            .and_then(|url| url.split("sqs.").nth(1)?.split('.').next().map(str::to_owned))
    });
    let options = CloudWatchOptions {
        log_group: config.metrics.cloudwatch_log_group.clone(),
        log_stream: None,
        region,
        profile: non_empty(&config.aws.profile),
        endpoint_url: non_empty(&config.aws.endpoint_url),
        interval: std::time::Duration::from_secs(config.metrics.interval_secs),
    };
    let (metrics, task) = Metrics::cloudwatch(options, shutdown).await?;
    Ok((metrics, Some(task)))
}
