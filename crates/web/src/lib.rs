//! The worker's dashboard and operational endpoints, served by `codingworker worker` (axum).
//!
//! - `/` and `/tasks/{id}`: server-rendered HTML (a few lines of JavaScript follow a running attempt's log), usable
//!   on a phone; actions retry a task that ended with a draft pull request, redrive a dead-lettered one and cancel
//!   a running one.
//! - `/healthz` (the process answers), `/readyz` (queue, model, forge and disk space), `/metrics` (Prometheus).
//!
//! Bound to 127.0.0.1 by default. A bearer token (`web.token`) is required when set, and always when bound to
//! another address; on loopback the `Host` header must name loopback (DNS rebinding), and every form carries a
//! per-process token (cross-site requests).

mod pages;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Form, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use codingworker_store::TaskState;
use codingworker_worker::{NamedQueue, Services};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How long a readiness verdict is reused: probes may come every few seconds, a model check costs a request.
const READINESS_TTL: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(
        "cannot listen on {addr} for the dashboard: {source}. Another program (or worker) may use the port: set \
         web.bind to another address, or web.enabled = false"
    )]
    Bind { addr: String, source: std::io::Error },
    #[error("the dashboard server stopped: {0}")]
    Serve(std::io::Error),
}

/// What the dashboard reads and acts on.
pub struct Dashboard {
    services: Arc<Services>,
    queues: Vec<NamedQueue>,
    token: Option<String>,
    /// Required in every form: a page from another site cannot know it.
    csrf: String,
    loopback_only: bool,
    readiness: Mutex<Option<(Instant, Readiness)>>,
}

/// `/readyz`: every check, and whether all passed.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

impl Dashboard {
    pub fn new(services: Arc<Services>, queues: Vec<NamedQueue>, bind: SocketAddr) -> Self {
        let token = Some(services.config.web.token.clone()).filter(|t| !t.is_empty());
        Self {
            services,
            queues,
            token,
            csrf: uuid::Uuid::new_v4().simple().to_string(),
            loopback_only: bind.ip().is_loopback(),
            readiness: Mutex::new(None),
        }
    }

    /// Runs every readiness check (or reuses one younger than a few seconds).
    pub async fn readiness(&self) -> Readiness {
        if let Ok(cached) = self.readiness.lock()
            && let Some((at, readiness)) = cached.as_ref()
            && at.elapsed() < READINESS_TTL
        {
            return readiness.clone();
        }
        let mut checks = Vec::new();
        for NamedQueue { project, queue } in &self.queues {
            let (ok, detail) = match queue.depth().await {
                Ok(depth) => {
                    (true, format!("{} ({} waiting, {} dead-lettered)", queue.describe(), depth.visible, depth.dead))
                }
                Err(e) => (false, format!("{}: {e}", queue.describe())),
            };
            checks.push(Check { name: format!("queue of project {project}"), ok, detail });
        }
        let llm = &self.services.llm;
        let (ok, detail) = match tokio::time::timeout(Duration::from_secs(5), llm.check_model()).await {
            Ok(Ok(found)) => (true, format!("{} at {}", found.model, llm.config().base_url)),
            Ok(Err(e)) => (false, e.to_string()),
            Err(_) => (false, format!("{} did not answer within 5 s", llm.config().base_url)),
        };
        checks.push(Check { name: "model".into(), ok, detail });
        let forge = &self.services.forge;
        let (ok, detail) = match tokio::time::timeout(Duration::from_secs(10), forge.check_reachable()).await {
            Ok(Ok(())) => (true, forge.name().to_owned()),
            Ok(Err(e)) => (false, e.to_string()),
            Err(_) => (false, format!("{} did not answer within 10 s", forge.name())),
        };
        checks.push(Check { name: "forge".into(), ok, detail });
        let disk = &self.services.disk;
        let (ok, detail) = match disk.check() {
            Ok(()) => (true, disk.free_mb().map_or_else(|| "free space unknown".into(), |mb| format!("{mb} MiB free"))),
            Err(reason) => (false, reason),
        };
        checks.push(Check { name: "disk".into(), ok, detail });
        let readiness = Readiness { ready: checks.iter().all(|c| c.ok), checks };
        if let Ok(mut cached) = self.readiness.lock() {
            *cached = Some((Instant::now(), readiness.clone()));
        }
        readiness
    }
}

/// Binds the dashboard's address, so a taken port stops start-up with a clear error.
pub async fn bind(addr: &str) -> Result<TcpListener, WebError> {
    TcpListener::bind(addr).await.map_err(|source| WebError::Bind { addr: addr.to_owned(), source })
}

/// Serves until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    dashboard: Arc<Dashboard>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), WebError> {
    axum::serve(listener, router(dashboard))
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await
        .map_err(WebError::Serve)
}

pub fn router(dashboard: Arc<Dashboard>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/tasks/{id}", get(task_page))
        .route("/tasks/{id}/log", get(task_log))
        .route("/tasks/{id}/retry", post(retry))
        .route("/tasks/{id}/redrive", post(redrive))
        .route("/tasks/{id}/cancel", post(cancel))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/login", get(login_form).post(login))
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&dashboard), guard))
        // Outside the guard: a liveness probe needs no credentials and reveals nothing.
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(dashboard)
}

/// The host check and the token check, before every route but `/healthz`.
async fn guard(State(dashboard): State<Arc<Dashboard>>, request: Request, next: Next) -> Response {
    if dashboard.loopback_only && !host_is_loopback(request.headers()) {
        return (StatusCode::MISDIRECTED_REQUEST, "the dashboard answers to localhost / 127.0.0.1 only\n")
            .into_response();
    }
    let Some(token) = &dashboard.token else { return next.run(request).await };
    if request.uri().path() == "/login" || presented_token(request.headers()).is_some_and(|t| same(&t, token)) {
        return next.run(request).await;
    }
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html {
        Redirect::to("/login").into_response()
    } else {
        (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "a bearer token is required (web.token)\n")
            .into_response()
    }
}

fn host_is_loopback(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else { return false };
    let name = if host.starts_with('[') {
        host.split(']').next().map(|h| h.trim_start_matches('[')).unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    matches!(name, "localhost" | "127.0.0.1" | "::1")
}

fn presented_token(headers: &HeaderMap) -> Option<String> {
    if let Some(bearer) =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim().to_owned());
    }
    let cookies = headers.get(header::COOKIE).and_then(|v| v.to_str().ok())?;
    cookies.split(';').find_map(|c| c.trim().strip_prefix("cw_token=").map(str::to_owned))
}

/// Compares in constant time, so response timing does not reveal how much of a guess was right.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn index(State(dashboard): State<Arc<Dashboard>>) -> Response {
    let tasks = match dashboard.services.store.task_overview(100) {
        Ok(tasks) => tasks,
        Err(e) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, &format!("reading the task store: {e}")),
    };
    let mut depths = Vec::new();
    for NamedQueue { project, queue } in &dashboard.queues {
        depths.push((format!("{project}: {}", queue.describe()), queue.depth().await.map_err(|e| e.to_string())));
    }
    let readiness = dashboard.readiness().await;
    let fallback = &dashboard.services.config.fallback;
    let spend = fallback.enabled.then(|| {
        let spent = codingworker_worker::fallback::month_to_date(&dashboard.services.store).map_or(0.0, |(_, s)| s);
        (spent, fallback.monthly_spend_cap_usd)
    });
    Html(pages::index(&pages::IndexView {
        tasks: &tasks,
        depths: &depths,
        readiness: &readiness,
        default_model: &dashboard.services.llm.config().model,
        spend,
        web_url: forge_web_url(&dashboard),
        csrf: &dashboard.csrf,
        now: chrono::Utc::now(),
    }))
    .into_response()
}

fn forge_web_url(dashboard: &Dashboard) -> Option<&str> {
    let config = &dashboard.services.config;
    (config.forge.kind == "github").then_some(config.forge.web_url.as_str())
}

async fn task_page(State(dashboard): State<Arc<Dashboard>>, Path(id): Path<String>) -> Response {
    let detail = match dashboard.services.store.task_detail(&id) {
        Ok(Some(detail)) => detail,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, &format!("no task {id}")),
        Err(e) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, &format!("reading the task store: {e}")),
    };
    let (log, offset) = read_log(&dashboard, &detail.task.task_id, None);
    Html(pages::task(&pages::TaskView {
        detail: &detail,
        log: &log,
        log_offset: offset,
        running_here: dashboard.services.cancellations.is_running(&detail.task.task_id),
        web_url: forge_web_url(&dashboard),
        csrf: &dashboard.csrf,
        now: chrono::Utc::now(),
    }))
    .into_response()
}

#[derive(Deserialize)]
struct LogQuery {
    from: Option<u64>,
}

/// The task log from byte `from` on (the page's script follows a running attempt with it); the new end is in
/// `X-Log-Offset`.
async fn task_log(
    State(dashboard): State<Arc<Dashboard>>,
    Path(id): Path<String>,
    Query(query): Query<LogQuery>,
) -> Response {
    let task_id = match dashboard.services.store.task_detail(&id) {
        Ok(Some(detail)) => detail.task.task_id,
        _ => return (StatusCode::NOT_FOUND, "no such task\n").into_response(),
    };
    let (text, offset) = read_log(&dashboard, &task_id, query.from);
    let mut response = text.into_response();
    if let Ok(value) = HeaderValue::from_str(&offset.to_string()) {
        response.headers_mut().insert("x-log-offset", value);
    }
    response
}

/// The last 64 KiB of a task's log (or what follows `from`), and the file's length.
fn read_log(dashboard: &Dashboard, task_id: &str, from: Option<u64>) -> (String, u64) {
    use std::io::{Read as _, Seek as _, SeekFrom};
    const TAIL: u64 = 64 * 1024;
    // Task ids come from the store, which only holds validated ones; the task log's own rule still guards the path.
    let Some(stem) = codingworker_worker::tasklog::safe_file_stem(task_id) else { return (String::new(), 0) };
    let path = dashboard.services.logs_dir.join(format!("{stem}.log"));
    let Ok(mut file) = std::fs::File::open(path) else { return (String::new(), 0) };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = match from {
        Some(from) if from <= len => from.max(len.saturating_sub(TAIL)),
        _ => len.saturating_sub(TAIL),
    };
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_ok() {
        let _ = file.take(len - start).read_to_end(&mut bytes);
    }
    (String::from_utf8_lossy(&bytes).into_owned(), len)
}

#[derive(Deserialize)]
struct ActionForm {
    csrf: String,
}

/// Runs an action after the form's token is checked, then shows the task again.
async fn act<F, Fut>(dashboard: &Dashboard, id: &str, form: &ActionForm, action: F) -> Response
where
    F: FnOnce(codingworker_store::TaskRecord) -> Fut,
    Fut: std::future::Future<Output = Result<String, String>>,
{
    if !same(&form.csrf, &dashboard.csrf) {
        return error_page(StatusCode::FORBIDDEN, "the form is stale or from another site: reload the page and retry");
    }
    let task = match dashboard.services.store.task_detail(id) {
        Ok(Some(detail)) => detail.task,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, &format!("no task {id}")),
        Err(e) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let task_id = task.task_id.clone();
    match action(task).await {
        Ok(done) => {
            tracing::info!(task_id = %task_id, "dashboard: {done}");
            Redirect::to(&format!("/tasks/{task_id}")).into_response()
        }
        Err(why) => error_page(StatusCode::CONFLICT, &why),
    }
}

/// Records that the task's message is back in the queue, and who did it.
fn mark_queued(dashboard: &Dashboard, task_id: &str, event: &str) -> Result<(), String> {
    let store = &dashboard.services.store;
    store.set_task_state(task_id, TaskState::Queued, None).map_err(|e| e.to_string())?;
    store.add_event(task_id, None, event, "from the dashboard").map_err(|e| e.to_string())
}

/// A task that ended with a draft pull request goes back to the queue as a new message, with a fresh set of
/// attempts.
async fn retry(
    State(dashboard): State<Arc<Dashboard>>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let d = Arc::clone(&dashboard);
    act(&dashboard, &id, &form, |task| async move {
        if task.state != TaskState::Draft {
            return Err(format!(
                "only a task that ended with a draft pull request can be retried; this one is {}",
                task.state.as_str()
            ));
        }
        // Back to the queue of the task's own project (the first one for tasks older than projects).
        let named = d.queues.iter().find(|q| q.project == task.project).or_else(|| d.queues.first());
        let queue = &named.ok_or("no queue is configured")?.queue;
        queue.send(&task.message_json).await.map_err(|e| format!("queueing the task again: {e}"))?;
        mark_queued(&d, &task.task_id, "retry_requested")?;
        Ok("queued again".to_owned())
    })
    .await
}

/// A dead-lettered task's message moves from the dead-letter queue back to its queue.
async fn redrive(
    State(dashboard): State<Arc<Dashboard>>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let d = Arc::clone(&dashboard);
    act(&dashboard, &id, &form, |task| async move {
        if task.state != TaskState::DeadLettered {
            return Err(format!("only a dead-lettered task can be redriven; this one is {}", task.state.as_str()));
        }
        for NamedQueue { queue, .. } in &d.queues {
            let letters = queue.dead_letters(500).await.map_err(|e| format!("reading the dead letters: {e}"))?;
            let found = letters.iter().find(|letter| {
                serde_json::from_str::<serde_json::Value>(&letter.body)
                    .ok()
                    .and_then(|v| v.get("task_id").and_then(|t| t.as_str()).map(|t| t == task.task_id))
                    .unwrap_or(false)
            });
            if let Some(letter) = found
                && queue.redrive(&letter.message_id).await.map_err(|e| format!("redriving: {e}"))?
            {
                mark_queued(&d, &task.task_id, "redriven")?;
                return Ok("redriven".to_owned());
            }
        }
        Err("its message is not in a dead-letter queue (already redriven, or expired there)".to_owned())
    })
    .await
}

/// A running task stops now and is parked in the dead-letter queue, from where it can be redriven.
async fn cancel(
    State(dashboard): State<Arc<Dashboard>>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let d = Arc::clone(&dashboard);
    act(&dashboard, &id, &form, |task| async move {
        if d.services.cancellations.cancel(&task.task_id) {
            Ok("cancelled".to_owned())
        } else {
            Err("the task is not running in this worker".to_owned())
        }
    })
    .await
}

async fn readyz(State(dashboard): State<Arc<Dashboard>>) -> Response {
    let readiness = dashboard.readiness().await;
    let status = if readiness.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = serde_json::to_string_pretty(&readiness).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn metrics(State(dashboard): State<Arc<Dashboard>>) -> Response {
    let mut text = dashboard.services.metrics.prometheus_text();
    text.push_str("# HELP codingworker_queue_messages Messages in each queue, by state.\n");
    text.push_str("# TYPE codingworker_queue_messages gauge\n");
    for NamedQueue { project, queue } in &dashboard.queues {
        if let Ok(depth) = queue.depth().await {
            let name = label_value(&queue.describe());
            let project = label_value(project);
            for (state, value) in [
                ("visible", depth.visible),
                ("in_flight", depth.in_flight),
                ("delayed", depth.delayed),
                ("dead", depth.dead),
            ] {
                text.push_str(&format!(
                    "codingworker_queue_messages{{project=\"{project}\",queue=\"{name}\",state=\"{state}\"}} {value}\n"
                ));
            }
        }
    }
    text.push_str("# HELP codingworker_tasks Tasks in the store, by state.\n# TYPE codingworker_tasks gauge\n");
    if let Ok(counts) = dashboard.services.store.count_by_state() {
        for (state, count) in counts {
            text.push_str(&format!("codingworker_tasks{{state=\"{}\"}} {count}\n", state.as_str()));
        }
    }
    if let Ok((_, spent)) = codingworker_worker::fallback::month_to_date(&dashboard.services.store) {
        text.push_str(
            "# HELP codingworker_model_spend_month_usd What models cost this calendar month (UTC), as reported.\n",
        );
        text.push_str(&format!(
            "# TYPE codingworker_model_spend_month_usd gauge\ncodingworker_model_spend_month_usd {spent}\n"
        ));
        text.push_str("# HELP codingworker_model_spend_cap_usd fallback.monthly_spend_cap_usd.\n");
        text.push_str(&format!(
            "# TYPE codingworker_model_spend_cap_usd gauge\ncodingworker_model_spend_cap_usd {}\n",
            dashboard.services.config.fallback.monthly_spend_cap_usd
        ));
    }
    if let Some(free) = dashboard.services.disk.free_mb() {
        text.push_str("# HELP codingworker_disk_free_bytes Free space in the data directory.\n");
        text.push_str(&format!(
            "# TYPE codingworker_disk_free_bytes gauge\ncodingworker_disk_free_bytes {}\n",
            free * 1024 * 1024
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// A Prometheus label value: backslashes, quotes and newlines escaped.
fn label_value(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

async fn login_form(State(dashboard): State<Arc<Dashboard>>) -> Html<String> {
    Html(pages::login(&dashboard.csrf, None))
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(State(dashboard): State<Arc<Dashboard>>, Form(form): Form<LoginForm>) -> Response {
    match &dashboard.token {
        Some(token) if same(form.token.trim(), token) => {
            let cookie = format!("cw_token={}; HttpOnly; SameSite=Strict; Path=/", form.token.trim());
            let mut response = Redirect::to("/").into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Some(_) => (StatusCode::UNAUTHORIZED, Html(pages::login(&dashboard.csrf, Some("That is not the token."))))
            .into_response(),
        None => Redirect::to("/").into_response(),
    }
}

fn error_page(status: StatusCode, message: &str) -> Response {
    (status, Html(pages::message(status.as_u16(), message))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_pass_the_host_check() {
        let host = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("x")));
            host_is_loopback(&headers)
        };
        for ok in ["127.0.0.1:7878", "localhost:7878", "localhost", "[::1]:7878"] {
            assert!(host(ok), "{ok}");
        }
        for bad in ["evil.example:7878", "127.0.0.1.evil.example", "192.168.1.5:7878"] {
            assert!(!host(bad), "{bad}");
        }
    }

    #[test]
    fn tokens_come_from_the_header_or_the_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        assert_eq!(presented_token(&headers).as_deref(), Some("abc"));
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=b; cw_token=xyz"));
        assert_eq!(presented_token(&headers).as_deref(), Some("xyz"));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
        assert_eq!(label_value("a\"b\\c"), "a\\\"b\\\\c");
    }
}
