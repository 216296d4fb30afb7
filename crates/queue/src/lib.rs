//! Task queues with SQS semantics: the embedded SQLite backend and Amazon SQS, behind one trait.
//!
//! A received message is invisible for the visibility timeout and comes back if its holder neither deletes nor
//! releases it (a crash, a kill). Each receive counts; after `max_receives` the message moves to the
//! dead-letter table with the last failure reason, as an SQS redrive policy would.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

mod sqs;
pub use sqs::{SqsQueue, SqsQueueOptions, region_of_url};

/// SQS's message size limit; the embedded queue keeps it so behaviour does not change with the backend.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A message handed to a worker.
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    pub message_id: String,
    /// Proof of this receive; a later receive by anyone makes it stale.
    pub receipt: String,
    pub body: String,
    /// 1 on the first receive.
    pub receive_count: u32,
    /// Receives the queue allows before it parks the message: this is the last attempt when they are equal.
    pub max_receives: u32,
    pub sent_at: DateTime<Utc>,
}

/// A message parked for a human.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub message_id: String,
    pub body: String,
    pub receive_count: u32,
    pub reason: String,
    pub dead_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    pub visible: u64,
    /// Received and not yet acknowledged or released.
    pub in_flight: u64,
    /// Released for a retry that is not due yet.
    pub delayed: u64,
    pub dead: u64,
}

impl QueueDepth {
    /// Nothing left to do now or later.
    pub fn is_idle(&self) -> bool {
        self.visible == 0 && self.in_flight == 0 && self.delayed == 0
    }
}

/// What happened to a released message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Released {
    WillRetry { after: Duration },
    DeadLettered,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue storage (SQLite): {0}")]
    Storage(#[from] rusqlite::Error),
    #[error(
        "receipt {receipt} is stale: the visibility timeout expired and the message was received again \
         (raise queue.visibility_timeout_secs if tasks outlive it)"
    )]
    StaleReceipt { receipt: String },
    #[error("message is {bytes} bytes; the queue accepts at most {limit}")]
    BodyTooLarge { bytes: usize, limit: usize },
    #[error("cannot create the queue's directory {path}: {source}")]
    CreateDir { path: String, source: std::io::Error },
    #[error("queue internal error: {0}")]
    Internal(String),
    #[error("SQS {operation} failed: {message}")]
    Sqs { operation: &'static str, code: Option<String>, message: String, retryable: bool },
    #[error(
        "cannot use the SQS queue {url}: {reason}. Check the URL, the AWS credentials (AWS_PROFILE, \
         `aws sso login`, aws.profile) and the region"
    )]
    Connect { url: String, reason: String },
}

impl QueueError {
    pub fn is_retryable(&self) -> bool {
        match self {
            QueueError::Storage(rusqlite::Error::SqliteFailure(e, _)) => {
                matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            }
            QueueError::Internal(_) => true,
            QueueError::Sqs { retryable, .. } => *retryable,
            _ => false,
        }
    }
}

/// A queue with SQS semantics.
#[async_trait::async_trait]
pub trait Queue: Send + Sync {
    /// Enqueues `body`; returns the message id.
    async fn send(&self, body: &str) -> Result<String, QueueError>;
    /// Waits up to `wait` for a visible message and hides it for the visibility timeout.
    async fn receive(&self, wait: Duration) -> Result<Option<ReceivedMessage>, QueueError>;
    /// Acknowledges: the message is done.
    async fn delete(&self, receipt: &str) -> Result<(), QueueError>;
    /// Heartbeat: hide the message for `timeout` from now.
    async fn extend_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), QueueError>;
    /// The attempt failed with `reason`: retry after `delay`, or dead-letter if no receives are left.
    async fn release(&self, receipt: &str, reason: &str, delay: Duration) -> Result<Released, QueueError>;
    /// Parks the message now: it can never succeed.
    async fn dead_letter(&self, receipt: &str, reason: &str) -> Result<(), QueueError>;
    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, QueueError>;
    /// Moves a dead letter (by [`DeadLetter::message_id`]) back to the queue with a fresh set of receives.
    /// `false` if it is not (or no longer) there.
    async fn redrive(&self, message_id: &str) -> Result<bool, QueueError>;
    async fn depth(&self) -> Result<QueueDepth, QueueError>;
    fn max_receives(&self) -> u32;
    /// Short description for logs, e.g. `sqlite:/path/queue.db`.
    fn describe(&self) -> String;
}

#[derive(Debug, Clone)]
pub struct SqliteQueueOptions {
    pub visibility_timeout: Duration,
    pub max_receives: u32,
    /// How often a long poll looks again.
    pub poll_interval: Duration,
}

impl Default for SqliteQueueOptions {
    fn default() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(900),
            max_receives: 3,
            poll_interval: Duration::from_millis(250),
        }
    }
}

/// The embedded queue: one SQLite file, safe to share between processes.
pub struct SqliteQueue {
    conn: Arc<Mutex<Connection>>,
    options: SqliteQueueOptions,
    path: String,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    message_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS messages_visible ON messages(visible_at, sent_at);
CREATE TABLE IF NOT EXISTS dead_letters (
    message_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL,
    reason TEXT NOT NULL,
    dead_at INTEGER NOT NULL
);
";

const CRASH_REASON: &str = "the worker stopped without reporting (crash or kill)";

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

impl SqliteQueue {
    /// Opens (and creates) the queue at `path`.
    pub fn open(path: &Path, options: SqliteQueueOptions) -> Result<Self, QueueError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|source| QueueError::CreateDir { path: parent.display().to_string(), source })?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)), options, path: path.display().to_string() })
    }

    /// Runs blocking SQLite work off the async threads.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, QueueError> + Send + 'static,
    ) -> Result<T, QueueError> {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().map_err(|_| QueueError::Internal("a previous queue call panicked".into()))?;
            work(&mut conn)
        })
        .await
        .map_err(|e| QueueError::Internal(format!("queue task failed: {e}")))?
    }

    /// One atomic claim attempt: the oldest visible message, or a dead-lettering of an exhausted one.
    fn try_claim(
        conn: &mut Connection,
        visibility: Duration,
        max_receives: u32,
    ) -> Result<Option<ReceivedMessage>, QueueError> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = now_ms();
        loop {
            let row = tx
                .query_row(
                    "SELECT message_id, body, sent_at, receive_count, last_error FROM messages
                     WHERE visible_at <= ?1 ORDER BY sent_at, rowid LIMIT 1",
                    params![now],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, u32>(3)?,
                            r.get::<_, Option<String>>(4)?,
                        ))
                    },
                )
                .optional()?;
            let Some((message_id, body, sent_at, receive_count, last_error)) = row else {
                tx.commit()?;
                return Ok(None);
            };
            if receive_count >= max_receives {
                // Its holder died on the last attempt: park it instead of handing it out a fourth time.
                let reason = format!(
                    "received {receive_count} times without success; last failure: {}",
                    last_error.as_deref().unwrap_or(CRASH_REASON)
                );
                move_to_dead_letters(&tx, &message_id, &reason)?;
                tracing::warn!(%message_id, "{reason}");
                continue;
            }
            let receipt = uuid::Uuid::new_v4().to_string();
            tx.execute(
                "UPDATE messages SET receipt = ?2, visible_at = ?3, receive_count = receive_count + 1
                 WHERE message_id = ?1",
                params![message_id, receipt, now + millis(visibility)],
            )?;
            tx.commit()?;
            return Ok(Some(ReceivedMessage {
                message_id,
                receipt,
                body,
                receive_count: receive_count + 1,
                max_receives,
                sent_at: time(sent_at),
            }));
        }
    }
}

fn move_to_dead_letters(tx: &rusqlite::Transaction<'_>, message_id: &str, reason: &str) -> Result<(), QueueError> {
    tx.execute(
        "INSERT OR REPLACE INTO dead_letters (message_id, body, sent_at, receive_count, reason, dead_at)
         SELECT message_id, body, sent_at, receive_count, ?2, ?3 FROM messages WHERE message_id = ?1",
        params![message_id, reason, now_ms()],
    )?;
    tx.execute("DELETE FROM messages WHERE message_id = ?1", params![message_id])?;
    Ok(())
}

/// The message id for a current receipt, or a stale-receipt error.
fn holder(tx: &rusqlite::Transaction<'_>, receipt: &str) -> Result<(String, u32), QueueError> {
    tx.query_row("SELECT message_id, receive_count FROM messages WHERE receipt = ?1", params![receipt], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .optional()?
    .ok_or_else(|| QueueError::StaleReceipt { receipt: receipt.to_owned() })
}

#[async_trait::async_trait]
impl Queue for SqliteQueue {
    async fn send(&self, body: &str) -> Result<String, QueueError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(QueueError::BodyTooLarge { bytes: body.len(), limit: MAX_BODY_BYTES });
        }
        let body = body.to_owned();
        self.blocking(move |conn| {
            let id = uuid::Uuid::new_v4().to_string();
            let now = now_ms();
            conn.execute(
                "INSERT INTO messages (message_id, body, sent_at, visible_at) VALUES (?1, ?2, ?3, ?3)",
                params![id, body, now],
            )?;
            Ok(id)
        })
        .await
    }

    async fn receive(&self, wait: Duration) -> Result<Option<ReceivedMessage>, QueueError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let (visibility, max) = (self.options.visibility_timeout, self.options.max_receives);
            if let Some(message) = self.blocking(move |conn| Self::try_claim(conn, visibility, max)).await? {
                return Ok(Some(message));
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(self.options.poll_interval.min(deadline - now)).await;
        }
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        let receipt = receipt.to_owned();
        self.blocking(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (id, _) = holder(&tx, &receipt)?;
            tx.execute("DELETE FROM messages WHERE message_id = ?1", params![id])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn extend_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), QueueError> {
        let receipt = receipt.to_owned();
        self.blocking(move |conn| {
            let changed = conn.execute(
                "UPDATE messages SET visible_at = ?2 WHERE receipt = ?1",
                params![receipt, now_ms() + millis(timeout)],
            )?;
            if changed == 0 {
                return Err(QueueError::StaleReceipt { receipt });
            }
            Ok(())
        })
        .await
    }

    async fn release(&self, receipt: &str, reason: &str, delay: Duration) -> Result<Released, QueueError> {
        let (receipt, reason) = (receipt.to_owned(), reason.to_owned());
        let max = self.options.max_receives;
        self.blocking(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (id, receive_count) = holder(&tx, &receipt)?;
            let released = if receive_count >= max {
                let reason = format!("failed {receive_count} times; last failure: {reason}");
                move_to_dead_letters(&tx, &id, &reason)?;
                Released::DeadLettered
            } else {
                tx.execute(
                    "UPDATE messages SET visible_at = ?2, receipt = NULL, last_error = ?3 WHERE message_id = ?1",
                    params![id, now_ms() + millis(delay), reason],
                )?;
                Released::WillRetry { after: delay }
            };
            tx.commit()?;
            Ok(released)
        })
        .await
    }

    async fn dead_letter(&self, receipt: &str, reason: &str) -> Result<(), QueueError> {
        let (receipt, reason) = (receipt.to_owned(), reason.to_owned());
        self.blocking(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (id, _) = holder(&tx, &receipt)?;
            move_to_dead_letters(&tx, &id, &reason)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, QueueError> {
        self.blocking(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT message_id, body, receive_count, reason, dead_at FROM dead_letters ORDER BY dead_at DESC LIMIT ?1",
            )?;
            let letters = stmt
                .query_map(params![limit as i64], |r| {
                    Ok(DeadLetter {
                        message_id: r.get(0)?,
                        body: r.get(1)?,
                        receive_count: r.get(2)?,
                        reason: r.get(3)?,
                        dead_at: time(r.get(4)?),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(letters)
        })
        .await
    }

    async fn redrive(&self, message_id: &str) -> Result<bool, QueueError> {
        let message_id = message_id.to_owned();
        self.blocking(move |conn| {
            let tx = conn.transaction()?;
            let body: Option<String> = tx
                .query_row("SELECT body FROM dead_letters WHERE message_id = ?1", params![message_id], |r| r.get(0))
                .optional()?;
            let Some(body) = body else { return Ok(false) };
            let now = now_ms();
            tx.execute(
                "INSERT OR REPLACE INTO messages (message_id, body, sent_at, visible_at, receive_count)
                 VALUES (?1, ?2, ?3, ?3, 0)",
                params![message_id, body, now],
            )?;
            tx.execute("DELETE FROM dead_letters WHERE message_id = ?1", params![message_id])?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        self.blocking(move |conn| {
            let now = now_ms();
            let count = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<u64, QueueError> {
                Ok(conn.query_row(sql, p, |r| r.get::<_, i64>(0))? as u64)
            };
            Ok(QueueDepth {
                visible: count("SELECT COUNT(*) FROM messages WHERE visible_at <= ?1", &[&now])?,
                in_flight: count(
                    "SELECT COUNT(*) FROM messages WHERE visible_at > ?1 AND receipt IS NOT NULL",
                    &[&now],
                )?,
                delayed: count("SELECT COUNT(*) FROM messages WHERE visible_at > ?1 AND receipt IS NULL", &[&now])?,
                dead: count("SELECT COUNT(*) FROM dead_letters", &[])?,
            })
        })
        .await
    }

    fn max_receives(&self) -> u32 {
        self.options.max_receives
    }

    fn describe(&self) -> String {
        format!("sqlite:{}", self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &Path, visibility_ms: u64) -> SqliteQueue {
        SqliteQueue::open(
            &dir.join("q/queue.db"),
            SqliteQueueOptions {
                visibility_timeout: Duration::from_millis(visibility_ms),
                max_receives: 3,
                poll_interval: Duration::from_millis(20),
            },
        )
        .unwrap()
    }

    const NO_WAIT: Duration = Duration::ZERO;

    #[tokio::test]
    async fn send_receive_delete() {
        let dir = tempfile::tempdir().unwrap();
        let q = open(dir.path(), 10_000);
        let id = q.send("hello").await.unwrap();
        let m = q.receive(NO_WAIT).await.unwrap().unwrap();
        assert_eq!((m.message_id.as_str(), m.body.as_str(), m.receive_count), (id.as_str(), "hello", 1));
        assert!(q.receive(NO_WAIT).await.unwrap().is_none(), "in flight messages are invisible");
        assert_eq!(q.depth().await.unwrap(), QueueDepth { visible: 0, in_flight: 1, delayed: 0, dead: 0 });
        q.delete(&m.receipt).await.unwrap();
        assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
        assert!(matches!(q.delete(&m.receipt).await, Err(QueueError::StaleReceipt { .. })));
    }

    #[tokio::test]
    async fn messages_come_back_after_the_visibility_timeout_unless_extended() {
        let dir = tempfile::tempdir().unwrap();
        let q = open(dir.path(), 200);
        q.send("a").await.unwrap();
        let m = q.receive(NO_WAIT).await.unwrap().unwrap();
        q.extend_visibility(&m.receipt, Duration::from_millis(600)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(q.receive(NO_WAIT).await.unwrap().is_none(), "the heartbeat kept it hidden");
        let again = q.receive(Duration::from_secs(2)).await.unwrap().unwrap();
        assert_eq!(again.receive_count, 2);
        assert!(matches!(q.delete(&m.receipt).await, Err(QueueError::StaleReceipt { .. })), "old receipt is stale");
        assert!(matches!(q.extend_visibility(&m.receipt, NO_WAIT).await, Err(QueueError::StaleReceipt { .. })));
        q.delete(&again.receipt).await.unwrap();
    }

    #[tokio::test]
    async fn release_retries_then_dead_letters_on_the_third_failure() {
        let dir = tempfile::tempdir().unwrap();
        let q = open(dir.path(), 10_000);
        q.send("task").await.unwrap();
        for attempt in 1..=2 {
            let m = q.receive(NO_WAIT).await.unwrap().unwrap();
            assert_eq!(m.receive_count, attempt);
            let released = q.release(&m.receipt, &format!("failure {attempt}"), NO_WAIT).await.unwrap();
            assert_eq!(released, Released::WillRetry { after: NO_WAIT });
        }
        let m = q.receive(NO_WAIT).await.unwrap().unwrap();
        assert_eq!(q.release(&m.receipt, "model down", NO_WAIT).await.unwrap(), Released::DeadLettered);
        assert!(q.receive(NO_WAIT).await.unwrap().is_none());
        let dead = q.dead_letters(10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].receive_count, 3);
        assert!(dead[0].reason.contains("model down"), "{}", dead[0].reason);
    }

    #[tokio::test]
    async fn release_with_delay_hides_the_message() {
        let dir = tempfile::tempdir().unwrap();
        let q = open(dir.path(), 10_000);
        q.send("task").await.unwrap();
        let m = q.receive(NO_WAIT).await.unwrap().unwrap();
        q.release(&m.receipt, "later", Duration::from_millis(300)).await.unwrap();
        assert!(q.receive(NO_WAIT).await.unwrap().is_none());
        assert_eq!(q.depth().await.unwrap().delayed, 1);
        assert!(q.receive(Duration::from_secs(2)).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_crashed_holder_loses_nothing_and_exhausted_messages_are_parked() {
        let dir = tempfile::tempdir().unwrap();
        {
            let q = open(dir.path(), 100);
            q.send("task").await.unwrap();
            q.receive(NO_WAIT).await.unwrap().unwrap();
            // Dropped without ack or release: the process died.
        }
        for expected in 2..=3 {
            let q = open(dir.path(), 100);
            let m = q.receive(Duration::from_secs(2)).await.unwrap().unwrap();
            assert_eq!(m.receive_count, expected);
        }
        let q = open(dir.path(), 100);
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(q.receive(NO_WAIT).await.unwrap().is_none(), "a fourth receive never happens");
        let dead = q.dead_letters(10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert!(dead[0].reason.contains("stopped without reporting"), "{}", dead[0].reason);
    }

    #[tokio::test]
    async fn dead_letter_parks_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let q = open(dir.path(), 10_000);
        q.send("{bad json").await.unwrap();
        let m = q.receive(NO_WAIT).await.unwrap().unwrap();
        q.dead_letter(&m.receipt, "malformed JSON").await.unwrap();
        let dead = q.dead_letters(10).await.unwrap();
        assert_eq!((dead[0].receive_count, dead[0].reason.as_str()), (1, "malformed JSON"));
        assert_eq!(q.depth().await.unwrap(), QueueDepth { visible: 0, in_flight: 0, delayed: 0, dead: 1 });

        // Redriven: back in the queue with a fresh count of receives, and out of the dead letters.
        assert!(q.redrive(&dead[0].message_id).await.unwrap());
        assert!(!q.redrive(&dead[0].message_id).await.unwrap(), "only once");
        assert_eq!(q.depth().await.unwrap(), QueueDepth { visible: 1, in_flight: 0, delayed: 0, dead: 0 });
        let again = q.receive(NO_WAIT).await.unwrap().unwrap();
        assert_eq!((again.body.as_str(), again.receive_count), ("{bad json", 1));
    }

    #[tokio::test]
    async fn oversized_bodies_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let q = open(dir.path(), 10_000);
        let err = q.send(&"x".repeat(MAX_BODY_BYTES + 1)).await.unwrap_err();
        assert!(matches!(err, QueueError::BodyTooLarge { .. }));
        assert!(!err.is_retryable());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_handles_on_one_file_never_receive_the_same_message() {
        let dir = tempfile::tempdir().unwrap();
        let producer = open(dir.path(), 60_000);
        for i in 0..20 {
            producer.send(&format!("m{i}")).await.unwrap();
        }
        let consume = |q: SqliteQueue| async move {
            let mut seen = Vec::new();
            while let Some(m) = q.receive(NO_WAIT).await.unwrap() {
                seen.push(m.body.clone());
                q.delete(&m.receipt).await.unwrap();
            }
            seen
        };
        let (a, b) = tokio::join!(
            tokio::spawn(consume(open(dir.path(), 60_000))),
            tokio::spawn(consume(open(dir.path(), 60_000)))
        );
        let mut all: Vec<String> = a.unwrap().into_iter().chain(b.unwrap()).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 20);
    }
}
