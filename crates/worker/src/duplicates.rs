//! Duplicate requests for one issue: a workflow that fires twice for one labelling, SQS delivering a message twice,
//! a second label event. Model time is the scarce thing on the reference machine (minutes per task), so a request
//! that another task already covers is recorded and acknowledged without any work.

use chrono::{DateTime, Utc};
use codingworker_protocol::TaskMessage;
use codingworker_store::{TaskRecord, TaskState};

/// Why `task` needs no work, or `None` when it does. `others` are the store's tasks for the same repository and
/// issue (`task`'s own record among them); `live` is how long a running task counts as alive since its last update
/// (the attempt's time budget plus a margin: a task still "running" after that belonged to a worker that died).
///
/// A request is a duplicate when
/// - it is the same request (task id) already answered: a second delivery of one message;
/// - another task for the same issue (and the same follow-up, if any) is running now;
/// - another such task answered it (a pull request, or nothing to change) for a request no older than this one.
///
/// A newer request after a finished task still runs: it may carry a new comment or a changed issue.
pub fn duplicate_of(
    task: &TaskMessage,
    others: &[TaskRecord],
    now: DateTime<Utc>,
    live: chrono::Duration,
) -> Option<String> {
    let answered = |state: TaskState| matches!(state, TaskState::Succeeded | TaskState::Draft | TaskState::NoChange);
    let follow_up = |message: &TaskMessage| message.follow_up.as_ref().map(|f| (f.pull_request, f.round));
    for other in others {
        if other.task_id == task.task_id {
            if answered(other.state) {
                return Some(format!(
                    "this request was answered already (task {} is {}); a repeated delivery is not worked again",
                    other.task_id,
                    other.state.as_str().replace('_', " ")
                ));
            }
            continue;
        }
        let Ok(message) = TaskMessage::parse(&other.message_json) else { continue };
        if follow_up(&message) != follow_up(task) {
            continue;
        }
        if other.state == TaskState::Running && now - other.updated_at < live {
            return Some(format!(
                "task {} is already working on issue #{} (running since {})",
                other.task_id,
                task.issue.number,
                other.updated_at.format("%H:%M:%S UTC")
            ));
        }
        if answered(other.state) && message.requested_at >= task.requested_at {
            return Some(format!(
                "task {} answered issue #{} for a request made at {}, no older than this one ({})",
                other.task_id,
                task.issue.number,
                message.requested_at.to_rfc3339(),
                task.requested_at.to_rfc3339()
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn message(task_id: &str, requested_at: &str) -> TaskMessage {
        let json = serde_json::json!({
            "schema_version": 1,
            "task_id": task_id,
            "repository": {"owner": "o", "name": "r", "clone_url": "https://example.invalid/o/r.git"},
            "issue": {"number": 7, "title": "t", "body": "b", "author_association": "OWNER", "labels": []},
            "sender": {"login": "s"},
            "requested_at": requested_at,
        });
        TaskMessage::parse(&json.to_string()).unwrap()
    }

    fn record(message: &TaskMessage, state: TaskState, updated_at: DateTime<Utc>) -> TaskRecord {
        TaskRecord {
            task_id: message.task_id.clone(),
            project: "default".into(),
            repository: "o/r".into(),
            issue_number: 7,
            title: "t".into(),
            state,
            attempts: 1,
            last_error: None,
            created_at: updated_at,
            updated_at,
            message_json: serde_json::to_string(message).unwrap(),
        }
    }

    #[test]
    fn repeats_are_recognised_and_newer_requests_run() {
        let now = Utc::now();
        let live = chrono::Duration::minutes(10);
        let first = message("a", "2026-11-30T02:00:00Z");
        let repeat = message("b", "2026-11-30T02:00:00Z");
        let newer = message("c", "2026-11-30T03:00:00Z");
        let running = [record(&first, TaskState::Running, now)];
        assert!(duplicate_of(&repeat, &running, now, live).unwrap().contains("already working"));
        assert!(duplicate_of(&newer, &running, now, live).is_some(), "one worker per issue at a time");
        // A task left running by a worker that died long ago does not hold the issue.
        let stale = [record(&first, TaskState::Running, now - chrono::Duration::hours(2))];
        assert_eq!(duplicate_of(&repeat, &stale, now, live), None);

        let done = [record(&first, TaskState::Succeeded, now)];
        assert!(duplicate_of(&repeat, &done, now, live).unwrap().contains("no older than this one"));
        assert_eq!(duplicate_of(&newer, &done, now, live), None, "a newer request after a finished task runs");
        // A second delivery of the answered message itself.
        assert!(duplicate_of(&first, &done, now, live).unwrap().contains("answered already"));
        // Its own retry (the attempt failed and the queue brought it back) runs.
        assert_eq!(duplicate_of(&first, &[record(&first, TaskState::Retrying, now)], now, live), None);
        // A parked or refused task answered nothing.
        assert_eq!(duplicate_of(&repeat, &[record(&first, TaskState::DeadLettered, now)], now, live), None);
    }
}
