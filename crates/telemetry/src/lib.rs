//! Worker metrics: for CloudWatch, and for the dashboard's Prometheus endpoint.
//!
//! Metrics are written as Embedded Metric Format (EMF) lines to a CloudWatch Logs stream, from which CloudWatch
//! extracts them: one `PutLogEvents` per interval instead of a `PutMetricData` per value, and a protocol moto
//! serves, so the path is tested for real. The names are fixed and carry no dimensions, so the worker never
//! creates more than the six custom metrics below (the free tier allows ten).
//!
//! Publishing is best-effort: a failed flush is logged and its counts are kept for the next one; a task never
//! waits on metrics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use tokio::sync::{mpsc, watch};

/// The namespace the foundation's IAM policy allows and its heartbeat alarm watches.
pub const NAMESPACE: &str = "CodingWorker";
/// Every metric this crate can publish.
pub const METRIC_NAMES: [&str; 6] =
    ["TasksStarted", "TasksSucceeded", "TasksFailed", "TasksDeadLettered", "TaskDuration", "Heartbeat"];

/// What happened to one attempt, as the worker settled it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// Failed and will be retried.
    Failed,
    /// Failed for good, or could never run: parked in the dead-letter queue.
    DeadLettered,
}

#[derive(Debug, Clone, Default)]
pub struct CloudWatchOptions {
    pub log_group: String,
    /// Default: `worker-<hostname>`.
    pub log_stream: Option<String>,
    /// How often counts are flushed and a heartbeat sent.
    pub interval: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error(
        "cannot write metrics to CloudWatch Logs group {group}: {reason}. Check metrics.cloudwatch_log_group \
         (Terraform prints it as worker_log_group) and the AWS credentials"
    )]
    Setup { group: String, reason: String },
}

enum Record {
    Started,
    Settled { outcome: Outcome, duration: Duration },
}

/// A cheap handle the worker records through. CloudWatch publishing is optional (`Metrics::disabled()` sends
/// nothing there); the process-local counters behind `/metrics` always count.
#[derive(Clone, Default)]
pub struct Metrics {
    sender: Option<mpsc::UnboundedSender<Record>>,
    local: std::sync::Arc<LocalCounters>,
}

/// Counters since the process started, for Prometheus (which computes rates itself).
#[derive(Debug, Default)]
pub struct LocalCounters {
    started: AtomicU64,
    succeeded: AtomicU64,
    failed: AtomicU64,
    dead_lettered: AtomicU64,
    task_millis: AtomicU64,
    llm_calls: AtomicU64,
    llm_millis: AtomicU64,
    prompt_tokens: AtomicU64,
    completion_tokens: AtomicU64,
    /// Time from enqueue to receive of the last task received.
    queue_lag_millis: AtomicU64,
    /// Published changes by verdict: fixed, no regressions, tests fail, tests not run.
    verdicts: [AtomicU64; 4],
}

/// The verdict keys `/metrics` counts, in the order of [`LocalCounters`]' `verdicts`.
pub const VERDICT_KEYS: [&str; 4] = ["fixed", "no_regressions", "tests_fail", "tests_not_run"];

impl Metrics {
    pub fn disabled() -> Self {
        Self::default()
    }

    pub fn task_started(&self) {
        self.local.started.fetch_add(1, Ordering::Relaxed);
        self.send(Record::Started);
    }

    pub fn task_settled(&self, outcome: Outcome, duration: Duration) {
        let counter = match outcome {
            Outcome::Succeeded => &self.local.succeeded,
            Outcome::Failed => &self.local.failed,
            Outcome::DeadLettered => &self.local.dead_lettered,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.local.task_millis.fetch_add(millis(duration), Ordering::Relaxed);
        self.send(Record::Settled { outcome, duration });
    }

    /// One model answer: its latency and tokens.
    pub fn llm_call(&self, latency: Duration, prompt_tokens: u64, completion_tokens: u64) {
        self.local.llm_calls.fetch_add(1, Ordering::Relaxed);
        self.local.llm_millis.fetch_add(millis(latency), Ordering::Relaxed);
        self.local.prompt_tokens.fetch_add(prompt_tokens, Ordering::Relaxed);
        self.local.completion_tokens.fetch_add(completion_tokens, Ordering::Relaxed);
    }

    /// A change was published with this verdict key (one of [`VERDICT_KEYS`]; others are ignored).
    pub fn verdict(&self, key: &str) {
        if let Some(i) = VERDICT_KEYS.iter().position(|k| *k == key) {
            self.local.verdicts[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How long the task just received waited in the queue.
    pub fn queue_lag(&self, lag: Duration) {
        self.local.queue_lag_millis.store(millis(lag), Ordering::Relaxed);
    }

    /// The process-local counters in Prometheus' text format (version 0.0.4).
    pub fn prometheus_text(&self) -> String {
        let c = &self.local;
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let secs = |counter: &AtomicU64| get(counter) as f64 / 1000.0;
        let settled = get(&c.succeeded) + get(&c.failed) + get(&c.dead_lettered);
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, samples: &[(&str, String)]| {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            for (labels, value) in samples {
                out.push_str(&format!("{name}{labels} {value}\n"));
            }
        };
        family(
            "codingworker_tasks_started_total",
            "counter",
            "Attempts started.",
            &[("", get(&c.started).to_string())],
        );
        family(
            "codingworker_tasks_total",
            "counter",
            "Attempts settled, by outcome.",
            &[
                ("{outcome=\"succeeded\"}", get(&c.succeeded).to_string()),
                ("{outcome=\"failed\"}", get(&c.failed).to_string()),
                ("{outcome=\"dead_lettered\"}", get(&c.dead_lettered).to_string()),
            ],
        );
        let verdicts: Vec<(String, String)> = VERDICT_KEYS
            .iter()
            .zip(&c.verdicts)
            .map(|(key, counter)| (format!("{{verdict=\"{key}\"}}"), get(counter).to_string()))
            .collect();
        let verdicts: Vec<(&str, String)> = verdicts.iter().map(|(l, v)| (l.as_str(), v.clone())).collect();
        family(
            "codingworker_changes_total",
            "counter",
            "Changes published, by what the tests showed: fixed (a test that failed on the base passes), \
             no_regressions (tests pass before and after; nothing shows the fix), tests_fail, tests_not_run.",
            &verdicts,
        );
        family(
            "codingworker_task_duration_seconds",
            "summary",
            "Wall time of settled attempts.",
            &[("_sum", secs(&c.task_millis).to_string()), ("_count", settled.to_string())],
        );
        family(
            "codingworker_llm_request_duration_seconds",
            "summary",
            "Latency of model answers.",
            &[("_sum", secs(&c.llm_millis).to_string()), ("_count", get(&c.llm_calls).to_string())],
        );
        family(
            "codingworker_llm_tokens_total",
            "counter",
            "Tokens the model read and wrote.",
            &[
                ("{kind=\"prompt\"}", get(&c.prompt_tokens).to_string()),
                ("{kind=\"completion\"}", get(&c.completion_tokens).to_string()),
            ],
        );
        family(
            "codingworker_queue_lag_seconds",
            "gauge",
            "Time the last received task waited in the queue.",
            &[("", secs(&c.queue_lag_millis).to_string())],
        );
        // A summary's `_sum` and `_count` samples are written through the label slot above.
        out
    }

    fn send(&self, record: Record) {
        if let Some(sender) = &self.sender {
            // The publisher only stops at shutdown; a record after that has nowhere to go.
            let _ = sender.send(record);
        }
    }

    /// Makes sure the log stream exists and starts the publisher; it flushes every interval and once
    /// more when `shutdown` turns true. Returns the handle and the publisher's task.
    pub async fn cloudwatch(
        aws: &aws_config::SdkConfig,
        options: CloudWatchOptions,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(Self, tokio::task::JoinHandle<()>), TelemetryError> {
        let client = Client::new(aws);
        let stream = options.log_stream.clone().unwrap_or_else(default_stream_name);
        let created =
            client.create_log_stream().log_group_name(&options.log_group).log_stream_name(&stream).send().await;
        if let Err(error) = created {
            // Already there from an earlier run: fine.
            let exists = error.as_service_error().and_then(|e| e.code()) == Some("ResourceAlreadyExistsException");
            if !exists {
                return Err(TelemetryError::Setup {
                    group: options.log_group.clone(),
                    reason: DisplayErrorContext(&error).to_string(),
                });
            }
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        let publisher = Publisher { client, group: options.log_group, stream, counts: Counts::default() };
        let task = tokio::spawn(publisher.run(receiver, options.interval.max(Duration::from_secs(1)), shutdown));
        Ok((Self { sender: Some(sender), local: std::sync::Arc::default() }, task))
    }
}

fn default_stream_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    let safe: String = host.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
    format!("worker-{safe}")
}

#[derive(Debug, Default, Clone, PartialEq)]
struct Counts {
    started: u64,
    succeeded: u64,
    failed: u64,
    dead_lettered: u64,
    durations_secs: Vec<f64>,
}

impl Counts {
    fn add(&mut self, record: Record) {
        match record {
            Record::Started => self.started += 1,
            Record::Settled { outcome, duration } => {
                match outcome {
                    Outcome::Succeeded => self.succeeded += 1,
                    Outcome::Failed => self.failed += 1,
                    Outcome::DeadLettered => self.dead_lettered += 1,
                }
                self.durations_secs.push(duration.as_secs_f64());
            }
        }
    }
}

/// One EMF line: the heartbeat always, counts and durations since the last flush. Zero counts are sent too, so
/// a graph shows 0 instead of a gap.
fn emf_line(counts: &Counts, timestamp_ms: i64) -> String {
    let mut metrics = vec![
        serde_json::json!({"Name": "Heartbeat", "Unit": "Count"}),
        serde_json::json!({"Name": "TasksStarted", "Unit": "Count"}),
        serde_json::json!({"Name": "TasksSucceeded", "Unit": "Count"}),
        serde_json::json!({"Name": "TasksFailed", "Unit": "Count"}),
        serde_json::json!({"Name": "TasksDeadLettered", "Unit": "Count"}),
    ];
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [[]], "Metrics": []}],
        },
        "Heartbeat": 1,
        "TasksStarted": counts.started,
        "TasksSucceeded": counts.succeeded,
        "TasksFailed": counts.failed,
        "TasksDeadLettered": counts.dead_lettered,
    });
    if !counts.durations_secs.is_empty() {
        // EMF takes an array of values for one metric: CloudWatch keeps each as a sample.
        metrics.push(serde_json::json!({"Name": "TaskDuration", "Unit": "Seconds"}));
        line["TaskDuration"] = serde_json::json!(counts.durations_secs);
    }
    line["_aws"]["CloudWatchMetrics"][0]["Metrics"] = serde_json::Value::Array(metrics);
    line.to_string()
}

struct Publisher {
    client: Client,
    group: String,
    stream: String,
    counts: Counts,
}

impl Publisher {
    async fn run(
        mut self,
        mut records: mpsc::UnboundedReceiver<Record>,
        interval: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut ticker = tokio::time::interval(interval);
        loop {
            tokio::select! {
                _ = ticker.tick() => self.flush().await,
                record = records.recv() => match record {
                    Some(record) => self.counts.add(record),
                    None => break,
                },
                _ = shutdown.changed() => break,
            }
        }
        while let Ok(record) = records.try_recv() {
            self.counts.add(record);
        }
        self.flush().await;
    }

    async fn flush(&mut self) {
        let line = emf_line(&self.counts, chrono::Utc::now().timestamp_millis());
        let event =
            match InputLogEvent::builder().timestamp(chrono::Utc::now().timestamp_millis()).message(line).build() {
                Ok(event) => event,
                Err(e) => {
                    tracing::warn!("could not build the metrics log event: {e}");
                    return;
                }
            };
        let sent = self
            .client
            .put_log_events()
            .log_group_name(&self.group)
            .log_stream_name(&self.stream)
            .log_events(event)
            .send()
            .await;
        match sent {
            Ok(_) => self.counts = Counts::default(),
            // Keep the counts: the next flush carries them.
            Err(e) => tracing::warn!("could not publish metrics to CloudWatch Logs: {}", DisplayErrorContext(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn local_counters_render_as_prometheus_text() {
        let metrics = super::Metrics::disabled();
        metrics.task_started();
        metrics.task_settled(super::Outcome::Succeeded, std::time::Duration::from_millis(1500));
        metrics.llm_call(std::time::Duration::from_millis(250), 100, 20);
        metrics.queue_lag(std::time::Duration::from_secs(3));
        metrics.verdict("no_regressions");
        metrics.verdict("fixed");
        metrics.verdict("no_regressions");
        let text = metrics.prometheus_text();
        for line in [
            "codingworker_tasks_started_total 1",
            "codingworker_tasks_total{outcome=\"succeeded\"} 1",
            "codingworker_tasks_total{outcome=\"failed\"} 0",
            "codingworker_task_duration_seconds_sum 1.5",
            "codingworker_task_duration_seconds_count 1",
            "codingworker_llm_request_duration_seconds_sum 0.25",
            "codingworker_llm_tokens_total{kind=\"prompt\"} 100",
            "codingworker_queue_lag_seconds 3",
            "codingworker_changes_total{verdict=\"no_regressions\"} 2",
            "codingworker_changes_total{verdict=\"fixed\"} 1",
            "codingworker_changes_total{verdict=\"tests_fail\"} 0",
            "# TYPE codingworker_llm_tokens_total counter",
        ] {
            assert!(text.lines().any(|l| l == line), "missing `{line}` in\n{text}");
        }
    }

    #[test]
    fn an_emf_line_declares_every_value_it_carries_and_stays_within_the_six_metrics() {
        let mut counts = Counts::default();
        counts.add(Record::Started);
        counts.add(Record::Settled { outcome: Outcome::Succeeded, duration: Duration::from_secs(42) });
        counts.add(Record::Settled { outcome: Outcome::DeadLettered, duration: Duration::from_secs(7) });
        let text = emf_line(&counts, 1_700_000_000_000);
        // docs/cost.md counts on a line per minute staying well under 1 KB.
        assert!(text.len() < 1024, "{} bytes", text.len());
        println!("EMF line: {} bytes", text.len());
        let line: serde_json::Value = serde_json::from_str(&text).unwrap();
        let declared = line["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap();
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
        for metric in declared {
            let name = metric["Name"].as_str().unwrap();
            assert!(METRIC_NAMES.contains(&name), "{name} is not one of the six");
            assert!(!line[name].is_null(), "{name} is declared but has no value");
        }
        assert_eq!(declared.len(), 6);
        assert_eq!(line["TasksSucceeded"], 1);
        assert_eq!(line["TasksDeadLettered"], 1);
        assert_eq!(line["TaskDuration"], serde_json::json!([42.0, 7.0]));
    }

    #[test]
    fn an_idle_interval_still_sends_the_heartbeat_and_zero_counts() {
        let line: serde_json::Value = serde_json::from_str(&emf_line(&Counts::default(), 0)).unwrap();
        assert_eq!(line["Heartbeat"], 1);
        assert_eq!(line["TasksStarted"], 0);
        assert!(line.get("TaskDuration").is_none());
    }
}
