//! The OpenHands agent-server's REST API, the calls one task needs (checked against openhands-agent-server
//! 1.58.2): `GET /ready`, `POST /api/conversations` (which starts the run when it carries the first message),
//! `GET /api/conversations/{id}`, `GET /api/conversations/{id}/events/search`, `POST .../events` (a message),
//! `POST .../interrupt`, `DELETE`.
//! Every `/api` call carries the session key the worker gave the container.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

/// A conversation's state as `GET /api/conversations/{id}` reports it (the fields the worker reads).
#[derive(Debug, Clone, Deserialize)]
pub struct ConversationInfo {
    pub id: String,
    /// `idle`, `running`, `paused`, `waiting_for_confirmation`, `finished`, `error`, `stuck` or `deleting`.
    pub execution_status: String,
    #[serde(default)]
    pub stats: Option<Stats>,
}

impl ConversationInfo {
    /// The run is over: `finished`, `error` or `stuck` (the SDK's terminal states).
    pub fn is_terminal(&self) -> bool {
        matches!(self.execution_status.as_str(), "finished" | "error" | "stuck")
    }

    /// Model calls and tokens over every LLM of the conversation (the agent's is the only one the worker sets).
    pub fn usage(&self) -> Usage {
        let mut usage = Usage::default();
        for metrics in self.stats.iter().flat_map(|s| s.usage_to_metrics.values()) {
            usage.calls += metrics.token_usages.len() as u64;
            if let Some(tokens) = &metrics.accumulated_token_usage {
                usage.prompt_tokens += tokens.prompt_tokens;
                usage.completion_tokens += tokens.completion_tokens;
                usage.cached_prompt_tokens += tokens.cache_read_tokens;
            }
        }
        usage
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Stats {
    #[serde(default)]
    pub usage_to_metrics: HashMap<String, Metrics>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Metrics {
    #[serde(default)]
    pub accumulated_token_usage: Option<TokenUsage>,
    /// One entry per model reply that was counted.
    #[serde(default)]
    pub token_usages: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenUsage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    #[serde(default)]
    pub cache_read_tokens: u64,
}

/// Model use as the agent-server counts it. A reply whose tool call did not parse is not counted by the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub calls: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_prompt_tokens: u64,
}

#[derive(Debug, Deserialize)]
struct EventPage {
    items: Vec<serde_json::Value>,
    next_page_id: Option<String>,
}

/// Why a call to the agent-server failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{call}: {source}")]
    Transport { call: String, source: reqwest::Error },
    #[error("{call}: HTTP {status}: {body}")]
    Status { call: String, status: u16, body: String },
}

/// A client of one agent-server.
pub struct AgentServer {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl AgentServer {
    /// `key` is the session key the container was started with (`OH_SESSION_API_KEYS_0`).
    pub fn new(address: SocketAddr, key: String) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .no_proxy()
            .build()
            .map_err(|source| ApiError::Transport { call: "building the HTTP client".into(), source })?;
        Ok(Self { http, base: format!("http://{address}"), key })
    }

    /// `GET /ready`: 200 once the server has started (13-14 s on 2 busy cores); 503 before.
    pub async fn ready(&self) -> bool {
        let response = self.http.get(format!("{}/ready", self.base)).timeout(Duration::from_secs(5)).send().await;
        response.is_ok_and(|r| r.status().is_success())
    }

    /// `POST /api/conversations`: `request` is a `StartConversationRequest`; with an `initial_message` the run
    /// starts at once (the reply may still say `idle`).
    pub async fn start_conversation(&self, request: &serde_json::Value) -> Result<ConversationInfo, ApiError> {
        let call = "starting the conversation";
        let response = self.http.post(format!("{}/api/conversations", self.base)).json(request);
        self.send(call, response).await?.json().await.map_err(|source| transport(call, source))
    }

    /// `GET /api/conversations/{id}`.
    pub async fn conversation(&self, id: &str) -> Result<ConversationInfo, ApiError> {
        let call = "reading the conversation";
        let response = self.http.get(format!("{}/api/conversations/{id}", self.base));
        self.send(call, response).await?.json().await.map_err(|source| transport(call, source))
    }

    /// Every event of the conversation, oldest first, at most `limit` (pages of 100).
    pub async fn events(&self, id: &str, limit: usize) -> Result<Vec<serde_json::Value>, ApiError> {
        let call = "reading the events";
        let mut events = Vec::new();
        let mut page: Option<String> = None;
        while events.len() < limit {
            let mut url = format!("{}/api/conversations/{id}/events/search?limit=100&sort_order=TIMESTAMP", self.base);
            if let Some(page) = &page {
                url.push_str("&page_id=");
                url.push_str(&percent_encode(page));
            }
            let request = self.http.get(url);
            let body: EventPage =
                self.send(call, request).await?.json().await.map_err(|source| transport(call, source))?;
            events.extend(body.items);
            match body.next_page_id {
                Some(next) if !next.is_empty() => page = Some(next),
                _ => break,
            }
        }
        events.truncate(limit);
        Ok(events)
    }

    /// `POST /api/conversations/{id}/events`: a user message, and a new run of the agent on it (`run: true`; the
    /// server resumes a `finished` conversation).
    pub async fn send_message(&self, id: &str, text: &str) -> Result<(), ApiError> {
        let message = serde_json::json!({"role": "user", "content": [{"type": "text", "text": text}], "run": true});
        let response = self.http.post(format!("{}/api/conversations/{id}/events", self.base)).json(&message);
        self.send("sending a message to the conversation", response).await.map(drop)
    }

    /// `POST /api/conversations/{id}/interrupt`: cancels the model call in flight at once (`pause` would let the
    /// step finish and run its command).
    pub async fn interrupt(&self, id: &str) -> Result<(), ApiError> {
        let response = self.http.post(format!("{}/api/conversations/{id}/interrupt", self.base));
        self.send("interrupting the conversation", response).await.map(drop)
    }

    /// `DELETE /api/conversations/{id}`: stops it and removes its stored state (the workspace is untouched).
    pub async fn delete(&self, id: &str) -> Result<(), ApiError> {
        let response = self.http.delete(format!("{}/api/conversations/{id}", self.base));
        self.send("deleting the conversation", response).await.map(drop)
    }

    async fn send(&self, call: &str, request: reqwest::RequestBuilder) -> Result<reqwest::Response, ApiError> {
        let response = request.header("X-Session-API-Key", &self.key).send().await.map_err(|e| transport(call, e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        Err(ApiError::Status { call: call.to_owned(), status: status.as_u16(), body: body.chars().take(500).collect() })
    }
}

/// A query value with everything but unreserved characters percent-encoded (page ids are opaque strings).
fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn transport(call: &str, source: reqwest::Error) -> ApiError {
    ApiError::Transport { call: call.to_owned(), source }
}

/// What an event list says about a run: actions per tool, the run-level error (`ConversationErrorEvent`: code and
/// detail), and how many events there were.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventSummary {
    pub events: usize,
    /// Tool name and how often the agent used it, most used first.
    pub actions: Vec<(String, usize)>,
    pub error: Option<(String, String)>,
    /// Replies the server could not read as a tool call (fed back to the model as a user message).
    pub unparsed_replies: usize,
}

impl EventSummary {
    pub fn of(events: &[serde_json::Value]) -> Self {
        let mut actions: HashMap<String, usize> = HashMap::new();
        let mut summary = EventSummary { events: events.len(), ..Default::default() };
        for event in events {
            let text = |key: &str| event.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            match text("kind").as_str() {
                "ActionEvent" => *actions.entry(text("tool_name")).or_default() += 1,
                "ConversationErrorEvent" => summary.error = Some((text("code"), text("detail"))),
                "MessageEvent"
                    if text("source") == "user" && event.to_string().contains("not found in available tools") =>
                {
                    summary.unparsed_replies += 1;
                }
                _ => {}
            }
        }
        let mut actions: Vec<(String, usize)> = actions.into_iter().collect();
        actions.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        summary.actions = actions;
        summary
    }

    /// `terminal ×3, file_editor ×1`, or `no tool used`.
    pub fn describe_actions(&self) -> String {
        if self.actions.is_empty() {
            return "no tool used".into();
        }
        self.actions.iter().map(|(tool, n)| format!("{tool} ×{n}")).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_sums_every_llm_of_the_conversation() {
        let info: ConversationInfo = serde_json::from_value(serde_json::json!({
            "id": "c1", "execution_status": "finished",
            "stats": {"usage_to_metrics": {"agent": {
                "accumulated_token_usage": {"prompt_tokens": 17097, "completion_tokens": 51, "cache_read_tokens": 8000},
                "token_usages": [{"prompt_tokens": 8501}, {"prompt_tokens": 8596}]}}}
        }))
        .unwrap();
        assert!(info.is_terminal());
        assert_eq!(
            info.usage(),
            Usage { calls: 2, prompt_tokens: 17097, completion_tokens: 51, cached_prompt_tokens: 8000 }
        );
        let fresh: ConversationInfo =
            serde_json::from_value(serde_json::json!({"id": "c2", "execution_status": "idle"})).unwrap();
        assert!(!fresh.is_terminal());
        assert_eq!(fresh.usage(), Usage::default());
    }

    #[test]
    fn events_summarise_tools_errors_and_unparsed_replies() {
        let events = vec![
            serde_json::json!({"kind": "SystemPromptEvent", "source": "agent"}),
            serde_json::json!({"kind": "ActionEvent", "tool_name": "terminal"}),
            serde_json::json!({"kind": "ActionEvent", "tool_name": "file_editor"}),
            serde_json::json!({"kind": "ActionEvent", "tool_name": "terminal"}),
            serde_json::json!({"kind": "MessageEvent", "source": "user", "llm_message": {"content": [
                {"type": "text", "text": "Function 'x' not found in available tools: [...]"}]}}),
            serde_json::json!({"kind": "ConversationErrorEvent", "code": "MaxIterationsReached",
                "detail": "Agent reached maximum iterations limit (3)."}),
        ];
        let summary = EventSummary::of(&events);
        assert_eq!(summary.events, 6);
        assert_eq!(summary.describe_actions(), "terminal ×2, file_editor ×1");
        assert_eq!(summary.unparsed_replies, 1);
        assert_eq!(summary.error.unwrap().0, "MaxIterationsReached");
        assert_eq!(EventSummary::of(&[]).describe_actions(), "no tool used");
    }

    #[test]
    fn page_ids_are_encoded_for_the_query() {
        assert_eq!(percent_encode("2025-01-01T00:00:00+00:00 a"), "2025-01-01T00%3A00%3A00%2B00%3A00%20a");
    }
}
