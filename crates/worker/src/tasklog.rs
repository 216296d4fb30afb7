//! One log file per task: a tracing layer that copies every event inside a `task` span to
//! `<logs>/<task_id>.log`, so `codingworker show` can point at the whole story of one task.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

pub struct TaskLogLayer {
    dir: PathBuf,
}

impl TaskLogLayer {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }
}

/// The task id stored on a span.
struct TaskId(String);

struct TaskIdVisitor(Option<String>);

impl Visit for TaskIdVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "task_id" {
            self.0 = Some(value.to_owned());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "task_id" {
            self.0 = Some(format!("{value:?}").trim_matches('"').to_owned());
        }
    }
}

struct LineVisitor(String);

impl Visit for LineVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

/// Task ids are validated by the protocol crate, but a file name must never be able to escape the directory.
pub fn safe_file_stem(task_id: &str) -> Option<&str> {
    let ok = !task_id.is_empty()
        && task_id.len() <= 120
        && !task_id.starts_with('.')
        && task_id.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    ok.then_some(task_id)
}

impl<S> Layer<S> for TaskLogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut visitor = TaskIdVisitor(None);
        attrs.record(&mut visitor);
        if let (Some(task_id), Some(span)) = (visitor.0, ctx.span(id)) {
            span.extensions_mut().insert(TaskId(task_id));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(scope) = ctx.event_scope(event) else { return };
        let Some(task_id) = scope.from_root().find_map(|span| span.extensions().get::<TaskId>().map(|t| t.0.clone()))
        else {
            return;
        };
        let Some(stem) = safe_file_stem(&task_id) else { return };
        let mut line = LineVisitor(String::new());
        event.record(&mut line);
        let meta = event.metadata();
        let text = format!(
            "{} {:>5} {}: {}\n",
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            meta.level(),
            meta.target(),
            line.0
        );
        let path = self.dir.join(format!("{stem}.log"));
        // Logging must never break a task: a write failure is dropped.
        if std::fs::create_dir_all(&self.dir).is_ok()
            && let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path)
        {
            let _ = file.write_all(text.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::prelude::*;

    #[test]
    fn events_inside_a_task_span_go_to_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let subscriber = tracing_subscriber::registry().with(TaskLogLayer::new(dir.path().to_path_buf()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("outside");
            let span = tracing::info_span!("task", task_id = "t-1", attempt = 2);
            let _guard = span.enter();
            tracing::info!(event = "received", "inside {}", 42);
            let evil = tracing::info_span!("task", task_id = "../escape");
            let _evil = evil.enter();
            tracing::info!("nested");
        });
        let text = std::fs::read_to_string(dir.path().join("t-1.log")).unwrap();
        assert!(text.contains("inside 42 event=received"), "{text}");
        assert!(!text.contains("outside"));
        // The outermost task span wins, so the hostile inner id never names a file.
        assert!(text.contains("nested"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
