//! The life of one task, start to finish, in one place.
//!
//! `received -> validated -> workspace_ready -> agent_running -> verified | unverified -> pushed -> pr_opened`,
//! then the worker loop acknowledges. Every transition is an event in the store. Any failure ends in a
//! [`Disposition`]: retry (the queue brings the message back, and parks it after the last attempt) or park now
//! (it can never succeed). Whether a failure is worth retrying is decided by each crate's error type, nowhere else.

use std::sync::Arc;
use std::time::{Duration, Instant};

use codingworker_agent::{Agent, AgentEvent, AgentOutcome, AgentSettings, AgentTask, EditFormat, Verdict};
use codingworker_forge::{Forge, IssueReport, IssueStage, PullRequestDraft, TaskCheck};
use codingworker_git::{CommitInfo, GitWorkspaces, PushPlan, Workspace, branch_name};
use codingworker_llm::LlmClient;
use codingworker_protocol::{AgentKind, TaskMessage};
use codingworker_queue::ReceivedMessage;
use codingworker_sandbox::{DockerSandbox, Executor, HostExecutor};
use codingworker_store::{AttemptFinish, AttemptId, AttemptStatus, NewTask, Store, TaskState};
use tracing::Instrument;

use crate::config::Config;
use crate::fallback::Condition;

/// Held while a task is checked for duplicates and its attempt started.
static CLAIM: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Everything a task needs, built once at start-up.
pub struct Services {
    /// The project whose queue this serves (`default` when none is configured).
    pub project: String,
    pub config: Config,
    pub store: Arc<Store>,
    pub forge: Arc<dyn Forge>,
    pub git: GitWorkspaces,
    /// The Docker engine, when the sandbox or the OpenHands backend needs it.
    pub docker: Option<Arc<DockerSandbox>>,
    pub llm: LlmClient,
    /// Models tried after `llm` when it cannot do a task (`fallback.*`); empty when fallback is off.
    pub fallback: Vec<crate::fallback::FallbackEndpoint>,
    /// Directory of the per-task log files.
    pub logs_dir: std::path::PathBuf,
    pub metrics: codingworker_telemetry::Metrics,
    /// Free space in the data directory; the worker takes no task while it is low.
    pub disk: Arc<crate::housekeeping::DiskGuard>,
    /// Running tasks, cancellable from the dashboard.
    pub cancellations: Arc<crate::housekeeping::Cancellations>,
    /// Whether the model server answers: no task is taken while it does not.
    pub model_outage: crate::housekeeping::Outage,
}

/// What the worker loop should do with the message.
#[derive(Debug, Clone, PartialEq)]
pub enum Disposition {
    /// Finished (a pull request is open, verified or clearly marked unverified): acknowledge.
    Done { task_id: String, summary: String },
    /// Failed in a way another attempt may fix.
    Retry { task_id: String, reason: String },
    /// Can never succeed: park in the dead-letter store now.
    Park { task_id: String, reason: String },
    /// Not worked because the forge says the request is stale or forged: acknowledge with the reason recorded.
    Skip { task_id: String, reason: String },
}

/// A failed step: its user-facing reason and whether another attempt may help.
struct StepError {
    reason: String,
    retryable: bool,
}

impl StepError {
    fn new(context: &str, error: impl std::fmt::Display, retryable: bool) -> Self {
        Self { reason: format!("{context}: {error}"), retryable }
    }
}

/// Runs one received message through the whole lifecycle.
pub async fn process_message(services: &Services, message: &ReceivedMessage) -> Disposition {
    let task = match TaskMessage::parse(&message.body) {
        Ok(task) => task,
        Err(error) => return reject(services, message, &error.to_string()),
    };
    let repository = task.repository_full_name();
    if !services.config.accepts_repository(&repository) {
        let reason = format!(
            "repository {repository} is not in queue.allowed_repositories; add it there if this worker should \
             take its tasks"
        );
        return reject(services, message, &reason);
    }
    let span = tracing::info_span!("task", task_id = %task.task_id, attempt = message.receive_count);
    process_task(services, message, task).instrument(span).await
}

/// A message that is not a valid task is recorded under its queue id and parked with the reason.
fn reject(services: &Services, message: &ReceivedMessage, reason: &str) -> Disposition {
    let task_id = format!("rejected-{}", message.message_id);
    tracing::warn!(message_id = %message.message_id, "rejected message: {reason}");
    let recorded = services
        .store
        .upsert_task(&NewTask {
            task_id: task_id.clone(),
            project: services.project.clone(),
            repository: "(unknown)".into(),
            issue_number: 0,
            title: "(rejected message)".into(),
            // Enough to recognise the message; the full body stays in the dead-letter store.
            message_json: message.body.chars().take(4096).collect(),
        })
        .and_then(|()| services.store.add_event(&task_id, None, "rejected", reason))
        .and_then(|()| services.store.set_task_state(&task_id, TaskState::Rejected, Some(reason)));
    if let Err(e) = recorded {
        tracing::error!("could not record the rejected message in the store: {e}");
    }
    Disposition::Park { task_id, reason: format!("invalid task message: {reason}") }
}

/// Writes each transition to the store and the log.
struct Recorder<'a> {
    store: &'a Store,
    task_id: &'a str,
    attempt: AttemptId,
}

impl Recorder<'_> {
    fn event(&self, kind: &str, detail: &str) {
        tracing::info!(event = kind, "{detail}");
        if let Err(e) = self.store.add_event(self.task_id, Some(self.attempt), kind, detail) {
            tracing::warn!("could not record event {kind}: {e}");
        }
        crate::faults::pause_after(kind);
    }
}

async fn process_task(services: &Services, message: &ReceivedMessage, task: TaskMessage) -> Disposition {
    let store = services.store.as_ref();
    let task_id = task.task_id.clone();
    let log_path = services.logs_dir.join(format!("{task_id}.log"));
    // The duplicate check and the attempt's start are one step, so two tasks of one issue received together by
    // this process cannot both pass the check.
    let claim = CLAIM.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let registered = store
        .upsert_task(&NewTask {
            task_id: task_id.clone(),
            project: services.project.clone(),
            repository: task.repository_full_name(),
            issue_number: task.issue.number,
            title: task.issue.title.clone(),
            message_json: message.body.clone(),
        })
        .and_then(|()| store.tasks_for_issue(&task.repository_full_name(), task.issue.number));
    let others = match registered {
        Ok(others) => others,
        Err(e) => return Disposition::Retry { task_id, reason: format!("task store unavailable: {e}") },
    };
    // A running task counts as alive for its whole budget and five minutes more.
    let live =
        chrono::Duration::seconds(i64::try_from(services.config.agent.time_budget_secs).unwrap_or(i64::MAX / 2) + 300);
    if let Some(reason) = crate::duplicates::duplicate_of(&task, &others, chrono::Utc::now(), live) {
        return skip_duplicate(store, &task_id, &others, &reason);
    }
    let started = store.start_attempt(&task_id, Some(&log_path.to_string_lossy()));
    drop(claim);
    let attempt = match started {
        Ok(attempt) => attempt,
        // Without the store there is no history; the message comes back and a later attempt may have it.
        Err(e) => return Disposition::Retry { task_id, reason: format!("task store unavailable: {e}") },
    };
    let recorder = Recorder { store, task_id: &task_id, attempt };
    let max_receives = message.max_receives;
    recorder.event(
        "received",
        &format!(
            "issue #{} of {} (attempt {} of {max_receives})",
            task.issue.number,
            task.repository_full_name(),
            message.receive_count
        ),
    );
    recorder.event("validated", "task message v1 is valid");

    let started = Instant::now();
    let mut usage = Usage::default();
    let budget = Duration::from_secs(services.config.agent.time_budget_secs);
    // A forged or stale message (the issue is closed, gone or unlabelled by now) must not run.
    let checked = services.forge.check_task(&task.repository_full_name(), task.issue.number).await;
    if let Ok(TaskCheck::Refuse(reason)) = &checked {
        return refuse_stale(services, &recorder, reason);
    }
    if let Some(follow_up) = task.follow_up.as_ref().filter(|f| f.round > services.config.forge.max_follow_up_rounds) {
        let reason = format!(
            "pull request #{} has had {} follow-up rounds (forge.max_follow_up_rounds); a human should take it from here",
            follow_up.pull_request, services.config.forge.max_follow_up_rounds
        );
        report(services, &task, IssueStage::Failed, &format!("CodingWorker stops here: {reason}.")).await;
        return refuse_stale(services, &recorder, &reason);
    }
    let timed = match checked {
        Err(e) => Ok(Err(StepError::new("checking the issue on the forge", &e, e.is_retryable()))),
        Ok(_) => {
            let working = format!(
                "CodingWorker is working on this issue (attempt {} of {}, model `{}`). This comment is updated as it \
                 goes.",
                message.receive_count,
                message.max_receives,
                task.overrides.model.as_deref().unwrap_or(&services.llm.config().model)
            );
            report(services, &task, IssueStage::Working, &working).await;
            tokio::time::timeout(
                budget,
                run_stages(services, &recorder, &task, (message.receive_count, message.max_receives), &mut usage),
            )
            .await
        }
    };
    let result = match timed {
        Ok(result) => result,
        // A slower retry would hit the same wall; the events so far are in the store and the task log.
        Err(_) => Err(StepError {
            reason: format!(
                "the attempt exceeded its time budget of {}s (agent.time_budget_secs); progress so far is in the task log",
                budget.as_secs()
            ),
            retryable: false,
        }),
    };
    let (disposition, finish) = match result {
        Ok(done) => {
            let (status, state) = match &done.verdict {
                Some(verdict) if verdict.is_fixed() => (AttemptStatus::Succeeded, TaskState::Succeeded),
                Some(_) => (AttemptStatus::Unverified, TaskState::Draft),
                None => (AttemptStatus::NoChange, TaskState::NoChange),
            };
            if let Err(e) = store.set_task_state(&task_id, state, None) {
                tracing::warn!("could not record the task state: {e}");
            }
            let finish = AttemptFinish {
                status,
                summary: done.summary.clone(),
                error: None,
                llm_calls: usage.llm_calls,
                prompt_tokens: usage.prompt_tokens,
                completion_tokens: usage.completion_tokens,
                cached_prompt_tokens: usage.cached_prompt_tokens,
                branch: done.branch,
                commit: done.commit,
                model: usage.model.clone(),
                cost_usd: usage.cost_usd,
                verdict: Some(done.verdict.as_ref().map_or(NO_CHANGE_VERDICT, Verdict::key).to_owned()),
            };
            (Disposition::Done { task_id: task_id.clone(), summary: done.summary }, finish)
        }
        Err(error) => {
            recorder.event(if error.retryable { "failed_transient" } else { "failed_permanent" }, &error.reason);
            let (stage, comment) = if !error.retryable || message.receive_count >= max_receives {
                (
                    IssueStage::Failed,
                    format!(
                        "CodingWorker gave up on this issue after {} attempt(s): {}",
                        message.receive_count, error.reason
                    ),
                )
            } else {
                (
                    IssueStage::Working,
                    format!(
                        "CodingWorker's attempt {} of {max_receives} failed ({}); it will try again.",
                        message.receive_count, error.reason
                    ),
                )
            };
            report(services, &task, stage, &comment).await;
            let finish = AttemptFinish {
                status: AttemptStatus::Failed,
                summary: String::new(),
                error: Some(error.reason.clone()),
                llm_calls: usage.llm_calls,
                prompt_tokens: usage.prompt_tokens,
                completion_tokens: usage.completion_tokens,
                cached_prompt_tokens: usage.cached_prompt_tokens,
                branch: None,
                commit: None,
                model: usage.model.clone(),
                cost_usd: usage.cost_usd,
                verdict: None,
            };
            let disposition = if error.retryable {
                Disposition::Retry { task_id: task_id.clone(), reason: error.reason }
            } else {
                Disposition::Park { task_id: task_id.clone(), reason: error.reason }
            };
            (disposition, finish)
        }
    };
    if let Err(e) = store.finish_attempt(attempt, &finish) {
        tracing::warn!("could not record the attempt's end: {e}");
    }
    tracing::info!(
        elapsed_secs = started.elapsed().as_secs_f64(),
        llm_calls = usage.llm_calls,
        prompt_tokens = usage.prompt_tokens,
        completion_tokens = usage.completion_tokens,
        "attempt finished"
    );
    disposition
}

/// Tells the issue where the work stands. Best-effort: a comment that cannot be posted must not turn finished
/// (or failed) work into a retry.
async fn report(services: &Services, task: &TaskMessage, stage: IssueStage, body: &str) {
    let repository = task.repository_full_name();
    let report =
        IssueReport { task_id: &task.task_id, repository: &repository, issue_number: task.issue.number, stage, body };
    if let Err(e) = services.forge.report_on_issue(&report).await {
        tracing::warn!("could not report on the issue: {e}");
    }
}

/// Records a duplicate request and acknowledges it without an attempt. A repeated delivery of an answered message
/// keeps its task's state; another request is marked `duplicate`.
fn skip_duplicate(
    store: &Store,
    task_id: &str,
    others: &[codingworker_store::TaskRecord],
    reason: &str,
) -> Disposition {
    tracing::info!(event = "duplicate", "{reason}");
    let own_state = others.iter().find(|t| t.task_id == task_id).map(|t| t.state);
    let mut recorded = store.add_event(task_id, None, "duplicate", reason);
    if matches!(own_state, Some(TaskState::Queued | TaskState::Retrying) | None) {
        recorded = recorded.and_then(|()| store.set_task_state(task_id, TaskState::Duplicate, Some(reason)));
    }
    if let Err(e) = recorded {
        tracing::warn!("could not record the duplicate: {e}");
    }
    Disposition::Skip { task_id: task_id.to_owned(), reason: format!("duplicate request: {reason}") }
}

/// Records why a task is not worked and acknowledges it: retrying cannot make a closed issue open again, nor
/// un-spend follow-up rounds.
fn refuse_stale(services: &Services, recorder: &Recorder<'_>, reason: &str) -> Disposition {
    recorder.event("refused", reason);
    let finish = AttemptFinish {
        status: AttemptStatus::Failed,
        summary: String::new(),
        error: Some(reason.to_owned()),
        llm_calls: 0,
        prompt_tokens: 0,
        completion_tokens: 0,
        cached_prompt_tokens: None,
        branch: None,
        commit: None,
        model: None,
        cost_usd: 0.0,
        verdict: None,
    };
    if let Err(e) = services.store.finish_attempt(recorder.attempt, &finish) {
        tracing::warn!("could not record the attempt's end: {e}");
    }
    if let Err(e) = services.store.set_task_state(recorder.task_id, TaskState::Rejected, Some(reason)) {
        tracing::warn!("could not record the task state: {e}");
    }
    Disposition::Skip { task_id: recorder.task_id.to_owned(), reason: reason.to_owned() }
}

/// What an attempt used, summed over every model of the chain it tried.
#[derive(Default)]
struct Usage {
    llm_calls: u32,
    prompt_tokens: u64,
    completion_tokens: u64,
    cached_prompt_tokens: Option<u64>,
    cost_usd: f64,
    /// The model that wrote the change, or the last one tried.
    model: Option<String>,
}

/// How an attempt ended well: a published change with its verdict, or nothing to change (`verdict`, `branch` and
/// `commit` all `None`).
struct Completed {
    verdict: Option<Verdict>,
    summary: String,
    branch: Option<String>,
    commit: Option<String>,
}

async fn run_stages(
    services: &Services,
    recorder: &Recorder<'_>,
    task: &TaskMessage,
    (receive_count, max_receives): (u32, u32),
    usage: &mut Usage,
) -> Result<Completed, StepError> {
    let last_attempt = receive_count >= max_receives;
    let backend = task.overrides.agent.unwrap_or(if services.config.agent.backend == "openhands" {
        AgentKind::Openhands
    } else {
        AgentKind::Builtin
    });
    if backend == AgentKind::Openhands && services.docker.is_none() {
        return Err(StepError {
            reason: "the task asks for the OpenHands backend, which runs in Docker, but this worker found no Docker \
                     engine when it started (start Docker, then the worker)"
                .into(),
            retryable: false,
        });
    }

    // A follow-up continues on its pull request's branch; a new task starts its own from the base branch.
    let (branch, base_branch) = match &task.follow_up {
        Some(follow_up) => (follow_up.branch.clone(), Some(follow_up.branch.as_str())),
        None => (branch_name(task.issue.number, &task.issue.title), task.overrides.base_branch.as_deref()),
    };
    let worktree_name = format!("{}-attempt-{receive_count}", task.task_id);
    let workspace = services
        .git
        .prepare(&task.repository_full_name(), &task.repository.clone_url, base_branch, &branch, &worktree_name)
        .await
        .map_err(|e| {
            let retryable = e.is_retryable();
            StepError::new("preparing the git workspace", e, retryable)
        })?;
    recorder.event(
        "workspace_ready",
        &format!("{} at {} ({})", workspace.base_branch, short(&workspace.base_commit), workspace.path.display()),
    );

    let executor = match attempt_executor(services, recorder, &workspace, &worktree_name).await {
        Ok(executor) => executor,
        Err(e) => {
            workspace.remove().await;
            return Err(e);
        }
    };
    let attempt = Attempt { workspace: &workspace, executor: &executor, backend, receive_count, last_attempt };
    let result = run_agent_and_publish(services, recorder, task, &attempt, usage).await;
    executor.finish().await;
    workspace.remove().await;
    result
}

/// One attempt's workspace, where its commands run, and which agent does the work.
struct Attempt<'a> {
    workspace: &'a Workspace,
    executor: &'a Executor,
    backend: AgentKind,
    receive_count: u32,
    last_attempt: bool,
}

/// The attempt's own locked-down container (`sandbox.mode = "docker"`), or the host.
async fn attempt_executor(
    services: &Services,
    recorder: &Recorder<'_>,
    workspace: &Workspace,
    worktree_name: &str,
) -> Result<Executor, StepError> {
    let docker = match &services.docker {
        Some(docker) if services.config.sandbox.mode == "docker" => docker,
        _ => return Ok(Executor::Host(HostExecutor::new())),
    };
    let budget = Duration::from_secs(services.config.agent.time_budget_secs);
    let started = Instant::now();
    let session = docker
        .start(&workspace.path, worktree_name, budget)
        .await
        .map_err(|e| StepError::new("starting the sandbox container", &e, e.is_retryable()))?;
    recorder.event(
        "sandbox_started",
        &format!(
            "container {} from {} (network {}) in {} ms",
            short(session.id()),
            services.config.sandbox.image,
            services.config.sandbox.network,
            started.elapsed().as_millis()
        ),
    );
    Ok(Executor::Docker(session))
}

async fn run_agent_and_publish(
    services: &Services,
    recorder: &Recorder<'_>,
    task: &TaskMessage,
    attempt: &Attempt<'_>,
    usage: &mut Usage,
) -> Result<Completed, StepError> {
    let (workspace, receive_count, last_attempt) = (attempt.workspace, attempt.receive_count, attempt.last_attempt);
    let (outcome, chain) = match attempt.backend {
        AgentKind::Builtin => run_model_chain(services, recorder, task, attempt, usage).await?,
        AgentKind::Openhands => {
            usage.model = Some(model_of(services, task).to_owned());
            let outcome = run_openhands(services, recorder, task, attempt, usage).await?;
            (outcome, ChainReport::local(model_of(services, task)))
        }
    };

    if let Some(evidence) = &outcome.no_change_needed {
        return Ok(nothing_to_change(services, recorder, task, evidence, outcome.summary.clone()).await);
    }
    // The agent's own list: the workspace also holds what the test runs left (`Cargo.lock`, caches), no part of
    // the change; those paths of the list that still differ from the base are what is checked and committed.
    let in_workspace =
        workspace.changed_files().await.map_err(|e| StepError::new("reading the workspace", &e, e.is_retryable()))?;
    let changed: Vec<String> =
        outcome.changed_files.iter().filter(|path| in_workspace.contains(path)).cloned().collect();
    if changed.is_empty() {
        return Err(StepError { reason: "the agent made no change to the repository".into(), retryable: true });
    }
    let forge = &services.config.forge;
    let refused =
        crate::policy::refused_changes(&workspace.path, &changed, &forge.protected_paths, forge.max_file_bytes);
    if !refused.is_empty() {
        // Another attempt may well leave those files alone; nothing of this one is pushed.
        return Err(StepError { reason: format!("the change is refused: {}", refused.join("; ")), retryable: true });
    }
    // Only `fixed` is a verified change; a change that breaks nothing but shows no fix is published as a draft at
    // once (another attempt would search the same way), a failing one is retried while attempts remain.
    let detail = match &outcome.verdict {
        Verdict::Fixed { by } => {
            format!("fixed: {} failed on the base commit and pass with the change", name_list(by, 5))
        }
        Verdict::NoRegressions if !outcome.still_failing.is_empty() => format!(
            "no regressions: the tests that passed before still pass ({} failed before and still fail); no test \
             shows the fix",
            outcome.still_failing.len()
        ),
        Verdict::NoRegressions => "no regressions: the tests pass before and after; no test shows the fix".into(),
        Verdict::TestsFail if !last_attempt => {
            return Err(StepError {
                reason: format!(
                    "tests still fail with the best of {} candidate(s): {}",
                    outcome.candidates,
                    what_fails(&outcome)
                ),
                retryable: true,
            });
        }
        Verdict::TestsFail => "tests fail on the last attempt; opening a draft for a human to finish".into(),
        Verdict::TestsNotRun { reason } => format!("tests not run: {reason}"),
    };
    recorder.event("verdict", &detail);
    let verified = outcome.verdict.is_fixed();

    let commit_message = format!(
        "Fix #{}: {}\n\n{}\n\nRefs #{}\nGenerated by CodingWorker ({}, model {}).\n",
        task.issue.number,
        task.issue.title.trim(),
        outcome.summary.trim(),
        task.issue.number,
        backend_label(attempt.backend),
        chain.model
    );
    let commit = match workspace.commit(&commit_message, &changed).await {
        Ok(Some(commit)) => commit,
        Ok(None) => {
            return Err(StepError {
                reason: "none of the files the agent wrote differs from the base".into(),
                retryable: true,
            });
        }
        Err(e) => return Err(StepError::new("committing", &e, e.is_retryable())),
    };
    recorder.event("committed", &format!("{} on {}", short(&commit.sha), workspace.branch));
    let target = services
        .forge
        .push_target(&task.repository_full_name(), &task.repository.clone_url)
        .await
        .map_err(|e| StepError::new("finding where to push", &e, e.is_retryable()))?;
    let plan = push(services, recorder, task, workspace, &commit, &target).await?;

    let draft = PullRequestDraft {
        task_id: task.task_id.clone(),
        repository: task.repository_full_name(),
        issue_number: task.issue.number,
        title: pull_request_title(task, verified),
        body: with_branch_note(
            pull_request_body(task, &outcome, &commit, (attempt.backend, receive_count), usage, &chain),
            &plan,
        ),
        head_branch: plan.branch.clone(),
        // A follow-up updates its open pull request, whose base stays what it was.
        base_branch: if task.follow_up.is_some() {
            task.overrides.base_branch.clone().unwrap_or_else(|| "main".into())
        } else {
            workspace.base_branch.clone()
        },
        head_commit: commit.sha.clone(),
        verified,
    };
    let record = services
        .forge
        .open_pull_request(&draft)
        .await
        .map_err(|e| StepError::new("opening the pull request", &e, e.is_retryable()))?;
    let link = record.url.clone().map(|u| format!(" {u}")).unwrap_or_default();
    recorder.event("pr_opened", &format!("#{} {}{link}", record.number, record.title));
    services.metrics.verdict(outcome.verdict.key());
    let number = record.number;
    let comment = match &outcome.verdict {
        Verdict::Fixed { by } => format!(
            "Opened pull request #{number}{link}: **fixed**, shown by {} (failed on the base commit, passes with the \
             change; nothing that passed breaks).",
            by.join(", ")
        ),
        Verdict::NoRegressions => format!(
            "Opened draft pull request #{number}{link}: **no regressions**, but no test shows that it fixes this \
             issue. Please review it before merging."
        ),
        Verdict::TestsFail => {
            format!("Opened draft pull request #{number}{link}: **tests fail** with the change; it needs a human.")
        }
        Verdict::TestsNotRun { reason } => {
            format!("Opened draft pull request #{number}{link}: **tests not run** ({reason}); please review it.")
        }
    };
    let comment = match plan.explanation() {
        Some(note) => format!("{comment}\n\n{note}"),
        None => comment,
    };
    report(services, task, IssueStage::Done, &comment).await;
    Ok(Completed {
        verdict: Some(outcome.verdict.clone()),
        summary: outcome.summary,
        branch: Some(plan.branch.clone()),
        commit: Some(commit.sha),
    })
}

/// The attempt's verdict key when the agent found nothing to change.
const NO_CHANGE_VERDICT: &str = "no_change_needed";

/// Nothing to change is an answer, not a failure: the issue is told with the evidence, and the task is done (no
/// retry would find otherwise).
async fn nothing_to_change(
    services: &Services,
    recorder: &Recorder<'_>,
    task: &TaskMessage,
    evidence: &str,
    summary: String,
) -> Completed {
    recorder.event("no_change_needed", &summary);
    services.metrics.verdict(NO_CHANGE_VERDICT);
    let comment = format!(
        "CodingWorker found **nothing to change**: the tests it wrote from this issue's examples already pass on the \
         base commit, so no pull request was opened.\n\n{evidence}If these tests miss the point of the issue, add \
         an example that fails today and label the issue again."
    );
    report(services, task, IssueStage::Done, &comment).await;
    Completed { verdict: None, summary, branch: None, commit: None }
}

/// Pushes the commit where no one else's commit is lost (see [`Workspace::plan_push`]) and records it as the
/// lease of the next push there.
async fn push(
    services: &Services,
    recorder: &Recorder<'_>,
    task: &TaskMessage,
    workspace: &Workspace,
    commit: &CommitInfo,
    target: &codingworker_forge::PushTarget,
) -> Result<PushPlan, StepError> {
    let repository = task.repository_full_name();
    let store = services.store.as_ref();
    let last_pushed = |branch: &str| match store.last_push(&repository, branch) {
        Ok(commit) => commit,
        Err(e) => {
            // Unknown means "not ours": the push then goes to a fresh branch instead of over this one.
            tracing::warn!("could not read the last push to {branch}: {e}");
            None
        }
    };
    let plan = workspace
        .plan_push(&last_pushed)
        .await
        .map_err(|e| StepError::new("choosing the branch to push", &e, e.is_retryable()))?;
    if let Some(note) = plan.explanation() {
        recorder.event("branch_kept", &note);
    }
    workspace
        .push(&target.url, &plan, &target.env)
        .await
        .map_err(|e| StepError::new("pushing the branch", &e, e.is_retryable()))?;
    if let Err(e) = store.record_push(&repository, &plan.branch, &commit.sha, &task.task_id) {
        tracing::warn!("could not record the push (the next push to {} goes to a fresh branch): {e}", plan.branch);
    }
    let lease = plan.lease.as_deref().map_or("new branch".to_owned(), |tip| format!("lease on {}", short(tip)));
    recorder.event("pushed", &format!("{} at {} to {} ({lease})", plan.branch, short(&commit.sha), target.url));
    Ok(plan)
}

/// The pull request body, with why it is not on the usual branch when it is not.
fn with_branch_note(body: String, plan: &PushPlan) -> String {
    match plan.explanation() {
        Some(note) => format!("{body}\n\n> [!NOTE]\n> {note}\n"),
        None => body,
    }
}

/// The footer's count of candidates, in the summary's terms: a reply without a usable edit is a candidate asked for
/// but never run, and "chosen from 6 candidates run" beside "8 candidate(s)" read as a contradiction.
fn candidates_line(outcome: &AgentOutcome) -> String {
    if outcome.candidates_run > 0 && outcome.candidates_run < outcome.candidates {
        format!("{} candidate(s), {} run (the others gave no usable edit)", outcome.candidates, outcome.candidates_run)
    } else {
        format!("{} candidate(s)", outcome.candidates)
    }
}

fn backend_label(backend: AgentKind) -> &'static str {
    match backend {
        AgentKind::Builtin => "built-in agent",
        AgentKind::Openhands => "OpenHands",
    }
}

/// The model the task runs with: its own override, else the configured one.
fn model_of<'a>(services: &'a Services, task: &'a TaskMessage) -> &'a str {
    task.overrides.model.as_deref().unwrap_or(&services.llm.config().model)
}

/// The issue as the agent reads it; for a follow-up, the review comes after the issue, as the newest word.
fn issue_body_for_agent(task: &TaskMessage) -> String {
    match &task.follow_up {
        Some(follow_up) => format!(
            "{}\n\nReview comment on pull request #{} (follow-up {}): the change on this branch needs more work.\n{}",
            task.issue.body.trim_end(),
            follow_up.pull_request,
            follow_up.round,
            follow_up.comment.trim()
        ),
        None => task.issue.body.clone(),
    }
}

/// Runs OpenHands in its container against the worktree, then tests its change the way the built-in agent tests
/// its own. OpenHands does not report its model usage to the worker, so the attempt records none.
async fn run_openhands(
    services: &Services,
    recorder: &Recorder<'_>,
    task: &TaskMessage,
    attempt: &Attempt<'_>,
    usage: &mut Usage,
) -> Result<AgentOutcome, StepError> {
    let docker = services
        .docker
        .as_ref()
        .ok_or_else(|| StepError { reason: "OpenHands: Docker is not connected".into(), retryable: false })?;
    let config = &services.config;
    let settings = &config.openhands;
    let llm = services.llm.config();
    let endpoint = codingworker_openhands::ModelEndpoint {
        protocol: llm.protocol,
        base_url: llm.base_url.clone(),
        model: model_of(services, task).to_owned(),
        temperature: config.agent.temperature,
    };
    // OpenHands gets what is left of the attempt's budget after time for the tests and the push.
    let reserve = Duration::from_secs(config.agent.test_timeout_secs + 120);
    let budget =
        Duration::from_secs(config.agent.time_budget_secs).saturating_sub(reserve).max(Duration::from_secs(60));
    let attempt_name = attempt.workspace.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let task_text = format!("{}\n\n{}", task.issue.title.trim(), issue_body_for_agent(task));
    // The base commit's run, before OpenHands touches the worktree: the verdict compares against it.
    let configured = (!config.agent.test_command.is_empty()).then(|| config.agent.test_command.clone());
    let test_timeout = Duration::from_secs(config.agent.test_timeout_secs);
    let (test_command, base) =
        codingworker_agent::baseline(attempt.executor, &attempt.workspace.path, configured, test_timeout)
            .await
            .map_err(|e| StepError::new("running the tests before any change", &e, e.is_retryable()))?;
    if let Some(base) = &base {
        recorder.event(
            "baseline_tests",
            if base.passed { "tests pass before any change" } else { "tests fail before the change" },
        );
    }
    recorder.event(
        "agent_running",
        &format!(
            "OpenHands agent-server ({}) with {} for at most {}s, {} iterations",
            settings.image,
            endpoint.model,
            budget.as_secs(),
            settings.max_iterations
        ),
    );
    // Where to start reading, from the same localisation the built-in agent uses (no model call).
    let hints = {
        let (root, text) = (attempt.workspace.path.clone(), task_text.clone());
        tokio::task::spawn_blocking(move || codingworker_agent::context::likely_files(&root, &text, 3))
            .await
            .unwrap_or_default()
    };
    if !hints.is_empty() {
        recorder.event("agent_progress", &format!("OpenHands is pointed first at {}", hints.join(", ")));
    }
    let request = codingworker_openhands::OpenHandsRequest {
        attempt: &attempt_name,
        worktree: &attempt.workspace.path,
        task_text: &task_text,
        hints: &hints,
        budget,
    };
    let mut progress = |line: String| recorder.event("agent_progress", &format!("OpenHands: {line}"));
    let run = codingworker_openhands::run(docker, settings, &endpoint, &request, &mut progress)
        .await
        .map_err(|e| StepError::new("OpenHands failed", &e, e.is_retryable()))?;
    // What ran, for the task's record: mounts, network, environment (the session key is left out).
    recorder.event("agent_container", &serde_json::to_string(&run.container).unwrap_or_default());
    usage.llm_calls += u32::try_from(run.usage.calls).unwrap_or(u32::MAX);
    usage.prompt_tokens += run.usage.prompt_tokens;
    usage.completion_tokens += run.usage.completion_tokens;
    // 0 is what the agent-server says when the model server does not report cache hits (llama.cpp's does not).
    if run.usage.cached_prompt_tokens > 0 {
        usage.cached_prompt_tokens = Some(usage.cached_prompt_tokens.unwrap_or(0) + run.usage.cached_prompt_tokens);
    }
    recorder.event(
        "agent_finished",
        &format!(
            "OpenHands {} in {}s: {} prompt + {} completion tokens, {} events",
            run.describe(),
            run.duration.as_secs(),
            run.usage.prompt_tokens,
            run.usage.completion_tokens,
            run.events.events
        ),
    );
    let changed_files = attempt
        .workspace
        .changed_files()
        .await
        .map_err(|e| StepError::new("reading the workspace", &e, e.is_retryable()))?;
    let checked = codingworker_agent::verify_change(
        attempt.executor,
        &attempt.workspace.path,
        test_command.as_deref(),
        base.as_ref(),
        test_timeout,
    )
    .await
    .map_err(|e| StepError::new("running the tests", &e, e.is_retryable()))?;
    recorder.event("tests_ran", &format!("after OpenHands: {}", checked.verdict.label()));
    let mut outcome =
        AgentOutcome::of_change(changed_files, checked.verdict, test_command.map(|c| c.join(" ")), checked.output_tail);
    outcome.still_failing = checked.still_failing;
    outcome.llm_calls = u32::try_from(run.usage.calls).unwrap_or(u32::MAX);
    outcome.prompt_tokens = run.usage.prompt_tokens;
    outcome.completion_tokens = run.usage.completion_tokens;
    outcome.summary = format!(
        "OpenHands {} and changed {} file(s): {}.",
        run.describe(),
        outcome.changed_files.len(),
        outcome.changed_files.join(", ")
    );
    Ok(outcome)
}

/// Which model wrote the change, what was tried before it, and what the chain spent: for the pull request.
struct ChainReport {
    /// The model that wrote the change.
    model: String,
    /// `local`, or the fallback endpoint's name.
    endpoint: String,
    /// One line per model that tried before it and why it handed on.
    handed_on: Vec<String>,
    /// Why the chain stopped early (the spend cap), when it did.
    stopped: Option<String>,
    /// Month-to-date spend after this attempt, when fallback is on.
    month_spend: Option<f64>,
}

impl ChainReport {
    fn local(model: &str) -> Self {
        Self {
            model: model.to_owned(),
            endpoint: "local".into(),
            handed_on: Vec::new(),
            stopped: None,
            month_spend: None,
        }
    }
}

/// One model of the chain: the local one (or the task's override), or a fallback endpoint with its prices.
struct ModelStep<'a> {
    client: &'a LlmClient,
    endpoint: Option<&'a crate::fallback::FallbackEndpoint>,
    /// The month's spend when this (paid) model's turn began; 0 for the local model.
    spent_before: f64,
}

impl ModelStep<'_> {
    fn name(&self) -> &str {
        self.endpoint.map_or("local", |e| e.name.as_str())
    }
}

/// How one model's turn ended.
enum StepEnd {
    /// A change the tests accept, or one nobody can judge (no tests): the chain stops here.
    Done(AgentOutcome),
    /// The model could not do it, for a reason `fallback.on` may name; its outcome when it produced one.
    HandOn(Condition, Result<AgentOutcome, StepError>),
    /// The attempt ends here: the sandbox broke, or the spend cap was reached mid-turn.
    Fail(StepError),
}

/// Runs the built-in agent with the local model and, when `fallback.enabled`, hands the task to each fallback
/// model in turn while a condition of `fallback.on` holds and the monthly spend cap allows. Each model starts
/// from the same code. The last model's result stands when the chain runs out.
async fn run_model_chain(
    services: &Services,
    recorder: &Recorder<'_>,
    task: &TaskMessage,
    attempt: &Attempt<'_>,
    usage: &mut Usage,
) -> Result<(AgentOutcome, ChainReport), StepError> {
    let override_client;
    let local = match &task.overrides.model {
        Some(model) if *model != services.llm.config().model => {
            let mut llm_config = services.llm.config().clone();
            llm_config.model = model.clone();
            override_client = LlmClient::new(llm_config).map_err(|e| StepError::new("model override", &e, false))?;
            &override_client
        }
        _ => &services.llm,
    };
    let fallback = &services.config.fallback;
    let mut steps = vec![ModelStep { client: local, endpoint: None, spent_before: 0.0 }];
    steps.extend(services.fallback.iter().map(|e| ModelStep {
        client: &e.client,
        endpoint: Some(e),
        spent_before: 0.0,
    }));
    let step_budget = (steps.len() > 1).then(|| Duration::from_secs(fallback.step_time_budget_secs));
    let mut report = ChainReport::local(&local.config().model);
    let mut last: Option<Result<AgentOutcome, StepError>> = None;
    // Why the previous model handed on; it joins the report once the next model really starts.
    let mut handing_on: Option<String> = None;
    let count = steps.len();
    for (index, step) in steps.iter_mut().enumerate() {
        if index > 0 {
            let (month, spent) = crate::fallback::month_to_date(&services.store)
                .map_err(|e| StepError::new("reading the spend", &e, true))?;
            step.spent_before = spent;
            if spent >= fallback.monthly_spend_cap_usd {
                let note = format!(
                    "the monthly spend cap of {} (fallback.monthly_spend_cap_usd) is reached: {} spent since {}, so \
                     the chain stops at the local model",
                    crate::fallback::dollars(fallback.monthly_spend_cap_usd),
                    crate::fallback::dollars(spent),
                    month.format("%Y-%m-%d")
                );
                recorder.event("fallback_capped", &note);
                report.stopped = Some(note);
                break;
            }
            report.handed_on.extend(handing_on.take());
            attempt
                .workspace
                .discard_changes()
                .await
                .map_err(|e| StepError::new("resetting the workspace", &e, true))?;
            recorder.event(
                "fallback",
                &format!(
                    "handing the task to `{}` ({}), model {}",
                    step.name(),
                    step.client.config().base_url,
                    step.client.config().model
                ),
            );
        }
        usage.model = Some(step.client.config().model.clone());
        let end = run_step(services, recorder, task, attempt, step, step_budget, usage).await;
        let (condition, result) = match end {
            StepEnd::Done(outcome) => {
                report.model = step.client.config().model.clone();
                report.endpoint = step.name().to_owned();
                last = Some(Ok(outcome));
                break;
            }
            StepEnd::Fail(error) => return Err(error),
            StepEnd::HandOn(condition, result) => (condition, result),
        };
        report.model = step.client.config().model.clone();
        report.endpoint = step.name().to_owned();
        last = Some(result);
        let more = index + 1 < count;
        if more && fallback.on.iter().any(|c| c == condition.key()) {
            handing_on = Some(format!("`{}` ({}): {}", step.client.config().model, step.name(), condition.describe()));
            recorder.event(
                "model_gave_up",
                &format!("{} ({}): {}", step.client.config().model, step.name(), condition.describe()),
            );
        } else {
            if more {
                recorder.event(
                    "fallback_not_used",
                    &format!("{} is not in fallback.on, so no other model tries", condition.key()),
                );
            }
            break;
        }
    }
    if !services.fallback.is_empty() {
        report.month_spend = crate::fallback::month_to_date(&services.store).ok().map(|(_, spent)| spent);
    }
    match last {
        Some(Ok(outcome)) => Ok((outcome, report)),
        Some(Err(error)) => Err(error),
        None => Err(StepError { reason: "no model ran".into(), retryable: true }),
    }
}

/// One model's turn: the agent, bounded by the step budget, judged by the conditions of `fallback.on`.
async fn run_step(
    services: &Services,
    recorder: &Recorder<'_>,
    task: &TaskMessage,
    attempt: &Attempt<'_>,
    step: &ModelStep<'_>,
    step_budget: Option<Duration>,
    usage: &mut Usage,
) -> StepEnd {
    let run = run_agent(services, recorder, task, attempt, step, usage);
    let result = match step_budget {
        Some(budget) => match tokio::time::timeout(budget, run).await {
            Ok(result) => result,
            Err(_) => {
                let reason = format!(
                    "model {} did not finish within {}s (fallback.step_time_budget_secs)",
                    step.client.config().model,
                    budget.as_secs()
                );
                return StepEnd::HandOn(Condition::TimedOut, Err(StepError { reason, retryable: true }));
            }
        },
        None => run.await,
    };
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(AgentRunError::Agent(error)) => {
            let retryable = error.is_retryable();
            let condition = match &error {
                codingworker_agent::AgentError::Llm(e) => Condition::of_llm_error(e),
                codingworker_agent::AgentError::NoUsableEdit { .. } => Condition::NoChange,
                codingworker_agent::AgentError::Sandbox(_)
                | codingworker_agent::AgentError::Workspace(_)
                | codingworker_agent::AgentError::CallsStopped => {
                    return StepEnd::Fail(StepError::new("the agent failed", &error, retryable));
                }
            };
            return StepEnd::HandOn(condition, Err(StepError::new("the agent failed", &error, retryable)));
        }
        Err(AgentRunError::SpendCap(reason)) => {
            // No further paid model may run this month; a retry starts again with the local model.
            return StepEnd::Fail(StepError { reason, retryable: true });
        }
        Err(AgentRunError::Setup(error)) => return StepEnd::Fail(error),
    };
    match attempt.workspace.changed_files().await {
        Ok(changed) if changed.is_empty() => StepEnd::HandOn(Condition::NoChange, Ok(outcome)),
        // Tests that failed before and still fail may be the issue's own: with no test showing the fix, a
        // stronger model may make them pass.
        Ok(_) if outcome.verdict == Verdict::TestsFail || leaves_tests_failing(&outcome) => {
            StepEnd::HandOn(Condition::TestsFailed, Ok(outcome))
        }
        Ok(_) => StepEnd::Done(outcome),
        Err(e) => StepEnd::Fail(StepError::new("reading the workspace", &e, e.is_retryable())),
    }
}

/// A change that shows no fix while some of the repository's tests still fail with it.
fn leaves_tests_failing(outcome: &AgentOutcome) -> bool {
    !matches!(outcome.verdict, Verdict::Fixed { .. }) && !outcome.still_failing.is_empty()
}

/// Why the agent stopped without an outcome.
enum AgentRunError {
    Agent(codingworker_agent::AgentError),
    /// A paid model's calls reached the monthly spend cap mid-turn.
    SpendCap(String),
    Setup(StepError),
}

/// Runs the agent with one model, with a progress line every 15 s, since a CPU-bound model can be silent for
/// minutes. Every reply's tokens and cost go into `usage` and the cost also into the store at once, so the cap
/// sees spend even from an attempt that crashes; a paid model makes no further call once its spend reaches the cap.
async fn run_agent(
    services: &Services,
    recorder: &Recorder<'_>,
    task: &TaskMessage,
    attempt: &Attempt<'_>,
    step: &ModelStep<'_>,
    usage: &mut Usage,
) -> Result<AgentOutcome, AgentRunError> {
    let (workspace, receive_count) = (attempt.workspace, attempt.receive_count);
    let config = &services.config.agent;
    let temperature = config.temperature + config.retry_temperature_step * (receive_count.saturating_sub(1)) as f32;
    let llm = step.client;
    let mut settings = AgentSettings {
        max_candidates: config.max_candidates,
        extra_candidates: config.extra_candidates,
        // Inside the attempt's own limit, with a fifth of it left for the last tests and the push.
        search_budget: Duration::from_secs(config.search_budget_secs.min(config.time_budget_secs * 4 / 5).max(1)),
        reproduction_samples: config.reproduction_samples,
        max_reproduction_tests: config.max_reproduction_tests as usize,
        add_regression_test: config.add_regression_test,
        repo_map_tokens: config.repo_map_tokens,
        context_file_tokens: config.context_file_tokens,
        test_command: (!config.test_command.is_empty()).then(|| config.test_command.clone()),
        test_timeout: Duration::from_secs(config.test_timeout_secs),
        temperature: temperature.min(1.0),
        max_output_tokens: services.config.llm.max_output_tokens,
        ..AgentSettings::default()
    };
    // Validated at start-up; a task's model override (or a fallback model) picks its own format under `auto`.
    settings.edit_format = EditFormat::resolve(&config.edit_format, &llm.config().model)
        .map_err(|e| AgentRunError::Setup(StepError::new("edit format", e, false)))?;
    let edit_format = settings.edit_format;
    // Set once a paid model's spend reaches the cap: its next call is not made.
    let stop_calls = Arc::new(std::sync::atomic::AtomicBool::new(false));
    if step.endpoint.is_some() {
        settings.stop_calls = Some(Arc::clone(&stop_calls));
    }
    let agent = Agent::new(llm, attempt.executor, settings);
    let body = issue_body_for_agent(task);
    let agent_task = AgentTask { issue_number: task.issue.number, title: task.issue.title.clone(), body };
    recorder.event(
        "agent_running",
        &format!(
            "built-in agent with {} ({}) at temperature {temperature:.1}, edits as {edit_format:?}",
            llm.config().model,
            step.name()
        ),
    );

    let (cap, spent_before) = (services.config.fallback.monthly_spend_cap_usd, step.spent_before);
    let mut step_cost = 0.0;
    // What the agent is doing now and since when, for the progress line a slow CPU needs.
    let doing = Arc::new(std::sync::Mutex::new((String::from("starting"), Instant::now())));
    let now_doing = Arc::clone(&doing);
    let mut on_event = |event: AgentEvent| {
        let current = match &event {
            AgentEvent::Running { what } => Some(format!("running {what}")),
            AgentEvent::ModelCall { round, purpose, .. } => {
                let what = if *round == 0 { (*purpose).to_owned() } else { call_label(*round) };
                Some(format!("waiting for the model ({what})"))
            }
            _ => None,
        };
        if let (Some(current), Ok(mut slot)) = (current, now_doing.lock()) {
            *slot = (current, Instant::now());
        }
        if let AgentEvent::ModelReplied {
            prompt_tokens,
            completion_tokens,
            cached_prompt_tokens,
            elapsed,
            cost_usd,
            ..
        } = &event
        {
            services.metrics.llm_call(*elapsed, *prompt_tokens, *completion_tokens);
            usage.llm_calls += 1;
            usage.prompt_tokens += prompt_tokens;
            usage.completion_tokens += completion_tokens;
            if let Some(cached) = cached_prompt_tokens {
                *usage.cached_prompt_tokens.get_or_insert(0) += cached;
            }
            let cost = match step.endpoint {
                Some(endpoint) => endpoint.cost(*prompt_tokens, *completion_tokens, *cost_usd),
                None => cost_usd.unwrap_or(0.0),
            };
            if cost > 0.0 {
                usage.cost_usd += cost;
                step_cost += cost;
                if let Err(e) = services.store.add_attempt_cost(recorder.attempt, cost) {
                    tracing::warn!("could not record the call's cost: {e}");
                }
                if step.endpoint.is_some() && spent_before + step_cost >= cap {
                    // The answer already paid for is still used; the agent makes no further call.
                    stop_calls.store(true, std::sync::atomic::Ordering::SeqCst);
                }
                recorder.event(
                    "model_cost",
                    &format!(
                        "{} for this call, {} this turn",
                        crate::fallback::dollars(cost),
                        crate::fallback::dollars(step_cost)
                    ),
                );
            }
        }
        let (kind, detail) = describe_agent_event(&event);
        recorder.event(kind, &detail);
    };
    let started = Instant::now();
    let result = {
        let run = agent.run(&workspace.path, &agent_task, &mut on_event);
        tokio::pin!(run);
        let mut ticker = tokio::time::interval(Duration::from_secs(15));
        ticker.tick().await;
        loop {
            tokio::select! {
                result = &mut run => break result,
                _ = ticker.tick() => {
                    let (what, since) = doing.lock().map(|d| (d.0.clone(), d.1)).unwrap_or_else(|_| (String::new(), started));
                    tracing::info!(
                        "agent still working ({}s elapsed): {what}, {}s",
                        started.elapsed().as_secs(),
                        since.elapsed().as_secs()
                    );
                }
            }
        }
    };
    match result {
        Ok(outcome) => Ok(outcome),
        Err(codingworker_agent::AgentError::CallsStopped) => {
            let reason = format!(
                "stopped {} before another call: its calls reached the monthly spend cap of {} \
                 (fallback.monthly_spend_cap_usd)",
                llm.config().model,
                crate::fallback::dollars(cap)
            );
            recorder.event("fallback_capped", &reason);
            Err(AgentRunError::SpendCap(reason))
        }
        Err(error) => Err(AgentRunError::Agent(error)),
    }
}

fn describe_agent_event(event: &AgentEvent) -> (&'static str, String) {
    match event {
        AgentEvent::Running { what } => ("running", format!("running {what}")),
        AgentEvent::RepoMapped { files, tokens } => ("repo_mapped", format!("{files} files, ~{tokens} tokens")),
        AgentEvent::BaselineTests { passed, seconds } => (
            "baseline_tests",
            format!("tests {} before any change ({seconds:.1} s)", if *passed { "pass" } else { "fail" }),
        ),
        AgentEvent::FilesChosen(files) => ("files_chosen", files.join(", ")),
        AgentEvent::Unreadable(files) => (
            "files_unreadable",
            format!(
                "not shown to the model and not editable: {}",
                files.iter().map(|(path, why)| format!("{path} ({why})")).collect::<Vec<_>>().join("; ")
            ),
        ),
        AgentEvent::ModelCall { round, purpose, prompt_tokens_est } => {
            ("model_call", format!("{}: {purpose}, ~{prompt_tokens_est} prompt tokens", call_label(*round)))
        }
        AgentEvent::ModelReplied { round, elapsed, prompt_tokens, completion_tokens, cached_prompt_tokens, .. } => (
            "model_replied",
            format!(
                "{}: {:.1}s, {prompt_tokens} prompt{} + {completion_tokens} completion tokens",
                call_label(*round),
                elapsed.as_secs_f64(),
                cached_prompt_tokens.map(|n| format!(" ({n} cached)")).unwrap_or_default()
            ),
        ),
        AgentEvent::Reproduction { path, kept, detail } => {
            ("reproduction_test", format!("{path}: {} ({detail})", if *kept { "kept" } else { "dropped" }))
        }
        AgentEvent::AssertionDropped { path, assertion, why } => {
            ("reproduction_test", format!("{path}: assertion `{assertion}` dropped ({why})"))
        }
        AgentEvent::EditRejected { round, reason } => ("edit_rejected", format!("candidate {round}: {reason}")),
        AgentEvent::Candidate {
            number,
            place,
            origin,
            files,
            verdict,
            passes,
            total_tests,
            duplicate_of,
            reproduction_tests,
            leading_passes,
            leading_size,
        } => (
            "candidate",
            format!(
                "candidate {number}, {place} ({origin}; {}): {verdict}, passes {passes}/{total_tests}{}; \
                 {reproduction_tests} reproduction test(s) kept, leading group passes {leading_passes}/{total_tests} \
                 ({leading_size} candidate(s))",
                files.join(", "),
                duplicate_of.map(|n| format!(", the same change as candidate {n}")).unwrap_or_default()
            ),
        ),
        AgentEvent::SearchStopped { reason } => ("search_stopped", reason.clone()),
        AgentEvent::TestsStopped { reason } => ("tests_stopped", reason.clone()),
    }
}

/// Model calls of an attempt: 0 is context and reproduction tests, then the candidates.
fn call_label(round: u32) -> String {
    if round == 0 { "set-up".into() } else { format!("candidate {round}") }
}

fn pull_request_title(task: &TaskMessage, verified: bool) -> String {
    let prefix = if verified { "" } else { "[unverified] " };
    format!("{prefix}Fix #{}: {}", task.issue.number, task.issue.title.trim())
}

/// Up to `max` names in backticks, and how many more there are.
fn name_list(names: &[String], max: usize) -> String {
    let mut list = names.iter().take(max).map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    if names.len() > max {
        list.push_str(&format!(" and {} more", names.len() - max));
    }
    list
}

/// For a failing change, in one line for a retry's reason: whether the suite breaks and how many reproduction tests
/// pass, or the last line of the test output when neither is known (a cut-off tail of pytest's diff says nothing).
fn what_fails(outcome: &AgentOutcome) -> String {
    let mut parts = Vec::new();
    if outcome.tests_ran {
        let suite = if outcome.breaks_suite {
            "a test that passed on the base commit fails"
        } else {
            "nothing that passed on the base commit breaks"
        };
        parts.push(suite.to_owned());
    }
    let results = &outcome.reproduction_results;
    if !results.is_empty() {
        let passing = results.iter().filter(|(_, pass)| *pass).count();
        parts.push(format!("{passing} of {} reproduction test(s) from the issue pass", results.len()));
    }
    if !outcome.breaks_suite && results.is_empty() {
        parts.push(last_lines(&outcome.test_output_tail, 1));
    }
    parts.retain(|p| !p.is_empty());
    parts.join("; ")
}

/// For a failing change: whether the repository's suite is what fails, as a list item ("" when it did not run).
fn suite_result(outcome: &AgentOutcome, command: &str) -> String {
    match (outcome.tests_ran, outcome.breaks_suite) {
        (false, _) => String::new(),
        (true, true) => format!("\n- `{command}` fails with this change."),
        (true, false) => format!("\n- `{command}`: nothing that passed on the base commit breaks."),
    }
}

/// For a failing change: which reproduction tests written from the issue pass with it and which still fail, as a
/// list item ("" when none was kept). A partial fix reads differently from a wrong one.
fn reproduction_results(results: &[(String, bool)]) -> String {
    if results.is_empty() {
        return String::new();
    }
    let names = |pass: bool| results.iter().filter(|(_, p)| *p == pass).map(|(n, _)| n.clone()).collect::<Vec<_>>();
    let (passing, failing) = (names(true), names(false));
    let mut text = format!(
        "\n- Reproduction tests written from the issue (each failed on the base commit): {} of {} pass with this \
         change",
        passing.len(),
        results.len()
    );
    if !passing.is_empty() {
        text.push_str(&format!(" ({})", name_list(&passing, 10)));
    }
    if !failing.is_empty() {
        text.push_str(&format!("; still failing: {}", name_list(&failing, 10)));
    }
    text.push('.');
    text
}

/// The pull request's Verification section: what the tests show, and nothing more.
fn verification_section(outcome: &AgentOutcome) -> String {
    let command = outcome.test_command.as_deref().unwrap_or("tests");
    // Reproduction tests are written on a red base suite too (when the budget allows), so "none failed on the base
    // commit" is all a 0 says.
    let reproduction = match outcome.reproduction_tests {
        0 => "no reproduction test written from the issue failed on the base commit".to_owned(),
        n => format!("{n} reproduction test(s) written from the issue failed on the base commit"),
    };
    let search = if outcome.candidates_run > 1 {
        format!(
            "\n- Chosen from {} candidate changes that were run ({} of them agree on these results); {reproduction}.",
            outcome.candidates_run, outcome.agreeing
        )
    } else {
        String::new()
    };
    let still_failing = if outcome.still_failing.is_empty() {
        String::new()
    } else {
        format!(
            "\n- Failing before and after this change, so outside this verdict (the repository's own failures): {}.",
            name_list(&outcome.still_failing, 10)
        )
    };
    match &outcome.verdict {
        Verdict::Fixed { by } => {
            let mut text = format!(
                "**Fixed**: a test that fails on the base commit passes with this change, and every test that passed \
                 before still passes (`{command}`).\n- Fail-to-pass: {}.{still_failing}",
                name_list(by, 10)
            );
            if let Some(test) = &outcome.regression_test {
                text.push_str(&format!(
                    "\n- `{test}` is a reproduction test written from the issue's examples; it is added here as a \
                     regression test, so a reviewer sees exactly what was checked."
                ));
                let others =
                    outcome.reproduction_results.iter().filter(|(name, passed)| *passed && name != test).count();
                if others > 0 {
                    text.push_str(&format!(
                        "\n- {others} more reproduction test(s) written from the issue also pass with this change; \
                         they were run during the search and are not part of this pull request."
                    ));
                }
            }
            text + &search
        }
        Verdict::NoRegressions if !outcome.still_failing.is_empty() => format!(
            "**No regressions, not shown fixed**: every test of `{command}` that passed before this change still \
             passes, and none that failed passes now, so the tests prove nothing about the issue. No test \
             demonstrates the fix: review the change as unverified.{still_failing}{search}"
        ),
        Verdict::NoRegressions => format!(
            "**No regressions, not shown fixed**: `{command}` passes before and after this change, so the tests \
             prove nothing about the issue. No test demonstrates the fix: review the change as unverified.{search}"
        ),
        Verdict::TestsFail => format!(
            "**Tests fail**: with this change `{command}` (or a reproduction test of the issue) still fails.{}{}\n\nLast \
             output:\n\n```\n{}\n```{search}",
            suite_result(outcome, command),
            reproduction_results(&outcome.reproduction_results),
            last_lines(&outcome.test_output_tail, 15)
        ),
        Verdict::TestsNotRun { reason } => {
            format!("**Tests not run** ({reason}): nothing about this change is verified.")
        }
    }
}

fn pull_request_body(
    task: &TaskMessage,
    outcome: &AgentOutcome,
    commit: &CommitInfo,
    (backend, receive_count): (AgentKind, u32),
    usage: &Usage,
    chain: &ChainReport,
) -> String {
    // GitHub closes the issue on merge: only a change a test shows fixed may do that; any other merely refers to it.
    let closing = if outcome.verdict.is_fixed() { "Closes" } else { "Refs" };
    let verification = verification_section(outcome);
    let mut models = format!(
        "Written by model `{}` ({}). Cost of this attempt: {}",
        chain.model,
        if chain.endpoint == "local" { "local".to_owned() } else { format!("fallback `{}`", chain.endpoint) },
        crate::fallback::dollars(usage.cost_usd)
    );
    if let Some(spend) = chain.month_spend {
        models.push_str(&format!(" ({} spent on models this month).", crate::fallback::dollars(spend)));
    } else {
        models.push('.');
    }
    for line in &chain.handed_on {
        models.push_str(&format!("\n- Tried first: {line}."));
    }
    if let Some(stopped) = &chain.stopped {
        models.push_str(&format!("\n- Fallback stopped: {stopped}."));
    }
    format!(
        "{closing} #{number}\n\n## Summary\n{summary}\n\n## Verification\n{verification}\n\n## Model\n{models}\n\n\
         ## Changes\n```\n{stat}\n```\n\n\
         ---\nGenerated by CodingWorker: {agent}, model `{model}`, task `{task_id}`, attempt {receive_count}, \
         verdict `{verdict}`, {candidates}, {calls} LLM call(s), {prompt} prompt + {completion} \
         completion tokens.\n",
        number = task.issue.number,
        task_id = task.task_id,
        summary = outcome.summary.trim(),
        stat = commit.diff_stat,
        agent = backend_label(backend),
        model = chain.model,
        verdict = outcome.verdict.label(),
        candidates = candidates_line(outcome),
        calls = usage.llm_calls,
        prompt = usage.prompt_tokens,
        completion = usage.completion_tokens,
    )
}

fn short(sha: &str) -> &str {
    sha.get(..10).unwrap_or(sha)
}

fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(verdict: Verdict) -> AgentOutcome {
        let mut outcome = AgentOutcome::of_change(
            vec!["src/shop/calutils.py".into()],
            verdict,
            Some("python3 -m pytest -q".into()),
            "E   assert [date(2024, 10, 31)] == [date(2024, 10, 31), date(2024, 11, 30)]".into(),
        );
        outcome.candidates = 4;
        outcome.candidates_run = 3;
        outcome.agreeing = 2;
        outcome.reproduction_tests = 1;
        outcome.summary = format!("Changed `src/shop/calutils.py`; {}.", outcome.verdict.label());
        outcome
    }

    /// Prints one body per verdict (`cargo test -p codingworker-worker bodies -- --nocapture`) and checks that only
    /// `fixed` closes the issue and that a change that proves nothing says so.
    #[test]
    fn pull_request_bodies_say_only_what_the_tests_show() {
        let task = codingworker_protocol::local_task_message(
            "acme",
            "shop",
            "/srv/git/shop.git",
            14,
            "billing_dates crashes when the schedule reaches December",
            "See the traceback.",
            Default::default(),
        )
        .unwrap();
        let commit = CommitInfo {
            sha: "0123456789abcdef".into(),
            files: vec!["src/shop/calutils.py".into()],
            diff_stat: " src/shop/calutils.py | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)".into(),
            patch: String::new(),
        };
        let usage = Usage { llm_calls: 6, prompt_tokens: 4200, completion_tokens: 900, ..Usage::default() };
        let chain = ChainReport::local("qwen2.5-coder:1.5b");
        let mut fixed = outcome(Verdict::Fixed { by: vec!["tests/unit/test_issue_14.py".into()] });
        fixed.regression_test = Some("tests/unit/test_issue_14.py".into());
        fixed.reproduction_results =
            vec![("tests/unit/test_issue_14.py".into(), true), ("tests/unit/test_issue_14_2.py".into(), true)];
        (fixed.candidates, fixed.candidates_run) = (8, 6);
        let cases = [
            fixed,
            AgentOutcome { reproduction_tests: 0, ..outcome(Verdict::NoRegressions) },
            AgentOutcome {
                reproduction_results: vec![
                    ("tests/unit/test_issue_14.py".into(), true),
                    ("tests/unit/test_issue_14_2.py".into(), false),
                ],
                ..outcome(Verdict::TestsFail)
            },
            outcome(Verdict::TestsNotRun { reason: "no test command was configured or detected".into() }),
        ];
        for case in &cases {
            let body = pull_request_body(&task, case, &commit, (AgentKind::Builtin, 1), &usage, &chain);
            println!(
                "----- {} -----\n{}\n{body}",
                case.verdict.label(),
                pull_request_title(&task, case.verdict.is_fixed())
            );
            assert_eq!(body.starts_with("Closes #14"), case.verdict.is_fixed(), "{body}");
            assert!(body.contains(&format!("verdict `{}`", case.verdict.label())), "{body}");
            assert!(!case.verdict.is_fixed() || !body.contains("Refs #14"), "{body}");
        }
        let fixed = pull_request_body(&task, &cases[0], &commit, (AgentKind::Builtin, 1), &usage, &chain);
        assert!(fixed.contains("Fail-to-pass: `tests/unit/test_issue_14.py`.") && fixed.contains("regression test"));
        // The second test that passes is not in the pull request: it is counted, never cited as evidence.
        assert!(!fixed.contains("test_issue_14_2.py"), "{fixed}");
        assert!(fixed.contains("1 more reproduction test(s) written from the issue also pass"), "{fixed}");
        assert!(fixed.contains("8 candidate(s), 6 run (the others gave no usable edit)"), "{fixed}");
        let proves_nothing = pull_request_body(&task, &cases[1], &commit, (AgentKind::Builtin, 1), &usage, &chain);
        assert!(proves_nothing.starts_with("Refs #14") && proves_nothing.contains("No test demonstrates the fix"));
        // A partial change says which of the issue's tests it passes.
        let partial = pull_request_body(&task, &cases[2], &commit, (AgentKind::Builtin, 1), &usage, &chain);
        assert!(
            partial.contains(
                "1 of 2 pass with this change (`tests/unit/test_issue_14.py`); still failing: \
                 `tests/unit/test_issue_14_2.py`."
            ),
            "{partial}"
        );
        let broken = AgentOutcome { breaks_suite: true, ..outcome(Verdict::TestsFail) };
        let broken = pull_request_body(&task, &broken, &commit, (AgentKind::Builtin, 1), &usage, &chain);
        assert!(broken.contains("` fails with this change.") && !broken.contains("Reproduction tests"), "{broken}");
        assert!(pull_request_title(&task, false).starts_with("[unverified] "));
    }

    /// A repository with its own failing test: the body names it as outside the verdict, and "no regressions" no
    /// longer claims the command passes.
    #[test]
    fn a_retry_says_what_fails_not_a_cut_off_tail_of_the_output() {
        let mut failing = outcome(Verdict::TestsFail);
        failing.test_output_tail = "E       -     5,\n    ]\n1 failed in 0.03s".into();
        failing.reproduction_results =
            vec![("tests/test_issue_1.py".into(), true), ("tests/test_issue_1_2.py".into(), false)];
        assert_eq!(
            what_fails(&failing),
            "nothing that passed on the base commit breaks; 1 of 2 reproduction test(s) from the issue pass"
        );
        failing.breaks_suite = true;
        failing.reproduction_results.clear();
        assert_eq!(what_fails(&failing), "a test that passed on the base commit fails");
        // Nothing else known: the output's last line, as before.
        failing.breaks_suite = false;
        assert_eq!(what_fails(&failing), "nothing that passed on the base commit breaks; 1 failed in 0.03s");
    }

    #[test]
    fn a_body_names_the_tests_that_failed_before_and_still_fail() {
        let task = codingworker_protocol::local_task_message(
            "acme",
            "shop",
            "/srv/git/shop.git",
            3,
            "t",
            "b",
            Default::default(),
        )
        .unwrap();
        let commit =
            CommitInfo { sha: "0123456789".into(), files: vec![], diff_stat: String::new(), patch: String::new() };
        let usage = Usage::default();
        let chain = ChainReport::local("qwen2.5-coder:1.5b");
        let still = vec!["tests/test_net.py::test_download".to_owned()];
        let fixed = AgentOutcome {
            still_failing: still.clone(),
            ..outcome(Verdict::Fixed { by: vec!["tests/test_calc.py::test_add".into()] })
        };
        let body = pull_request_body(&task, &fixed, &commit, (AgentKind::Builtin, 1), &usage, &chain);
        println!("{body}");
        assert!(body.starts_with("Closes #3"), "{body}");
        assert!(body.contains("Fail-to-pass: `tests/test_calc.py::test_add`"), "{body}");
        assert!(
            body.contains("outside this verdict (the repository's own failures): `tests/test_net.py::test_download`")
        );
        let unshown = AgentOutcome { still_failing: still, ..outcome(Verdict::NoRegressions) };
        let body = pull_request_body(&task, &unshown, &commit, (AgentKind::Builtin, 1), &usage, &chain);
        assert!(body.starts_with("Refs #3") && !body.contains("passes before and after"), "{body}");
        assert!(
            body.contains("every test of `python3 -m pytest -q` that passed before this change still passes"),
            "{body}"
        );
        let many: Vec<String> = (0..14).map(|i| format!("t{i}")).collect();
        assert_eq!(name_list(&many, 10).matches('`').count(), 20);
        assert!(name_list(&many, 10).ends_with("and 4 more"));
    }
}
