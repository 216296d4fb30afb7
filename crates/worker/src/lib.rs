//! The task lifecycle and the worker loop, plus configuration.

pub mod config;
pub mod lifecycle;
pub mod tasklog;
pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;

use codingworker_forge::LocalForge;
use codingworker_git::{Author, GitWorkspaces};
use codingworker_llm::{LlmClient, LlmError};
use codingworker_queue::{Queue, QueueError, SqliteQueue, SqliteQueueOptions};
use codingworker_sandbox::HostExecutor;
use codingworker_store::{Store, StoreError};

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

pub fn open_queue(config: &Config, paths: &DataPaths) -> Result<Arc<dyn Queue>, SetupError> {
    let options = SqliteQueueOptions {
        visibility_timeout: std::time::Duration::from_secs(config.queue.visibility_timeout_secs),
        max_receives: config.queue.max_receives,
        ..SqliteQueueOptions::default()
    };
    Ok(Arc::new(SqliteQueue::open(&paths.queue, options)?))
}

/// Builds everything the lifecycle needs from a validated config.
pub fn build_services(config: Config, paths: &DataPaths, store: Arc<Store>) -> Result<Services, SetupError> {
    let llm = LlmClient::new(config.llm_config()?)?;
    let git = GitWorkspaces::new(
        &paths.root,
        Author { name: config.git.author_name.clone(), email: config.git.author_email.clone() },
    );
    Ok(Services {
        forge: Arc::new(LocalForge::new(Arc::clone(&store))),
        store,
        git,
        executor: HostExecutor::new(),
        llm,
        logs_dir: paths.logs.clone(),
        config,
    })
}
