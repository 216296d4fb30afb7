//! The worker loop: receive, keep the message invisible while working, then acknowledge, retry or park.
//!
//! Modelled on Vector's SQS source: every receive races shutdown, and a message is deleted only after its
//! work is recorded, so a crash anywhere means the queue redelivers, never that a task is lost.

use std::sync::Arc;
use std::time::Duration;

use codingworker_queue::{Queue, QueueError, ReceivedMessage, Released};
use codingworker_store::TaskState;
use codingworker_telemetry::Outcome;
use tokio::sync::watch;

use crate::lifecycle::{Disposition, Services, process_message};
use crate::scheduler::FairScheduler;

/// Exponential backoff for an outage: 1 s, 2 s, 4 s ... at most a minute.
fn backoff_for(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.saturating_sub(1).min(6)).min(Duration::from_secs(60))
}

/// How often a worker paused for disk space looks again.
const DISK_RECHECK: Duration = Duration::from_secs(10);

/// When the loop stops on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunMode {
    /// Until shutdown.
    Forever,
    /// After one message has been handled.
    Once,
    /// When a receive finds the queue empty.
    UntilIdle,
    /// When this task reaches a final state (the `run` command).
    UntilTaskDone(String),
}

/// Counts for the end-of-run summary.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WorkerStats {
    pub handled: u32,
    pub done: u32,
    pub retried: u32,
    pub parked: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("the queue failed: {0}")]
    Queue(#[from] QueueError),
    #[error("a worker loop panicked: {0}")]
    Panicked(String),
}

pub struct Worker {
    services: Arc<Services>,
    queue: Arc<dyn Queue>,
    /// Shared by every loop of a worker process: the global limit, handed out fairly across projects.
    scheduler: Arc<FairScheduler>,
    /// This loop's project, as the scheduler counts them.
    project_index: usize,
}

/// A project as `serve` takes it: its services (its own settings applied), its queue and its own limit.
pub struct ServedProject {
    pub services: Arc<Services>,
    pub queue: Arc<dyn Queue>,
    pub concurrency: usize,
}

impl Worker {
    pub fn new(services: Arc<Services>, queue: Arc<dyn Queue>) -> Self {
        Self { services, queue, scheduler: FairScheduler::new(1, 1), project_index: 0 }
    }

    /// Serves every project's queue with at most `concurrency` tasks at once, and at most each project's own
    /// limit of its tasks: a project runs that many loops, each receiving from its queue (no slot is held while
    /// long-polling) and then waiting for a slot of the global limit, which goes round-robin across projects with
    /// a task waiting; the message stays invisible meanwhile. A project whose queue fails for good stops alone.
    /// Returns when every loop has stopped (for `Once`, after one message per loop).
    pub async fn serve(
        projects: Vec<ServedProject>,
        concurrency: usize,
        mode: RunMode,
        shutdown: watch::Receiver<bool>,
    ) -> Result<WorkerStats, WorkerError> {
        let scheduler = FairScheduler::new(concurrency.max(1), projects.len());
        let mut loops = tokio::task::JoinSet::new();
        for (project_index, project) in projects.into_iter().enumerate() {
            for _ in 0..project.concurrency.max(1) {
                let worker = Worker {
                    services: Arc::clone(&project.services),
                    queue: Arc::clone(&project.queue),
                    scheduler: Arc::clone(&scheduler),
                    project_index,
                };
                let (mode, shutdown) = (mode.clone(), shutdown.clone());
                let name = project.services.project.clone();
                loops.spawn(async move { (name, worker.run(mode, shutdown).await) });
            }
        }
        let mut total = WorkerStats::default();
        let mut first_error = None;
        while let Some(joined) = loops.join_next().await {
            match joined {
                Ok((_, Ok(stats))) => {
                    total.handled += stats.handled;
                    total.done += stats.done;
                    total.retried += stats.retried;
                    total.parked += stats.parked;
                }
                Ok((project, Err(e))) => {
                    if !loops.is_empty() {
                        // Said now, not at exit: the other projects go on being served meanwhile.
                        tracing::error!("project {project} is no longer served: {e}; the other projects go on");
                    }
                    first_error.get_or_insert(e);
                }
                Err(e) => {
                    first_error.get_or_insert(WorkerError::Panicked(e.to_string()));
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(total),
        }
    }

    /// Runs until `mode` says stop or `shutdown` turns true.
    pub async fn run(&self, mode: RunMode, mut shutdown: watch::Receiver<bool>) -> Result<WorkerStats, WorkerError> {
        let mut stats = WorkerStats::default();
        let configured_wait = Duration::from_secs(self.services.config.queue.wait_secs);
        // Draining only needs to notice quickly that nothing is left; a daemon long-polls to save requests.
        let wait =
            if mode == RunMode::UntilIdle { configured_wait.min(Duration::from_secs(1)) } else { configured_wait };
        let mut consecutive_queue_errors = 0u32;
        let mut queue_outage_started = std::time::Instant::now();
        tracing::info!(project = %self.services.project, queue = %self.queue.describe(), "worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            // Only the daemon waits out a model outage; a foreground run reports the failure instead of waiting.
            if mode == RunMode::Forever && !self.model_answers().await {
                // Taking a task now would only burn one of its attempts on a dead server; wait for it instead.
                tokio::select! {
                    _ = shutdown.changed() => break,
                    _ = tokio::time::sleep(self.outage_backoff(&self.services.model_outage)) => continue,
                }
            }
            if self.services.disk.check().is_err() {
                // Said once by the guard; look again in a while, still answering shutdown at once.
                tokio::select! {
                    _ = shutdown.changed() => break,
                    _ = tokio::time::sleep(DISK_RECHECK) => continue,
                }
            }
            let received = tokio::select! {
                _ = shutdown.changed() => break,
                received = self.queue.receive(wait) => received,
            };
            if received.is_ok() && consecutive_queue_errors > 0 {
                tracing::info!(
                    "the queue {} answers again after {consecutive_queue_errors} failed receive(s) over {}s",
                    self.queue.describe(),
                    queue_outage_started.elapsed().as_secs()
                );
                consecutive_queue_errors = 0;
            }
            let message = match received {
                Ok(Some(message)) => message,
                Ok(None) => {
                    if mode == RunMode::UntilIdle {
                        // Idle means nothing in flight elsewhere (maybe a dead worker's) and no retry pending.
                        match self.queue.depth().await {
                            Ok(depth) if depth.is_idle() => break,
                            Ok(depth) => tracing::debug!(?depth, "queue not idle yet; waiting"),
                            Err(e) => tracing::warn!("could not read the queue depth: {e}"),
                        }
                    }
                    continue;
                }
                // An outage (network down, throttling, 5xx) is waited out, with one line when it starts and one
                // when it ends; only a permanent error (access denied, no such queue) stops the worker.
                Err(e) if e.is_retryable() => {
                    consecutive_queue_errors += 1;
                    if consecutive_queue_errors == 1 {
                        queue_outage_started = std::time::Instant::now();
                        tracing::error!(
                            "the queue {} does not answer ({e}); retrying with backoff, no task is lost meanwhile",
                            self.queue.describe()
                        );
                    }
                    let backoff = backoff_for(consecutive_queue_errors);
                    tokio::select! {
                        _ = shutdown.changed() => break,
                        _ = tokio::time::sleep(backoff) => continue,
                    }
                }
                Err(e) => return Err(e.into()),
            };

            // A fair share of the global limit; the message stays invisible while another project's task runs.
            let slot = {
                let waiting = spawn_heartbeat(Arc::clone(&self.queue), message.receipt.clone(), self.visibility());
                let slot = tokio::select! {
                    _ = shutdown.changed() => None,
                    slot = self.scheduler.acquire(self.project_index) => Some(slot),
                };
                waiting.abort();
                slot
            };
            let Some(_slot) = slot else {
                if let Err(e) = self.queue.release(&message.receipt, "the worker shut down", Duration::ZERO).await {
                    tracing::warn!("could not release the message on shutdown: {e}");
                }
                break;
            };
            let started = std::time::Instant::now();
            self.services.metrics.task_started();
            let waited = chrono::Utc::now().signed_duration_since(message.sent_at);
            self.services.metrics.queue_lag(waited.to_std().unwrap_or_default());
            let Some(disposition) = self.handle(&message, &mut shutdown).await else {
                // Shut down mid-task: hand the message back at once so another worker can take it.
                if let Err(e) =
                    self.queue.release(&message.receipt, "the worker shut down during the task", Duration::ZERO).await
                {
                    tracing::warn!("could not release the message on shutdown: {e}");
                }
                break;
            };
            stats.handled += 1;
            let outcome = match &disposition {
                Disposition::Done { .. } => Some(Outcome::Succeeded),
                Disposition::Retry { .. } if message.receive_count < message.max_receives => Some(Outcome::Failed),
                Disposition::Retry { .. } | Disposition::Park { .. } => Some(Outcome::DeadLettered),
                Disposition::Skip { .. } => None,
            };
            if let Some(outcome) = outcome {
                self.services.metrics.task_settled(outcome, started.elapsed());
            }
            let task_id = self.settle(&message, disposition, &mut stats).await;
            match &mode {
                RunMode::Once => break,
                RunMode::UntilTaskDone(wanted) if *wanted == task_id && self.is_final(wanted) => break,
                _ => {}
            }
        }
        tracing::info!(?stats, "worker stopped");
        Ok(stats)
    }

    /// Whether the model server answers, checked at most every `MODEL_RECHECK` while it does. One line when it
    /// stops answering and one when it is back, whichever loop notices.
    async fn model_answers(&self) -> bool {
        let outage = &self.services.model_outage;
        if outage.recently_fine() {
            return true;
        }
        let llm = &self.services.llm;
        let checked = tokio::time::timeout(Duration::from_secs(10), llm.check_model()).await;
        // Only an unreachable server holds tasks back; a missing model is a set-up error the task reports.
        let unreachable = match &checked {
            Ok(Ok(_)) => None,
            Ok(Err(e)) if e.is_transient() => Some(e.to_string()),
            Ok(Err(_)) => None,
            Err(_) => Some("no answer within 10 s".to_owned()),
        };
        match unreachable {
            None => {
                if let Some(failures) = outage.fine() {
                    tracing::info!(
                        "the model server {} answers again after {failures} failed check(s)",
                        llm.config().base_url
                    );
                }
                true
            }
            Some(reason) if self.fallback_covers_outage() => {
                if outage.failed() == 1 {
                    tracing::warn!(
                        "the model server {} does not answer ({reason}); tasks go on to the fallback models \
                         (fallback.on has endpoint_down)",
                        llm.config().base_url
                    );
                }
                true
            }
            Some(reason) => {
                if outage.failed() == 1 {
                    tracing::error!(
                        "the model server {} does not answer ({reason}): not taking tasks until it does, so none \
                         loses an attempt; checking again with backoff",
                        llm.config().base_url
                    );
                }
                false
            }
        }
    }

    /// Whether a task can still be done while the local model is down: fallback is on for that condition and the
    /// monthly spend cap leaves room.
    fn fallback_covers_outage(&self) -> bool {
        let fallback = &self.services.config.fallback;
        if self.services.fallback.is_empty() || !fallback.on.iter().any(|c| c == "endpoint_down") {
            return false;
        }
        crate::fallback::month_to_date(&self.services.store)
            .is_ok_and(|(_, spent)| spent < fallback.monthly_spend_cap_usd)
    }

    fn outage_backoff(&self, outage: &crate::housekeeping::Outage) -> Duration {
        backoff_for(outage.failures())
    }

    fn visibility(&self) -> Duration {
        Duration::from_secs(self.services.config.queue.visibility_timeout_secs)
    }

    /// Runs the lifecycle with a heartbeat; `None` if shutdown came first.
    async fn handle(&self, message: &ReceivedMessage, shutdown: &mut watch::Receiver<bool>) -> Option<Disposition> {
        let heartbeat = spawn_heartbeat(Arc::clone(&self.queue), message.receipt.clone(), self.visibility());
        let task_id = serde_json::from_str::<serde_json::Value>(&message.body)
            .ok()
            .and_then(|v| v.get("task_id").and_then(|id| id.as_str()).map(str::to_owned));
        let mut registration = task_id.as_deref().map(|id| self.services.cancellations.register(id));
        let cancelled = async {
            match registration.as_mut() {
                Some(r) => {
                    let _ = r.cancelled.wait_for(|c| *c).await;
                }
                None => std::future::pending().await,
            }
        };
        let work = process_message(&self.services, message);
        tokio::pin!(work);
        let result = tokio::select! {
            disposition = &mut work => Some(disposition),
            () = cancelled => {
                let task_id = task_id.clone().unwrap_or_default();
                let reason = "cancelled from the dashboard; redrive it to try again".to_owned();
                record(self.services.store.add_event(&task_id, None, "cancelled", &reason));
                record(self.services.store.interrupt_attempt(&task_id, &reason));
                crate::housekeeping::remove_attempt_leftovers(&self.services, &task_id).await;
                Some(Disposition::Park { task_id, reason })
            }
            _ = shutdown.changed() => {
                let grace = Duration::from_secs(self.services.config.worker.shutdown_grace_secs);
                tracing::info!("shutting down: the running task may finish within {}s (worker.shutdown_grace_secs)", grace.as_secs());
                match tokio::time::timeout(grace, &mut work).await {
                    Ok(disposition) => Some(disposition),
                    Err(_) => {
                        if let Some(task_id) = &task_id {
                            let note = format!("the worker shut down and the task did not finish within {}s; it returns to the queue", grace.as_secs());
                            record(self.services.store.add_event(task_id, None, "interrupted", &note));
                            record(self.services.store.interrupt_attempt(task_id, &note));
                            crate::housekeeping::remove_attempt_leftovers(&self.services, task_id).await;
                        }
                        None
                    }
                }
            }
        };
        heartbeat.abort();
        result
    }

    /// Acknowledges, releases or parks the message and records the final state. Returns the task id.
    async fn settle(&self, message: &ReceivedMessage, disposition: Disposition, stats: &mut WorkerStats) -> String {
        let store = &self.services.store;
        match disposition {
            Disposition::Done { task_id, summary } => {
                stats.done += 1;
                match self.queue.delete(&message.receipt).await {
                    Ok(()) => {
                        record(store.add_event(&task_id, None, "acknowledged", &summary));
                        crate::faults::pause_after("acknowledged");
                    }
                    // The work is published; a redelivery will redo it idempotently (same branch, same PR record).
                    Err(e) => tracing::warn!("could not acknowledge the message: {e}"),
                }
                task_id
            }
            Disposition::Skip { task_id, reason } => {
                match self.queue.delete(&message.receipt).await {
                    Ok(()) => record(store.add_event(&task_id, None, "acknowledged", &format!("not worked: {reason}"))),
                    Err(e) => tracing::warn!("could not acknowledge the refused message: {e}"),
                }
                task_id
            }
            Disposition::Retry { task_id, reason } => {
                let delay = Duration::from_secs(
                    self.services.config.queue.retry_delay_secs.saturating_mul(u64::from(message.receive_count)),
                );
                match self.queue.release(&message.receipt, &reason, delay).await {
                    Ok(Released::WillRetry { after }) => {
                        stats.retried += 1;
                        tracing::warn!("attempt {} failed, retrying in {after:?}: {reason}", message.receive_count);
                        record(store.set_task_state(&task_id, TaskState::Retrying, Some(&reason)));
                    }
                    Ok(Released::DeadLettered) => {
                        stats.parked += 1;
                        tracing::error!(
                            "attempt {} failed, no attempts left; dead-lettered: {reason}",
                            message.receive_count
                        );
                        record(store.set_task_state(&task_id, TaskState::DeadLettered, Some(&reason)));
                        record(store.add_event(&task_id, None, "dead_lettered", &reason));
                    }
                    Err(e) => tracing::error!("could not release the message (it returns after its timeout): {e}"),
                }
                task_id
            }
            Disposition::Park { task_id, reason } => {
                stats.parked += 1;
                match self.queue.dead_letter(&message.receipt, &reason).await {
                    Ok(()) => {
                        tracing::error!("task parked in the dead-letter store: {reason}");
                        if !task_id.starts_with("rejected-") {
                            record(store.set_task_state(&task_id, TaskState::DeadLettered, Some(&reason)));
                        }
                        record(store.add_event(&task_id, None, "dead_lettered", &reason));
                    }
                    Err(e) => tracing::error!("could not park the message (it returns after its timeout): {e}"),
                }
                task_id
            }
        }
    }

    fn is_final(&self, task_id: &str) -> bool {
        match self.services.store.task_detail(task_id) {
            Ok(Some(detail)) => {
                !matches!(detail.task.state, TaskState::Queued | TaskState::Running | TaskState::Retrying)
            }
            _ => true,
        }
    }
}

/// Keeps a received message invisible while it waits or is worked on.
fn spawn_heartbeat(queue: Arc<dyn Queue>, receipt: String, visibility: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // Extend well before expiry so one slow extension cannot let the message reappear mid-task.
        let mut interval = tokio::time::interval(visibility / 3);
        interval.tick().await;
        loop {
            interval.tick().await;
            if let Err(e) = queue.extend_visibility(&receipt, visibility).await {
                tracing::warn!("heartbeat could not extend the message's visibility: {e}");
            }
        }
    })
}

fn record<E: std::fmt::Display>(result: Result<(), E>) {
    if let Err(e) = result {
        tracing::warn!("could not write to the task store: {e}");
    }
}
