//! The dashboard's HTML: plain server-rendered pages, one stylesheet, no build step. Every value from the store
//! is escaped (issue titles and logs are untrusted text).

use chrono::{DateTime, Utc};
use codingworker_queue::QueueDepth;
use codingworker_store::{TaskDetail, TaskOverview, TaskState};

use crate::Readiness;

pub struct IndexView<'a> {
    pub tasks: &'a [TaskOverview],
    pub depths: &'a [(String, Result<QueueDepth, String>)],
    pub readiness: &'a Readiness,
    pub default_model: &'a str,
    /// Month-to-date model spend and the cap, when fallback is on.
    pub spend: Option<(f64, f64)>,
    /// The forge's web address for branch links (GitHub), if any.
    pub web_url: Option<&'a str>,
    pub csrf: &'a str,
    pub now: DateTime<Utc>,
}

pub struct TaskView<'a> {
    pub detail: &'a TaskDetail,
    pub log: &'a str,
    pub log_offset: u64,
    pub running_here: bool,
    pub web_url: Option<&'a str>,
    pub csrf: &'a str,
    pub now: DateTime<Utc>,
}

const STYLE: &str = "
:root{--bg:#f6f7f9;--card:#fff;--ink:#1d2330;--muted:#667085;--line:#e4e7ec}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;background:var(--bg);color:var(--ink)}
header{background:#1d2330;color:#fff;padding:12px 16px;display:flex;flex-wrap:wrap;gap:8px 16px;align-items:baseline}
header a{color:#fff;text-decoration:none;font-weight:600}header .sub{color:#c7ccd6;font-size:13px}
main{padding:12px;max-width:1100px;margin:0 auto}h2{font-size:16px;margin:18px 4px 8px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px;margin-bottom:8px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px}
.num{font-size:22px;font-weight:600}.muted{color:var(--muted);font-size:13px}
.task{display:grid;grid-template-columns:110px 1fr auto;gap:4px 12px;align-items:start}
.task .title{font-weight:600;overflow-wrap:anywhere}.task .meta{grid-column:2/4;color:var(--muted);font-size:13px}
@media (max-width:640px){.task{grid-template-columns:1fr}.task .meta{grid-column:1}}
.badge{display:inline-block;border-radius:999px;padding:2px 9px;font-size:12px;font-weight:600;color:#fff;text-align:center;white-space:nowrap}
.queued{background:#667085}.running{background:#2563eb}.retrying{background:#d97706}.succeeded{background:#16a34a}
.draft{background:#be185d}.dead_lettered{background:#7c3aed}.rejected{background:#374151}.no_change{background:#0891b2}.duplicate{background:#6b7280}
.verdict{margin-top:4px}.v-fixed{background:#15803d}.v-no_regressions{background:#b45309}.v-tests_fail{background:#b91c1c}.v-tests_not_run{background:#6b7280}
form{display:inline}button{font:inherit;font-size:13px;padding:4px 10px;border-radius:6px;border:1px solid var(--line);background:#fff;cursor:pointer}
button.primary{background:#1d4ed8;color:#fff;border-color:#1d4ed8}button.danger{background:#b91c1c;color:#fff;border-color:#b91c1c}
table{border-collapse:collapse;width:100%;font-size:13px}td,th{text-align:left;padding:4px 6px;border-bottom:1px solid var(--line);vertical-align:top}
.scroll{overflow-x:auto}pre{background:#0f172a;color:#e2e8f0;padding:10px;border-radius:8px;overflow:auto;max-height:60vh;font-size:12px;white-space:pre-wrap;overflow-wrap:anywhere}
.ok{color:#16a34a}.bad{color:#dc2626}a{color:#1d4ed8}
";

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn layout(title: &str, refresh_secs: Option<u32>, body: &str) -> String {
    let refresh = refresh_secs.map(|s| format!("<meta http-equiv=\"refresh\" content=\"{s}\">")).unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">{refresh}\
         <title>{}</title><style>{STYLE}</style></head><body>\
         <header><a href=\"/\">CodingWorker</a><span class=\"sub\">{}</span></header><main>{body}</main></body></html>",
        esc(title),
        esc(title)
    )
}

fn badge(state: TaskState) -> String {
    let name = state.as_str();
    format!("<span class=\"badge {name}\">{}</span>", name.replace('_', " "))
}

/// What the tests showed about the published change: `fixed` only when a test that failed on the base passes.
fn verdict_badge(key: Option<&str>) -> String {
    let Some(key) = key else { return String::new() };
    let (label, title) = match key {
        "fixed" => {
            ("fixed", "a test that failed on the base commit passes with the change; nothing that passed breaks")
        }
        "no_regressions" => ("no regressions", "the tests pass before and after; no test shows the issue fixed"),
        "tests_fail" => ("tests fail", "the tests still fail with the change"),
        "tests_not_run" => ("tests not run", "no test ran"),
        _ => (key, ""),
    };
    format!(
        "<div class=\"verdict\"><span class=\"badge v-{key}\" data-verdict=\"{key}\" title=\"{}\">{}</span></div>",
        esc(title),
        esc(label),
        key = esc(key)
    )
}

pub fn duration_text(seconds: i64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

fn is_final(state: TaskState) -> bool {
    !matches!(state, TaskState::Queued | TaskState::Running | TaskState::Retrying)
}

/// The buttons a task in `state` offers.
fn actions(task_id: &str, state: TaskState, csrf: &str) -> String {
    let button = |action: &str, label: &str, class: &str| {
        format!(
            "<form method=\"post\" action=\"/tasks/{id}/{action}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button class=\"{class}\" type=\"submit\">{label}</button></form>",
            id = esc(task_id),
            csrf = esc(csrf)
        )
    };
    match state {
        TaskState::Draft => button("retry", "Retry", "primary"),
        TaskState::DeadLettered => button("redrive", "Redrive", "primary"),
        TaskState::Running => button("cancel", "Cancel", "danger"),
        _ => String::new(),
    }
}

fn branch_link(web_url: Option<&str>, repository: &str, branch: &str) -> String {
    match web_url {
        Some(web) => format!(
            "<a href=\"{}/{}/tree/{}\">{}</a>",
            esc(web.trim_end_matches('/')),
            esc(repository),
            esc(branch),
            esc(branch)
        ),
        None => format!("<code>{}</code>", esc(branch)),
    }
}

fn pull_request_link(number: u64, url: Option<&str>) -> String {
    match url {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
            format!("<a href=\"{}\">PR #{number}</a>", esc(url))
        }
        _ => format!("PR #{number} (local)"),
    }
}

/// The model a task runs with: its own override, else the worker's.
fn model_of(message_json: &str, default_model: &str) -> String {
    serde_json::from_str::<serde_json::Value>(message_json)
        .ok()
        .and_then(|v| v.pointer("/overrides/model").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| default_model.to_owned())
}

pub fn index(view: &IndexView<'_>) -> String {
    let mut body = String::new();
    let ready = if view.readiness.ready {
        "<span class=\"ok\">ready</span>".to_owned()
    } else {
        let failing: Vec<String> =
            view.readiness.checks.iter().filter(|c| !c.ok).map(|c| format!("{}: {}", c.name, c.detail)).collect();
        format!("<span class=\"bad\">not ready</span> <span class=\"muted\">{}</span>", esc(&failing.join("; ")))
    };
    body.push_str(&format!(
        "<div class=\"card\">Worker: {ready} · <a href=\"/readyz\">readyz</a> · <a href=\"/metrics\">metrics</a></div>"
    ));
    if let Some((spent, cap)) = view.spend {
        let class = if spent >= cap { "bad" } else { "ok" };
        body.push_str(&format!(
            "<div class=\"card\">Fallback models this month: <span class=\"{class}\">{}</span> of the {} cap{}</div>",
            dollars(spent),
            dollars(cap),
            if spent >= cap { " · reached: tasks use the local model only" } else { "" }
        ));
    }
    body.push_str("<h2>Queues</h2>");
    for (name, depth) in view.depths {
        let numbers = match depth {
            Ok(d) => {
                [("waiting", d.visible), ("in flight", d.in_flight), ("delayed", d.delayed), ("dead-lettered", d.dead)]
                    .iter()
                    .map(|(label, n)| {
                        format!("<div><div class=\"num\">{n}</div><div class=\"muted\">{label}</div></div>")
                    })
                    .collect::<String>()
            }
            Err(e) => format!("<div class=\"bad\">{}</div>", esc(e)),
        };
        body.push_str(&format!(
            "<div class=\"card\"><div class=\"muted\">{}</div><div class=\"grid\">{numbers}</div></div>",
            esc(name)
        ));
    }
    body.push_str(&format!("<h2>Tasks ({})</h2>", view.tasks.len()));
    if view.tasks.is_empty() {
        body.push_str("<div class=\"card muted\">No tasks yet. Label an issue, or `codingworker submit`.</div>");
    }
    for row in view.tasks {
        let task = &row.task;
        let duration = row.first_started_at.map(|start| {
            let end = if is_final(task.state) { row.last_finished_at.unwrap_or(task.updated_at) } else { view.now };
            duration_text((end - start).num_seconds().max(0))
        });
        let mut links = Vec::new();
        if let Some(branch) = &row.branch {
            links.push(branch_link(view.web_url, &task.repository, branch));
        }
        if let Some(number) = row.pull_request {
            links.push(pull_request_link(number, row.pull_request_url.as_deref()));
        }
        let error = task
            .last_error
            .as_deref()
            .filter(|_| {
                matches!(
                    task.state,
                    // A draft's verdict badge says what its tests show; the error of an earlier, retried attempt
                    // beside it would read as the draft's failure.
                    TaskState::DeadLettered | TaskState::Retrying | TaskState::Rejected
                )
            })
            .map(|e| format!("<div class=\"meta bad\">{}</div>", esc(&truncate(e, 200))))
            .unwrap_or_default();
        body.push_str(&format!(
            "<div class=\"card task\" data-task=\"{id}\" data-state=\"{state_name}\"><div>{badge}{verdict}</div>\
             <div><a class=\"title\" href=\"/tasks/{id}\">#{issue} {title}</a><div class=\"muted\">{repo}{project}</div></div>\
             <div>{actions}</div>\
             <div class=\"meta\">{attempts} attempt(s) · {duration} · {model} · {tokens} tokens · {cost}{links}</div>{error}</div>",
            id = esc(&task.task_id),
            state_name = task.state.as_str(),
            badge = badge(task.state),
            verdict = verdict_badge(row.verdict.as_deref()),
            issue = task.issue_number,
            title = esc(&task.title),
            repo = esc(&task.repository),
            project = if task.project.is_empty() { String::new() } else { format!(" · project {}", esc(&task.project)) },
            actions = actions(&task.task_id, task.state, view.csrf),
            attempts = task.attempts,
            duration = duration.unwrap_or_else(|| "not started".into()),
            // The model that wrote (or last tried) the change; before any attempt, the one the task asks for.
            model = esc(&row.model.clone().unwrap_or_else(|| model_of(&task.message_json, view.default_model))),
            tokens = row.prompt_tokens + row.completion_tokens,
            cost = dollars(row.cost_usd),
            links = if links.is_empty() { String::new() } else { format!(" · {}", links.join(" · ")) },
        ));
    }
    let live = view.tasks.iter().any(|t| !is_final(t.task.state));
    layout("Tasks", Some(if live { 10 } else { 60 }), &body)
}

fn dollars(amount: f64) -> String {
    codingworker_worker::fallback::dollars(amount)
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

pub fn task(view: &TaskView<'_>) -> String {
    let detail = view.detail;
    let task = &detail.task;
    let mut body = format!(
        "<div class=\"card\"><div>{badge} <strong>#{issue} {title}</strong></div><div class=\"muted\">{repo} · task \
         <code>{id}</code> · {attempts} attempt(s)</div><div style=\"margin-top:8px\">{actions}</div>{error}</div>",
        badge = badge(task.state),
        issue = task.issue_number,
        title = esc(&task.title),
        repo = esc(&task.repository),
        id = esc(&task.task_id),
        attempts = task.attempts,
        actions = actions(&task.task_id, task.state, view.csrf),
        error = task.last_error.as_deref().map(|e| format!("<p class=\"bad\">{}</p>", esc(e))).unwrap_or_default(),
    );
    if let Some(pr) = &detail.pull_request {
        body.push_str(&format!(
            "<div class=\"card\">{} {} · branch {} · {}</div>",
            pull_request_link(pr.number, pr.url.as_deref()),
            esc(&pr.title),
            branch_link(view.web_url, &task.repository, &pr.head_branch),
            if pr.verified {
                "<span class=\"ok\">fixed: a test shows it</span>"
            } else {
                "<span class=\"bad\">draft: not shown fixed</span>"
            }
        ));
    }
    body.push_str("<h2>Attempts</h2><div class=\"card scroll\"><table><tr><th>#</th><th>status</th><th>verdict</th><th>started</th><th>took</th><th>model</th><th>LLM calls</th><th>tokens</th><th>cost</th><th>result</th></tr>");
    for attempt in &detail.attempts {
        let took = attempt.finished_at.unwrap_or(view.now) - attempt.started_at;
        let result = attempt.error.as_deref().unwrap_or(attempt.summary.as_str());
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} + {}</td><td>{}</td><td>{}</td></tr>",
            attempt.number,
            attempt.status.as_str(),
            verdict_badge(attempt.verdict.as_deref()),
            attempt.started_at.format("%Y-%m-%d %H:%M:%S"),
            duration_text(took.num_seconds().max(0)),
            esc(attempt.model.as_deref().unwrap_or("")),
            attempt.llm_calls,
            attempt.prompt_tokens,
            attempt.completion_tokens,
            dollars(attempt.cost_usd),
            esc(&truncate(result, 300))
        ));
    }
    body.push_str("</table></div><h2>Events</h2><div class=\"card scroll\"><table>");
    for event in detail.events.iter().rev().take(200) {
        body.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            event.at.format("%H:%M:%S"),
            esc(&event.kind),
            esc(&truncate(&event.detail, 400))
        ));
    }
    let live = !is_final(task.state);
    body.push_str(&format!(
        "</table></div><h2>Log{}</h2><pre id=\"log\" data-offset=\"{}\" data-live=\"{}\">{}</pre>",
        if live && view.running_here { " (live)" } else { "" },
        view.log_offset,
        if live { "1" } else { "0" },
        esc(view.log)
    ));
    // The only script: follow the log while the task runs.
    body.push_str(
        "<script>(function(){var p=document.getElementById('log');if(!p||p.dataset.live!=='1')return;\
         var off=Number(p.dataset.offset);p.scrollTop=p.scrollHeight;setInterval(function(){\
         fetch(location.pathname+'/log?from='+off,{credentials:'same-origin'}).then(function(r){\
         if(!r.ok)return;off=Number(r.headers.get('x-log-offset'))||off;return r.text();}).then(function(t){\
         if(t){p.textContent+=t;p.scrollTop=p.scrollHeight;}});},2000);})();</script>",
    );
    layout(&format!("Task #{} {}", task.issue_number, task.title), None, &body)
}

pub fn login(csrf: &str, problem: Option<&str>) -> String {
    let problem = problem.map(|p| format!("<p class=\"bad\">{}</p>", esc(p))).unwrap_or_default();
    layout(
        "Sign in",
        None,
        &format!(
            "<div class=\"card\">{problem}<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"csrf\" \
             value=\"{}\"><label>Dashboard token (web.token) <input type=\"password\" name=\"token\" autofocus></label> \
             <button class=\"primary\" type=\"submit\">Sign in</button></form></div>",
            esc(csrf)
        ),
    )
}

pub fn message(status: u16, text: &str) -> String {
    layout(
        &format!("Error {status}"),
        None,
        &format!(
            "<div class=\"card\"><p class=\"bad\">{}</p><p><a href=\"/\">Back to the tasks</a></p></div>",
            esc(text)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_is_escaped_and_durations_read_well() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(duration_text(42), "42s");
        assert_eq!(duration_text(125), "2m 05s");
        assert_eq!(duration_text(7260), "2h 01m");
        assert_eq!(model_of(r#"{"overrides":{"model":"qwen2.5-coder:7b"}}"#, "d"), "qwen2.5-coder:7b");
        assert_eq!(model_of("{}", "d"), "d");
        assert!(pull_request_link(3, Some("javascript:alert(1)")).starts_with("PR #3"), "only http(s) links");
    }
}
