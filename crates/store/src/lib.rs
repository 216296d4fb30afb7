//! SQLite history of tasks, attempts, events, outcomes and local pull-request records.
//!
//! The worker writes it, the CLI reads it, often from two processes at once: WAL mode and a busy timeout make
//! that safe. Calls are tiny, so the API is synchronous behind a mutex.

use std::path::Path;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

const SCHEMA_VERSION: i64 = 5;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tasks (
    task_id TEXT PRIMARY KEY,
    repository TEXT NOT NULL,
    issue_number INTEGER NOT NULL,
    title TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    message_json TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    project TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL REFERENCES tasks(task_id),
    number INTEGER NOT NULL,
    status TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    summary TEXT NOT NULL DEFAULT '',
    error TEXT,
    llm_calls INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cached_prompt_tokens INTEGER,
    branch TEXT,
    commit_sha TEXT,
    log_path TEXT,
    model TEXT,
    cost_usd REAL NOT NULL DEFAULT 0,
    verdict TEXT
);
CREATE INDEX IF NOT EXISTS attempts_by_task ON attempts(task_id);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL,
    attempt_id INTEGER,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_task ON events(task_id);
CREATE TABLE IF NOT EXISTS pull_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repository TEXT NOT NULL,
    number INTEGER NOT NULL,
    task_id TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    head_branch TEXT NOT NULL,
    base_branch TEXT NOT NULL,
    head_commit TEXT NOT NULL,
    verified INTEGER NOT NULL,
    url TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (repository, number),
    UNIQUE (repository, head_branch)
);
-- Version 5: the commit this worker last pushed to each branch, the lease of its next push there.
CREATE TABLE IF NOT EXISTS pushes (
    -- Forges compare repository names without case.
    repository TEXT NOT NULL COLLATE NOCASE,
    branch TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    task_id TEXT NOT NULL,
    pushed_at INTEGER NOT NULL,
    PRIMARY KEY (repository, branch)
);
";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("task store (SQLite): {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("`{prefix}` matches several tasks ({}); give more characters", candidates.join(", "))]
    AmbiguousTaskId { prefix: String, candidates: Vec<String> },
    #[error("task store holds an unexpected value: {0}")]
    Corrupt(String),
    #[error("task store: {0}")]
    Internal(String),
    #[error("cannot create the task store's directory {path}: {source}")]
    CreateDir { path: String, source: std::io::Error },
}

impl StoreError {
    /// A busy or locked database clears up; anything else will not.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            }
            StoreError::Internal(_) => true,
            _ => false,
        }
    }
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Queued,
    Running,
    Retrying,
    /// A verified pull request is open.
    Succeeded,
    /// Finished with a draft pull request for a human to finish: no test shows the issue fixed (the verdict is
    /// `no regressions`, `tests fail` on the last attempt, or `tests not run`). Stored as `draft`; rows written
    /// before this state had its name say `failed`, which meant the same.
    Draft,
    DeadLettered,
    /// The message was not a valid task.
    Rejected,
    /// The agent found nothing to change (the issue's examples already pass on the base commit); the issue was told
    /// with the evidence.
    NoChange,
    /// Another request for the same issue is being worked on or was answered; this one was not worked.
    Duplicate,
}

impl TaskState {
    pub fn as_str(&self) -> &'static str {
        match self {
            TaskState::Queued => "queued",
            TaskState::Running => "running",
            TaskState::Retrying => "retrying",
            TaskState::Succeeded => "succeeded",
            TaskState::Draft => "draft",
            TaskState::DeadLettered => "dead_lettered",
            TaskState::Rejected => "rejected",
            TaskState::NoChange => "no_change",
            TaskState::Duplicate => "duplicate",
        }
    }
}

impl FromStr for TaskState {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "queued" => TaskState::Queued,
            "running" => TaskState::Running,
            "retrying" => TaskState::Retrying,
            "succeeded" => TaskState::Succeeded,
            "draft" | "failed" => TaskState::Draft,
            "dead_lettered" => TaskState::DeadLettered,
            "rejected" => TaskState::Rejected,
            "no_change" => TaskState::NoChange,
            "duplicate" => TaskState::Duplicate,
            other => return Err(StoreError::Corrupt(format!("task state `{other}`"))),
        })
    }
}

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptStatus {
    Running,
    Succeeded,
    Unverified,
    Failed,
    /// The process died mid-attempt; found when the next attempt starts.
    Interrupted,
    /// Nothing to change: the tests written from the issue pass on the base commit.
    NoChange,
}

impl AttemptStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            AttemptStatus::Running => "running",
            AttemptStatus::Succeeded => "succeeded",
            AttemptStatus::Unverified => "unverified",
            AttemptStatus::Failed => "failed",
            AttemptStatus::Interrupted => "interrupted",
            AttemptStatus::NoChange => "no_change",
        }
    }
}

impl FromStr for AttemptStatus {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "running" => AttemptStatus::Running,
            "succeeded" => AttemptStatus::Succeeded,
            "unverified" => AttemptStatus::Unverified,
            "failed" => AttemptStatus::Failed,
            "interrupted" => AttemptStatus::Interrupted,
            "no_change" => AttemptStatus::NoChange,
            other => return Err(StoreError::Corrupt(format!("attempt status `{other}`"))),
        })
    }
}

#[derive(Debug, Clone)]
pub struct NewTask {
    pub task_id: String,
    /// The configured project whose queue the task came from.
    pub project: String,
    pub repository: String,
    pub issue_number: u64,
    pub title: String,
    pub message_json: String,
}

pub type AttemptId = i64;

#[derive(Debug, Clone)]
pub struct AttemptFinish {
    pub status: AttemptStatus,
    pub summary: String,
    pub error: Option<String>,
    pub llm_calls: u32,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Prompt tokens served from the model server's cache, when it reports them.
    pub cached_prompt_tokens: Option<u64>,
    pub branch: Option<String>,
    pub commit: Option<String>,
    /// The model that wrote the change (the last one tried when there is none).
    pub model: Option<String>,
    /// What the attempt's model calls cost, as the providers reported it; 0 for local models.
    pub cost_usd: f64,
    /// The verdict key of the attempt's change (`fixed`, `no_regressions`, `tests_fail`, `tests_not_run`), when
    /// it reached one.
    pub verdict: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewPullRequest {
    pub task_id: String,
    pub repository: String,
    pub title: String,
    pub body: String,
    pub head_branch: String,
    pub base_branch: String,
    pub head_commit: String,
    pub verified: bool,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PullRequestRecord {
    /// Per-repository sequence, like a forge's pull-request numbers.
    pub number: u64,
    pub task_id: String,
    pub repository: String,
    pub title: String,
    pub body: String,
    pub head_branch: String,
    pub base_branch: String,
    pub head_commit: String,
    pub verified: bool,
    pub url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskRecord {
    pub task_id: String,
    pub project: String,
    pub repository: String,
    pub issue_number: u64,
    pub title: String,
    pub state: TaskState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub message_json: String,
}

/// One dashboard row.
#[derive(Debug, Clone, Serialize)]
pub struct TaskOverview {
    pub task: TaskRecord,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub first_started_at: Option<DateTime<Utc>>,
    pub last_finished_at: Option<DateTime<Utc>>,
    pub branch: Option<String>,
    pub pull_request: Option<u64>,
    pub pull_request_url: Option<String>,
    /// The model of the newest attempt that names one.
    pub model: Option<String>,
    pub cost_usd: f64,
    /// The verdict of the newest attempt that reached one.
    pub verdict: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttemptRecord {
    pub id: AttemptId,
    pub task_id: String,
    pub number: u32,
    pub status: AttemptStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub summary: String,
    pub error: Option<String>,
    pub llm_calls: u32,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_prompt_tokens: Option<u64>,
    pub branch: Option<String>,
    pub commit: Option<String>,
    pub log_path: Option<String>,
    pub model: Option<String>,
    pub cost_usd: f64,
    /// See [`AttemptFinish::verdict`].
    pub verdict: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    pub id: i64,
    pub task_id: String,
    pub attempt_id: Option<AttemptId>,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskDetail {
    pub task: TaskRecord,
    pub attempts: Vec<AttemptRecord>,
    pub events: Vec<EventRecord>,
    pub pull_request: Option<PullRequestRecord>,
}

/// The task history.
pub struct Store {
    conn: Mutex<Connection>,
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

impl Store {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|source| StoreError::CreateDir { path: parent.display().to_string(), source })?;
        }
        Self::init(Connection::open(path)?)
    }

    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Corrupt(format!(
                "the store has schema version {version}, newer than this codingworker ({SCHEMA_VERSION}); upgrade it"
            )));
        }
        conn.execute_batch(SCHEMA)?;
        if version == 1 {
            // Version 2 records how much of each attempt's prompt the model server served from its cache.
            conn.execute_batch("ALTER TABLE attempts ADD COLUMN cached_prompt_tokens INTEGER")?;
        }
        if (1..3).contains(&version) {
            // Version 3: the project a task belongs to, and which model wrote an attempt's change at what cost.
            conn.execute_batch(
                "ALTER TABLE tasks ADD COLUMN project TEXT NOT NULL DEFAULT '';
                 ALTER TABLE attempts ADD COLUMN model TEXT;
                 ALTER TABLE attempts ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0;",
            )?;
        }
        if (1..4).contains(&version) {
            // Version 4: what the tests showed about an attempt's change (fixed, no_regressions, tests_fail,
            // tests_not_run); older attempts have none.
            conn.execute_batch("ALTER TABLE attempts ADD COLUMN verdict TEXT;")?;
        }
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        Ok(Self { conn: Mutex::new(conn) })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::Internal("a previous store call panicked".into()))?;
        f(&mut conn)
    }

    /// Records a task the first time it is seen; later calls leave it as it is.
    pub fn upsert_task(&self, task: &NewTask) -> Result<(), StoreError> {
        self.with(|conn| {
            let now = now_ms();
            conn.execute(
                "INSERT INTO tasks (task_id, repository, issue_number, title, state, message_json, created_at, updated_at,
                 project) VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6, ?6, ?7) ON CONFLICT(task_id) DO NOTHING",
                params![
                    task.task_id,
                    task.repository,
                    task.issue_number as i64,
                    task.title,
                    task.message_json,
                    now,
                    task.project
                ],
            )?;
            Ok(())
        })
    }

    pub fn set_task_state(&self, task_id: &str, state: TaskState, last_error: Option<&str>) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "UPDATE tasks SET state = ?2, last_error = COALESCE(?3, last_error), updated_at = ?4 WHERE task_id = ?1",
                params![task_id, state.as_str(), last_error, now_ms()],
            )?;
            Ok(())
        })
    }

    /// Opens a new attempt. An earlier attempt still marked running belonged to a process that died.
    pub fn start_attempt(&self, task_id: &str, log_path: Option<&str>) -> Result<AttemptId, StoreError> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            let now = now_ms();
            tx.execute(
                "UPDATE attempts SET status = 'interrupted', finished_at = ?2,
                 error = COALESCE(error, 'the worker stopped during this attempt (crash, kill or shutdown)')
                 WHERE task_id = ?1 AND status = 'running'",
                params![task_id, now],
            )?;
            let number: i64 =
                tx.query_row("SELECT COUNT(*) FROM attempts WHERE task_id = ?1", params![task_id], |r| r.get(0))?;
            tx.execute(
                "INSERT INTO attempts (task_id, number, status, started_at, log_path) VALUES (?1, ?2, 'running', ?3, ?4)",
                params![task_id, number + 1, now, log_path],
            )?;
            let id = tx.last_insert_rowid();
            tx.execute(
                "UPDATE tasks SET state = 'running', attempts = ?2, updated_at = ?3 WHERE task_id = ?1",
                params![task_id, number + 1, now],
            )?;
            tx.commit()?;
            Ok(id)
        })
    }

    /// Ends the task's running attempt as interrupted (cancelled, or stopped at shutdown) with `reason`.
    pub fn interrupt_attempt(&self, task_id: &str, reason: &str) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "UPDATE attempts SET status = 'interrupted', finished_at = ?2, error = ?3
                 WHERE task_id = ?1 AND status = 'running'",
                params![task_id, now_ms(), reason],
            )?;
            Ok(())
        })
    }

    pub fn finish_attempt(&self, id: AttemptId, finish: &AttemptFinish) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "UPDATE attempts SET status = ?2, finished_at = ?3, summary = ?4, error = ?5, llm_calls = ?6,
                 prompt_tokens = ?7, completion_tokens = ?8, branch = ?9, commit_sha = ?10,
                 cached_prompt_tokens = ?11, model = ?12, cost_usd = MAX(cost_usd, ?13), verdict = ?14 WHERE id = ?1",
                params![
                    id,
                    finish.status.as_str(),
                    now_ms(),
                    finish.summary,
                    finish.error,
                    finish.llm_calls,
                    finish.prompt_tokens as i64,
                    finish.completion_tokens as i64,
                    finish.branch,
                    finish.commit,
                    finish.cached_prompt_tokens.map(|n| n as i64),
                    finish.model,
                    finish.cost_usd,
                    finish.verdict
                ],
            )?;
            Ok(())
        })
    }

    pub fn add_event(
        &self,
        task_id: &str,
        attempt: Option<AttemptId>,
        kind: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO events (task_id, attempt_id, at, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![task_id, attempt, now_ms(), kind, detail],
            )?;
            Ok(())
        })
    }

    /// Records a pull request; the same repository and branch again updates the record and keeps its number.
    pub fn record_pull_request(&self, pr: &NewPullRequest) -> Result<PullRequestRecord, StoreError> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let now = now_ms();
            let existing: Option<i64> = tx
                .query_row(
                    "SELECT id FROM pull_requests WHERE repository = ?1 AND head_branch = ?2",
                    params![pr.repository, pr.head_branch],
                    |r| r.get(0),
                )
                .optional()?;
            match existing {
                Some(id) => {
                    tx.execute(
                        "UPDATE pull_requests SET task_id = ?2, title = ?3, body = ?4, base_branch = ?5, head_commit = ?6,
                         verified = ?7, url = ?8, updated_at = ?9 WHERE id = ?1",
                        params![id, pr.task_id, pr.title, pr.body, pr.base_branch, pr.head_commit, pr.verified, pr.url, now],
                    )?;
                }
                None => {
                    let number: i64 = tx.query_row(
                        "SELECT COALESCE(MAX(number), 0) + 1 FROM pull_requests WHERE repository = ?1",
                        params![pr.repository],
                        |r| r.get(0),
                    )?;
                    tx.execute(
                        "INSERT INTO pull_requests (repository, number, task_id, title, body, head_branch, base_branch,
                         head_commit, verified, url, created_at, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
                        params![
                            pr.repository,
                            number,
                            pr.task_id,
                            pr.title,
                            pr.body,
                            pr.head_branch,
                            pr.base_branch,
                            pr.head_commit,
                            pr.verified,
                            pr.url,
                            now
                        ],
                    )?;
                }
            }
            let record = tx.query_row(
                &format!("{PR_COLUMNS} WHERE repository = ?1 AND head_branch = ?2"),
                params![pr.repository, pr.head_branch],
                pr_from_row,
            )?;
            tx.commit()?;
            Ok(record)
        })
    }

    /// Newest first.
    /// Every task recorded for issue `issue_number` of `repository`, newest first.
    pub fn tasks_for_issue(&self, repository: &str, issue_number: u64) -> Result<Vec<TaskRecord>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare(&format!(
                "{TASK_COLUMNS} WHERE repository = ?1 COLLATE NOCASE AND issue_number = ?2 ORDER BY created_at DESC, rowid DESC"
            ))?;
            let rows = stmt.query_map(params![repository, issue_number as i64], task_from_row)?;
            let mut tasks = Vec::new();
            for row in rows {
                tasks.push(row??);
            }
            Ok(tasks)
        })
    }

    pub fn list_tasks(&self, limit: usize) -> Result<Vec<TaskRecord>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare(&format!("{TASK_COLUMNS} ORDER BY created_at DESC, rowid DESC LIMIT ?1"))?;
            let rows = stmt.query_map(params![limit as i64], task_from_row)?;
            let mut tasks = Vec::new();
            for row in rows {
                tasks.push(row??);
            }
            Ok(tasks)
        })
    }

    /// The newest tasks with what a dashboard row shows: usage summed over attempts, first start and last end, the
    /// last pushed branch and the pull request.
    pub fn task_overview(&self, limit: usize) -> Result<Vec<TaskOverview>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT t.task_id, t.repository, t.issue_number, t.title, t.state, t.attempts, t.last_error,
                        t.created_at, t.updated_at, t.message_json, t.project,
                        (SELECT COALESCE(SUM(prompt_tokens), 0) FROM attempts a WHERE a.task_id = t.task_id),
                        (SELECT COALESCE(SUM(completion_tokens), 0) FROM attempts a WHERE a.task_id = t.task_id),
                        (SELECT MIN(started_at) FROM attempts a WHERE a.task_id = t.task_id),
                        (SELECT MAX(finished_at) FROM attempts a WHERE a.task_id = t.task_id),
                        (SELECT branch FROM attempts a WHERE a.task_id = t.task_id AND branch IS NOT NULL
                            ORDER BY id DESC LIMIT 1),
                        (SELECT number FROM pull_requests p WHERE p.task_id = t.task_id ORDER BY updated_at DESC LIMIT 1),
                        (SELECT url FROM pull_requests p WHERE p.task_id = t.task_id ORDER BY updated_at DESC LIMIT 1),
                        (SELECT model FROM attempts a WHERE a.task_id = t.task_id AND model IS NOT NULL
                            ORDER BY id DESC LIMIT 1),
                        (SELECT COALESCE(SUM(cost_usd), 0) FROM attempts a WHERE a.task_id = t.task_id),
                        (SELECT verdict FROM attempts a WHERE a.task_id = t.task_id AND verdict IS NOT NULL
                            ORDER BY id DESC LIMIT 1)
                 FROM tasks t ORDER BY t.created_at DESC, t.rowid DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map(params![limit as i64], |r| {
                let task = task_from_row(r)?;
                Ok(task.map(|task| TaskOverview {
                    task,
                    prompt_tokens: r.get::<_, i64>(11).unwrap_or(0) as u64,
                    completion_tokens: r.get::<_, i64>(12).unwrap_or(0) as u64,
                    first_started_at: r.get::<_, Option<i64>>(13).ok().flatten().map(time),
                    last_finished_at: r.get::<_, Option<i64>>(14).ok().flatten().map(time),
                    branch: r.get(15).ok().flatten(),
                    pull_request: r.get::<_, Option<i64>>(16).ok().flatten().map(|n| n as u64),
                    pull_request_url: r.get(17).ok().flatten(),
                    model: r.get(18).ok().flatten(),
                    cost_usd: r.get::<_, f64>(19).unwrap_or(0.0),
                    verdict: r.get(20).ok().flatten(),
                }))
            })?;
            let mut tasks = Vec::new();
            for row in rows {
                tasks.push(row??);
            }
            Ok(tasks)
        })
    }

    /// How many tasks are in each state, each state once (older `failed` rows count as `draft`).
    pub fn count_by_state(&self) -> Result<Vec<(TaskState, u64)>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare("SELECT state, COUNT(*) FROM tasks GROUP BY state")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            let mut counts: Vec<(TaskState, u64)> = Vec::new();
            for row in rows {
                let (state, count) = row?;
                let Ok(state) = state.parse::<TaskState>() else { continue };
                match counts.iter_mut().find(|(s, _)| *s == state) {
                    Some((_, total)) => *total += count as u64,
                    None => counts.push((state, count as u64)),
                }
            }
            Ok(counts)
        })
    }

    /// A task by id or unique prefix (4 characters or more).
    pub fn task_detail(&self, id_or_prefix: &str) -> Result<Option<TaskDetail>, StoreError> {
        self.with(|conn| {
            let exact: Option<String> = conn
                .query_row("SELECT task_id FROM tasks WHERE task_id = ?1", params![id_or_prefix], |r| r.get(0))
                .optional()?;
            let task_id = match exact {
                Some(id) => id,
                None if id_or_prefix.len() >= 4 => {
                    let escaped = id_or_prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                    let mut stmt =
                        conn.prepare("SELECT task_id FROM tasks WHERE task_id LIKE ?1 ESCAPE '\\' LIMIT 6")?;
                    let ids: Vec<String> =
                        stmt.query_map(params![format!("{escaped}%")], |r| r.get(0))?.collect::<Result<_, _>>()?;
                    match ids.len() {
                        0 => return Ok(None),
                        1 => ids.into_iter().next().unwrap_or_default(),
                        _ => {
                            return Err(StoreError::AmbiguousTaskId {
                                prefix: id_or_prefix.to_owned(),
                                candidates: ids,
                            });
                        }
                    }
                }
                None => return Ok(None),
            };
            let task =
                conn.query_row(&format!("{TASK_COLUMNS} WHERE task_id = ?1"), params![task_id], task_from_row)??;
            let mut stmt = conn.prepare(
                "SELECT id, task_id, number, status, started_at, finished_at, summary, error, llm_calls, prompt_tokens,
                 completion_tokens, branch, commit_sha, log_path, cached_prompt_tokens, model, cost_usd, verdict FROM attempts
                 WHERE task_id = ?1 ORDER BY number",
            )?;
            let mut attempts = Vec::new();
            for row in stmt.query_map(params![task_id], attempt_from_row)? {
                attempts.push(row??);
            }
            let mut stmt = conn.prepare(
                "SELECT id, task_id, attempt_id, at, kind, detail FROM events WHERE task_id = ?1 ORDER BY id",
            )?;
            let events = stmt
                .query_map(params![task_id], |r| {
                    Ok(EventRecord {
                        id: r.get(0)?,
                        task_id: r.get(1)?,
                        attempt_id: r.get(2)?,
                        at: time(r.get(3)?),
                        kind: r.get(4)?,
                        detail: r.get(5)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let pull_request = conn
                .query_row(
                    &format!("{PR_COLUMNS} WHERE task_id = ?1 ORDER BY updated_at DESC LIMIT 1"),
                    params![task_id],
                    pr_from_row,
                )
                .optional()?;
            Ok(Some(TaskDetail { task, attempts, events, pull_request }))
        })
    }

    /// What the attempts started since `since` cost in model calls: the spend the fallback cap is checked against.
    pub fn spend_since(&self, since: DateTime<Utc>) -> Result<f64, StoreError> {
        self.with(|conn| {
            Ok(conn.query_row(
                "SELECT COALESCE(SUM(cost_usd), 0) FROM attempts WHERE started_at >= ?1",
                params![since.timestamp_millis()],
                |r| r.get(0),
            )?)
        })
    }

    /// Adds cost to a running attempt as it is spent, so a crash mid-attempt still counts against the cap.
    pub fn add_attempt_cost(&self, id: AttemptId, cost_usd: f64) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute("UPDATE attempts SET cost_usd = cost_usd + ?2 WHERE id = ?1", params![id, cost_usd])?;
            Ok(())
        })
    }

    /// Records that this worker pushed `commit` to `branch` of `repository` for `task_id`. Repository names are
    /// compared without case, as forges do.
    pub fn record_push(&self, repository: &str, branch: &str, commit: &str, task_id: &str) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO pushes (repository, branch, commit_sha, task_id, pushed_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(repository, branch) DO UPDATE SET commit_sha = ?3, task_id = ?4, pushed_at = ?5",
                params![repository, branch, commit, task_id, now_ms()],
            )?;
            Ok(())
        })
    }

    /// The commit this worker last pushed to `branch` of `repository`, if it ever pushed there.
    pub fn last_push(&self, repository: &str, branch: &str) -> Result<Option<String>, StoreError> {
        self.with(|conn| {
            Ok(conn
                .query_row(
                    "SELECT commit_sha FROM pushes WHERE repository = ?1 AND branch = ?2",
                    params![repository, branch],
                    |r| r.get(0),
                )
                .optional()?)
        })
    }

    pub fn pull_requests(&self, limit: usize) -> Result<Vec<PullRequestRecord>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare(&format!("{PR_COLUMNS} ORDER BY updated_at DESC LIMIT ?1"))?;
            let records = stmt.query_map(params![limit as i64], pr_from_row)?.collect::<Result<Vec<_>, _>>()?;
            Ok(records)
        })
    }
}

const TASK_COLUMNS: &str = "SELECT task_id, repository, issue_number, title, state, attempts, last_error, created_at,
    updated_at, message_json, project FROM tasks";

fn task_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<TaskRecord, StoreError>> {
    let state: String = r.get(4)?;
    let record = TaskRecord {
        task_id: r.get(0)?,
        repository: r.get(1)?,
        issue_number: r.get::<_, i64>(2)? as u64,
        title: r.get(3)?,
        state: TaskState::Queued,
        attempts: r.get(5)?,
        last_error: r.get(6)?,
        created_at: time(r.get(7)?),
        updated_at: time(r.get(8)?),
        message_json: r.get(9)?,
        project: r.get(10)?,
    };
    Ok(state.parse().map(|state| TaskRecord { state, ..record }))
}

fn attempt_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<AttemptRecord, StoreError>> {
    let status: String = r.get(3)?;
    let finished: Option<i64> = r.get(5)?;
    let record = AttemptRecord {
        id: r.get(0)?,
        task_id: r.get(1)?,
        number: r.get(2)?,
        status: AttemptStatus::Running,
        started_at: time(r.get(4)?),
        finished_at: finished.map(time),
        summary: r.get(6)?,
        error: r.get(7)?,
        llm_calls: r.get(8)?,
        prompt_tokens: r.get::<_, i64>(9)? as u64,
        completion_tokens: r.get::<_, i64>(10)? as u64,
        branch: r.get(11)?,
        commit: r.get(12)?,
        log_path: r.get(13)?,
        cached_prompt_tokens: r.get::<_, Option<i64>>(14)?.map(|n| n as u64),
        model: r.get(15)?,
        cost_usd: r.get(16)?,
        verdict: r.get(17)?,
    };
    Ok(status.parse().map(|status| AttemptRecord { status, ..record }))
}

const PR_COLUMNS: &str = "SELECT number, task_id, repository, title, body, head_branch, base_branch, head_commit,
    verified, url, created_at, updated_at FROM pull_requests";

fn pr_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PullRequestRecord> {
    Ok(PullRequestRecord {
        number: r.get::<_, i64>(0)? as u64,
        task_id: r.get(1)?,
        repository: r.get(2)?,
        title: r.get(3)?,
        body: r.get(4)?,
        head_branch: r.get(5)?,
        base_branch: r.get(6)?,
        head_commit: r.get(7)?,
        verified: r.get(8)?,
        url: r.get(9)?,
        created_at: time(r.get(10)?),
        updated_at: time(r.get(11)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str) -> NewTask {
        NewTask {
            task_id: id.into(),
            project: "default".into(),
            repository: "o/r".into(),
            issue_number: 7,
            title: "Fix it".into(),
            message_json: "{}".into(),
        }
    }

    fn pr(task_id: &str, branch: &str) -> NewPullRequest {
        NewPullRequest {
            task_id: task_id.into(),
            repository: "o/r".into(),
            title: "Fix #7".into(),
            body: "body".into(),
            head_branch: branch.into(),
            base_branch: "main".into(),
            head_commit: "abc".into(),
            verified: true,
            url: None,
        }
    }

    #[test]
    fn a_task_lifecycle_round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/store.db");
        let store = Store::open(&path).unwrap();
        store.upsert_task(&task("task-1")).unwrap();
        store.upsert_task(&task("task-1")).unwrap();
        let first = store.start_attempt("task-1", Some("/logs/task-1.log")).unwrap();
        store.add_event("task-1", Some(first), "received", "attempt 1").unwrap();
        // A second process opens the same file while the first holds it (the CLI beside the worker).
        let reader = Store::open(&path).unwrap();
        assert_eq!(reader.task_detail("task-1").unwrap().unwrap().task.state, TaskState::Running);

        let second = store.start_attempt("task-1", None).unwrap();
        store
            .finish_attempt(
                second,
                &AttemptFinish {
                    status: AttemptStatus::Succeeded,
                    summary: "fixed".into(),
                    error: None,
                    llm_calls: 2,
                    prompt_tokens: 900,
                    completion_tokens: 120,
                    cached_prompt_tokens: Some(40),
                    branch: Some("b".into()),
                    commit: Some("abc".into()),
                    model: Some("qwen2.5-coder:1.5b".into()),
                    cost_usd: 0.0,
                    verdict: Some("fixed".into()),
                },
            )
            .unwrap();
        store.record_pull_request(&pr("task-1", "b")).unwrap();
        store.set_task_state("task-1", TaskState::Succeeded, None).unwrap();

        let detail = reader.task_detail("task-1").unwrap().unwrap();
        assert_eq!(detail.task.state, TaskState::Succeeded);
        assert_eq!(detail.task.attempts, 2);
        let statuses: Vec<_> = detail.attempts.iter().map(|a| a.status).collect();
        assert_eq!(statuses, vec![AttemptStatus::Interrupted, AttemptStatus::Succeeded]);
        assert!(detail.attempts[0].error.as_deref().unwrap_or_default().contains("stopped"));
        assert_eq!(detail.attempts[1].prompt_tokens, 900);
        assert_eq!(detail.attempts[1].verdict.as_deref(), Some("fixed"));
        assert_eq!(detail.events.len(), 1);
        assert_eq!(detail.pull_request.unwrap().number, 1);
    }

    #[test]
    fn spend_is_summed_from_running_and_finished_attempts_since_a_date() {
        let store = Store::open_in_memory().unwrap();
        store.upsert_task(&task("t-1")).unwrap();
        let first = store.start_attempt("t-1", None).unwrap();
        store.add_attempt_cost(first, 0.25).unwrap();
        store.add_attempt_cost(first, 0.5).unwrap();
        let finish = AttemptFinish {
            status: AttemptStatus::Succeeded,
            summary: String::new(),
            error: None,
            llm_calls: 2,
            prompt_tokens: 1,
            completion_tokens: 1,
            cached_prompt_tokens: None,
            branch: None,
            commit: None,
            model: Some("big".into()),
            cost_usd: 0.75,
            verdict: Some("no_regressions".into()),
        };
        store.finish_attempt(first, &finish).unwrap();
        let second = store.start_attempt("t-1", None).unwrap();
        store.add_attempt_cost(second, 0.125).unwrap();
        let month_start = Utc::now() - chrono::Duration::days(1);
        assert!((store.spend_since(month_start).unwrap() - 0.875).abs() < 1e-9);
        assert_eq!(store.spend_since(Utc::now() + chrono::Duration::days(1)).unwrap(), 0.0);
        let overview = store.task_overview(5).unwrap();
        assert_eq!(overview[0].model.as_deref(), Some("big"));
        assert_eq!(overview[0].verdict.as_deref(), Some("no_regressions"), "the newest attempt with a verdict");
        assert!((overview[0].cost_usd - 0.875).abs() < 1e-9);
        assert_eq!(overview[0].task.project, "default");
    }

    #[test]
    fn a_version_2_store_gains_projects_models_costs_and_verdicts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        {
            let conn = Connection::open(&path).unwrap();
            let v2 = SCHEMA
                .replace(
                    "    updated_at INTEGER NOT NULL,\n    project TEXT NOT NULL DEFAULT ''\n",
                    "    updated_at INTEGER NOT NULL\n",
                )
                .replace(
                    "    log_path TEXT,\n    model TEXT,\n    cost_usd REAL NOT NULL DEFAULT 0,\n    verdict TEXT\n",
                    "    log_path TEXT\n",
                );
            assert!(!v2.contains("cost_usd") && !v2.contains("project TEXT"), "the test builds a real v2 schema");
            conn.execute_batch(&v2).unwrap();
            conn.execute_batch(
                "INSERT INTO tasks (task_id, repository, issue_number, title, state, message_json, created_at,
                 updated_at) VALUES ('old', 'o/r', 1, 't', 'succeeded', '{}', 0, 0)",
            )
            .unwrap();
            conn.pragma_update(None, "user_version", 2).unwrap();
        }
        let store = Store::open(&path).unwrap();
        let old = store.task_detail("old").unwrap().unwrap();
        assert_eq!(old.task.project, "");
        store.upsert_task(&task("new")).unwrap();
        let attempt = store.start_attempt("new", None).unwrap();
        store.add_attempt_cost(attempt, 0.5).unwrap();
        assert!((store.spend_since(Utc::now() - chrono::Duration::hours(1)).unwrap() - 0.5).abs() < 1e-9);
        assert_eq!(store.task_detail("new").unwrap().unwrap().attempts[0].verdict, None, "v4's verdict column");
    }

    #[test]
    fn a_draft_is_stored_as_draft_and_older_failed_rows_read_as_drafts() {
        assert_eq!(TaskState::Draft.as_str(), "draft");
        assert_eq!("draft".parse::<TaskState>().unwrap(), TaskState::Draft);
        // Before the state had its name, the only writer of `failed` was a task that ended with a draft.
        assert_eq!("failed".parse::<TaskState>().unwrap(), TaskState::Draft);
        assert!("finished".parse::<TaskState>().is_err());
        let store = Store::open_in_memory().unwrap();
        for (id, state) in [("a", "failed"), ("b", "draft"), ("c", "queued")] {
            store.upsert_task(&task(id)).unwrap();
            store
                .with(|conn| Ok(conn.execute("UPDATE tasks SET state = ?2 WHERE task_id = ?1", params![id, state])?))
                .unwrap();
        }
        let mut counts = store.count_by_state().unwrap();
        counts.sort_by_key(|(s, _)| s.as_str());
        assert_eq!(counts, [(TaskState::Draft, 2), (TaskState::Queued, 1)]);
    }

    #[test]
    fn prefixes_find_tasks_and_ambiguity_is_reported() {
        let store = Store::open_in_memory().unwrap();
        store.upsert_task(&task("abcd-1111")).unwrap();
        store.upsert_task(&task("abcd-2222")).unwrap();
        store.upsert_task(&task("ffff-0000")).unwrap();
        assert_eq!(store.task_detail("ffff").unwrap().unwrap().task.task_id, "ffff-0000");
        assert!(store.task_detail("zzzz").unwrap().is_none());
        assert!(store.task_detail("ff").unwrap().is_none(), "too short to be a prefix");
        let err = store.task_detail("abcd").unwrap_err();
        assert!(matches!(err, StoreError::AmbiguousTaskId { ref candidates, .. } if candidates.len() == 2), "{err}");
        assert!(store.task_detail("abc%").unwrap().is_none(), "LIKE wildcards are literal");
        assert_eq!(store.list_tasks(10).unwrap().len(), 3);
    }

    #[test]
    fn the_last_push_is_found_whatever_the_case_of_the_repository_name() {
        let store = Store::open_in_memory().unwrap();
        store.record_push("Acme/Calc", "codingworker/issue-3-x", "aaa", "t1").unwrap();
        assert_eq!(store.last_push("acme/calc", "codingworker/issue-3-x").unwrap().as_deref(), Some("aaa"));
        store.record_push("ACME/CALC", "codingworker/issue-3-x", "bbb", "t2").unwrap();
        assert_eq!(store.last_push("Acme/Calc", "codingworker/issue-3-x").unwrap().as_deref(), Some("bbb"));
        assert_eq!(store.last_push("acme/calc", "codingworker/issue-3-x-2").unwrap(), None);
    }

    #[test]
    fn pull_requests_are_numbered_per_repository_and_updated_in_place() {
        let store = Store::open_in_memory().unwrap();
        let a = store.record_pull_request(&pr("t1", "branch-a")).unwrap();
        let b = store.record_pull_request(&pr("t2", "branch-b")).unwrap();
        let mut again = pr("t1", "branch-a");
        again.head_commit = "def".into();
        again.verified = false;
        let a2 = store.record_pull_request(&again).unwrap();
        let mut other = pr("t3", "branch-a");
        other.repository = "o/other".into();
        let c = store.record_pull_request(&other).unwrap();
        assert_eq!((a.number, b.number, a2.number, c.number), (1, 2, 1, 1));
        assert_eq!(a2.head_commit, "def");
        assert!(!a2.verified);
        assert_eq!(store.pull_requests(10).unwrap().len(), 3);
    }
}
