//! Chat client for local model servers: Ollama's native API and OpenAI-compatible servers.
//!
//! Built for slow CPUs: long request timeouts, a prompt-size estimate before sending (an overflowing prompt
//! would be silently truncated by Ollama), retries with backoff on transient failures only, and errors that say
//! what to do. Native tool calling is never used: small models write tool calls as text anyway.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use serde::{Deserialize, Serialize};

/// Which wire protocol the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Ollama's `/api/chat`: the only way to set the context size per request.
    Ollama,
    /// `/v1/chat/completions`: llama.cpp server, vLLM, LM Studio.
    #[serde(rename = "openai")]
    OpenAi,
}

impl std::str::FromStr for Protocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ollama" => Ok(Protocol::Ollama),
            "openai" => Ok(Protocol::OpenAi),
            other => Err(format!("`{other}` is not a protocol; use `ollama` or `openai`")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LlmConfig {
    pub protocol: Protocol,
    /// Server root without `/v1`, e.g. `http://127.0.0.1:11434`.
    pub base_url: String,
    pub model: String,
    /// The largest context the client will ask for.
    pub context_tokens: u32,
    pub max_output_tokens: u32,
    pub connect_timeout: Duration,
    /// A whole answer; CPUs need minutes for long prompts.
    pub request_timeout: Duration,
    /// How long Ollama keeps the model loaded after a request.
    pub keep_alive: String,
    pub max_retries: usize,
    pub retry_base_delay: Duration,
    /// Bearer token for servers that want one. Never logged.
    pub api_key: Option<String>,
    /// Ask an OpenAI-compatible provider to report each call's cost (OpenRouter's `usage: {include: true}`).
    /// Off for servers that reject unknown fields.
    pub request_cost: bool,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            protocol: Protocol::Ollama,
            base_url: "http://127.0.0.1:11434".into(),
            model: "qwen2.5-coder:1.5b".into(),
            context_tokens: 8192,
            max_output_tokens: 1024,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(600),
            keep_alive: "30m".into(),
            max_retries: 3,
            retry_base_delay: Duration::from_secs(2),
            api_key: None,
            request_cost: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self { role: Role::System, content: content.into() }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self { role: Role::User, content: content.into() }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self { role: Role::Assistant, content: content.into() }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ChatRequest {
    pub messages: Vec<ChatMessage>,
    pub temperature: f32,
    /// Default: the config's `max_output_tokens`.
    pub max_tokens: Option<u32>,
    pub stop: Vec<String>,
    pub seed: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Prompt tokens served from the server's prefix cache, when it says.
    pub cached_prompt_tokens: Option<u64>,
    /// What the call cost in US dollars, when the provider reports it (`usage.cost`, as OpenRouter does).
    pub cost_usd: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct ChatResponse {
    pub content: String,
    pub usage: Usage,
    pub elapsed: Duration,
    pub finish_reason: Option<String>,
    /// Requests sent, retries included.
    pub attempts: u32,
}

#[derive(Debug, Clone)]
pub struct ModelCheck {
    pub model: String,
    pub available_models: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error(
        "no model server answers at {url} ({cause}); start it (`ollama serve`, or scripts/model-server.sh for the \
         llama.cpp server) or fix llm.base_url"
    )]
    EndpointDown { url: String, cause: String },
    #[error(
        "the model server at {url} did not answer within {after:?}; raise llm.request_timeout_secs on slow machines"
    )]
    Timeout { url: String, after: Duration },
    #[error("{}", model_missing_message(model, available, *protocol))]
    ModelMissing { model: String, available: Vec<String>, protocol: Protocol },
    #[error(
        "the prompt is about {estimated_tokens} tokens and {max_output_tokens} more are reserved for the answer, \
         over the context of {context_tokens}; raise llm.context_tokens or give the agent less to read"
    )]
    PromptTooLarge { estimated_tokens: u32, max_output_tokens: u32, context_tokens: u32 },
    #[error("the model server answered HTTP {status}: {body}")]
    Http { status: u16, body: String },
    #[error("the model server reported an error: {message}")]
    ErrorInBody { message: String },
    #[error("the model server's answer could not be read: {detail}")]
    MalformedResponse { detail: String },
    #[error("config key `{field}`: {reason}")]
    InvalidConfig { field: &'static str, reason: String },
}

fn model_missing_message(model: &str, available: &[String], protocol: Protocol) -> String {
    let list = if available.is_empty() { "none".to_owned() } else { available.join(", ") };
    match protocol {
        Protocol::Ollama => {
            format!("model `{model}` is not pulled in Ollama; run `ollama pull {model}` (pulled: {list})")
        }
        Protocol::OpenAi => {
            format!("the server does not serve model `{model}`; set llm.model to one it serves: {list}")
        }
    }
}

impl LlmError {
    /// Worth another try: the server may come back, finish loading or be less busy.
    pub fn is_transient(&self) -> bool {
        match self {
            LlmError::EndpointDown { .. } | LlmError::Timeout { .. } => true,
            LlmError::Http { status, .. } => *status == 408 || *status == 429 || *status >= 500,
            LlmError::ErrorInBody { message } => {
                let m = message.to_ascii_lowercase();
                ["loading", "overloaded", "busy", "try again", "unavailable"].iter().any(|s| m.contains(s))
            }
            LlmError::ModelMissing { .. }
            | LlmError::PromptTooLarge { .. }
            | LlmError::MalformedResponse { .. }
            | LlmError::InvalidConfig { .. } => false,
        }
    }

    /// Same as [`Self::is_transient`]; the name every crate's error uses.
    pub fn is_retryable(&self) -> bool {
        self.is_transient()
    }
}

/// Tokens per message for role markers and separators in chat templates.
const MESSAGE_OVERHEAD_TOKENS: u32 = 4;
const NUM_CTX_BUCKET: u32 = 2048;

pub struct LlmClient {
    config: LlmConfig,
    http: reqwest::Client,
    /// The largest `num_ctx` sent so far: Ollama reloads the model (and drops its prefix cache) whenever it
    /// changes, so it only ever grows.
    largest_num_ctx: AtomicU32,
}

impl LlmClient {
    pub fn new(config: LlmConfig) -> Result<Self, LlmError> {
        if !(config.base_url.starts_with("http://") || config.base_url.starts_with("https://")) {
            return Err(LlmError::InvalidConfig { field: "llm.base_url", reason: "must be an http(s) URL".into() });
        }
        if config.request_timeout.is_zero() || config.connect_timeout.is_zero() {
            return Err(LlmError::InvalidConfig {
                field: "llm.request_timeout_secs",
                reason: "must be positive".into(),
            });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .build()
            .map_err(|e| LlmError::InvalidConfig { field: "llm", reason: e.to_string() })?;
        Ok(Self { config, http, largest_num_ctx: AtomicU32::new(0) })
    }

    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    /// A deliberately pessimistic estimate (code tokenizes at about 3-4 characters per token).
    pub fn estimate_tokens(text: &str) -> u32 {
        u32::try_from(text.chars().count().div_ceil(3)).unwrap_or(u32::MAX)
    }

    fn estimate_messages(messages: &[ChatMessage]) -> u32 {
        messages.iter().map(|m| Self::estimate_tokens(&m.content).saturating_add(MESSAGE_OVERHEAD_TOKENS)).sum()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url.trim_end_matches('/'))
    }

    /// Checks that the server answers and serves the configured model.
    pub async fn check_model(&self) -> Result<ModelCheck, LlmError> {
        let (path, list_key, name_key) = match self.config.protocol {
            Protocol::Ollama => ("/api/tags", "models", "name"),
            Protocol::OpenAi => ("/v1/models", "data", "id"),
        };
        let url = self.url(path);
        let response = self.authorized(self.http.get(&url)).send().await.map_err(|e| self.transport_error(&url, e))?;
        let body = self.read_body(response).await?;
        let available: Vec<String> = body
            .get(list_key)
            .and_then(serde_json::Value::as_array)
            .map(|models| {
                models.iter().filter_map(|m| m.get(name_key).and_then(|n| n.as_str()).map(str::to_owned)).collect()
            })
            .unwrap_or_default();
        let wanted = normalize_model(&self.config.model);
        if available.iter().any(|m| normalize_model(m) == wanted) {
            Ok(ModelCheck { model: self.config.model.clone(), available_models: available })
        } else {
            Err(LlmError::ModelMissing { model: self.config.model.clone(), available, protocol: self.config.protocol })
        }
    }

    /// The context the server gives the model, in tokens, and where that was read; `Ok(None)` when the server
    /// does not say (llama-cpp-python's server has no such endpoint). llama.cpp's own server reports `n_ctx` at
    /// `GET /props`; Ollama's context is whatever each request's `num_ctx` asks, so for Ollama this is the most
    /// the model takes (`/api/show`'s `<architecture>.context_length`).
    pub async fn context_size(&self) -> Result<Option<(u32, &'static str)>, LlmError> {
        let (url, request) = match self.config.protocol {
            Protocol::OpenAi => {
                let url = self.url("/props");
                (url.clone(), self.http.get(url))
            }
            Protocol::Ollama => {
                let url = self.url("/api/show");
                (url.clone(), self.http.post(url).json(&serde_json::json!({"model": self.config.model})))
            }
        };
        let response = self.authorized(request).send().await.map_err(|e| self.transport_error(&url, e))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body = self.read_body(response).await?;
        let number = |value: Option<&serde_json::Value>| value.and_then(serde_json::Value::as_u64);
        Ok(match self.config.protocol {
            Protocol::OpenAi => number(body.pointer("/default_generation_settings/n_ctx"))
                .or_else(|| number(body.get("n_ctx")))
                .map(|n| (u32::try_from(n).unwrap_or(u32::MAX), "llama.cpp /props n_ctx")),
            Protocol::Ollama => body
                .get("model_info")
                .and_then(serde_json::Value::as_object)
                .and_then(|info| info.iter().find(|(key, _)| key.ends_with(".context_length")))
                .and_then(|(_, value)| value.as_u64())
                .map(|n| (u32::try_from(n).unwrap_or(u32::MAX), "Ollama /api/show context_length (the model's most)")),
        })
    }

    /// Sends a chat request, retrying transient failures with exponential backoff.
    pub async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let max_output = request.max_tokens.unwrap_or(self.config.max_output_tokens);
        let estimated = Self::estimate_messages(&request.messages);
        if estimated.saturating_add(max_output) > self.config.context_tokens {
            return Err(LlmError::PromptTooLarge {
                estimated_tokens: estimated,
                max_output_tokens: max_output,
                context_tokens: self.config.context_tokens,
            });
        }
        let body = match self.config.protocol {
            Protocol::Ollama => self.ollama_body(request, estimated, max_output),
            Protocol::OpenAi => self.openai_body(request, max_output),
        };
        let attempts = AtomicU32::new(0);
        let started = Instant::now();
        let send = || async {
            attempts.fetch_add(1, Ordering::Relaxed);
            self.send_chat(&body).await
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.config.retry_base_delay)
            .with_max_delay(self.config.retry_base_delay.saturating_mul(16))
            .with_max_times(self.config.max_retries)
            .with_jitter();
        let mut response = send
            .retry(backoff)
            .when(LlmError::is_transient)
            .notify(|error, delay| tracing::warn!("model request failed ({error}); retrying in {delay:.1?}"))
            .await?;
        response.elapsed = started.elapsed();
        response.attempts = attempts.load(Ordering::Relaxed);
        Ok(response)
    }

    fn ollama_body(&self, request: &ChatRequest, estimated: u32, max_output: u32) -> serde_json::Value {
        let needed = estimated.saturating_add(max_output).div_ceil(NUM_CTX_BUCKET).saturating_mul(NUM_CTX_BUCKET);
        let previous = self.largest_num_ctx.fetch_max(needed, Ordering::Relaxed);
        let num_ctx = needed.max(previous).min(self.config.context_tokens);
        let mut options = serde_json::json!({
            "num_ctx": num_ctx,
            "num_predict": max_output,
            "temperature": request.temperature,
        });
        if let Some(seed) = request.seed {
            options["seed"] = seed.into();
        }
        if !request.stop.is_empty() {
            options["stop"] = serde_json::json!(request.stop);
        }
        serde_json::json!({
            "model": self.config.model,
            "messages": request.messages,
            "stream": false,
            "keep_alive": self.config.keep_alive,
            "options": options,
        })
    }

    fn openai_body(&self, request: &ChatRequest, max_output: u32) -> serde_json::Value {
        let mut body = serde_json::json!({
            "model": self.config.model,
            "messages": request.messages,
            "temperature": request.temperature,
            "max_tokens": max_output,
            "stream": false,
        });
        if let Some(seed) = request.seed {
            body["seed"] = seed.into();
        }
        if !request.stop.is_empty() {
            body["stop"] = serde_json::json!(request.stop);
        }
        if self.config.request_cost {
            body["usage"] = serde_json::json!({"include": true});
        }
        body
    }

    fn authorized(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.config.api_key {
            Some(key) => builder.bearer_auth(key),
            None => builder,
        }
    }

    async fn send_chat(&self, body: &serde_json::Value) -> Result<ChatResponse, LlmError> {
        let path = match self.config.protocol {
            Protocol::Ollama => "/api/chat",
            Protocol::OpenAi => "/v1/chat/completions",
        };
        let url = self.url(path);
        let response =
            self.authorized(self.http.post(&url).json(body)).send().await.map_err(|e| self.transport_error(&url, e))?;
        let value = self.read_body(response).await?;
        match self.config.protocol {
            Protocol::Ollama => parse_ollama(&value),
            Protocol::OpenAi => parse_openai(&value),
        }
    }

    /// Reads a JSON body, turning HTTP errors and error objects inside 200 answers into errors.
    async fn read_body(&self, response: reqwest::Response) -> Result<serde_json::Value, LlmError> {
        let status = response.status();
        let url = response.url().to_string();
        let text = response.text().await.map_err(|e| self.transport_error(&url, e))?;
        if !status.is_success() {
            if status.as_u16() == 404
                && let Some(message) = error_message(&text)
                && message.contains("not found")
                && message.contains("model")
            {
                return Err(LlmError::ModelMissing {
                    model: self.config.model.clone(),
                    available: Vec::new(),
                    protocol: self.config.protocol,
                });
            }
            return Err(LlmError::Http { status: status.as_u16(), body: truncate(&text, 500) });
        }
        if let Some(message) = error_message(&text) {
            return Err(LlmError::ErrorInBody { message });
        }
        serde_json::from_str(&text)
            .map_err(|e| LlmError::MalformedResponse { detail: format!("{e}: {}", truncate(&text, 200)) })
    }

    fn transport_error(&self, url: &str, error: reqwest::Error) -> LlmError {
        if error.is_timeout() {
            LlmError::Timeout { url: url.to_owned(), after: self.config.request_timeout }
        } else if error.is_connect() {
            LlmError::EndpointDown { url: url.to_owned(), cause: root_cause(&error) }
        } else if error.is_decode() || error.is_body() {
            LlmError::MalformedResponse { detail: root_cause(&error) }
        } else {
            LlmError::EndpointDown { url: url.to_owned(), cause: root_cause(&error) }
        }
    }
}

/// `{"error": "..."}` (Ollama) or `{"error": {"message": "..."}}` (OpenAI style), wherever the status said OK.
fn error_message(text: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    match value.get("error")? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => {
            Some(o.get("message").and_then(|m| m.as_str()).unwrap_or("unknown error").to_owned())
        }
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn parse_ollama(value: &serde_json::Value) -> Result<ChatResponse, LlmError> {
    let content = value
        .pointer("/message/content")
        .and_then(|c| c.as_str())
        .ok_or_else(|| LlmError::MalformedResponse { detail: "no message.content in the answer".into() })?;
    Ok(ChatResponse {
        content: content.to_owned(),
        usage: Usage {
            prompt_tokens: value.get("prompt_eval_count").and_then(|v| v.as_u64()).unwrap_or(0),
            completion_tokens: value.get("eval_count").and_then(|v| v.as_u64()).unwrap_or(0),
            cached_prompt_tokens: None,
            cost_usd: None,
        },
        elapsed: Duration::ZERO,
        finish_reason: value.get("done_reason").and_then(|v| v.as_str()).map(str::to_owned),
        attempts: 1,
    })
}

fn parse_openai(value: &serde_json::Value) -> Result<ChatResponse, LlmError> {
    let choice = value
        .pointer("/choices/0")
        .ok_or_else(|| LlmError::MalformedResponse { detail: "no choices in the answer".into() })?;
    let content = choice
        .pointer("/message/content")
        .and_then(|c| c.as_str())
        .ok_or_else(|| LlmError::MalformedResponse { detail: "no choices[0].message.content in the answer".into() })?;
    let usage = value.get("usage");
    let number = |pointer: &str| usage.and_then(|u| u.pointer(pointer)).and_then(|v| v.as_u64());
    Ok(ChatResponse {
        content: content.to_owned(),
        usage: Usage {
            prompt_tokens: number("/prompt_tokens").unwrap_or(0),
            completion_tokens: number("/completion_tokens").unwrap_or(0),
            cached_prompt_tokens: number("/prompt_tokens_details/cached_tokens"),
            // A negative or non-finite figure is a provider bug, not a refund.
            cost_usd: usage.and_then(|u| u.get("cost")).and_then(|v| v.as_f64()).filter(|c| c.is_finite() && *c >= 0.0),
        },
        elapsed: Duration::ZERO,
        finish_reason: choice.get("finish_reason").and_then(|v| v.as_str()).map(str::to_owned),
        attempts: 1,
    })
}

/// `qwen2.5-coder:1.5b` and `qwen2.5-coder:1.5b:latest`-style names compare equal; so do `x` and `x:latest`.
fn normalize_model(name: &str) -> &str {
    name.strip_suffix(":latest").unwrap_or(name)
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut source = error;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};

    fn config(protocol: Protocol, url: &str) -> LlmConfig {
        LlmConfig {
            protocol,
            base_url: url.into(),
            max_retries: 2,
            retry_base_delay: Duration::from_millis(5),
            request_timeout: Duration::from_secs(5),
            ..LlmConfig::default()
        }
    }

    fn ask(text: &str) -> ChatRequest {
        ChatRequest { messages: vec![ChatMessage::system("be brief"), ChatMessage::user(text)], ..Default::default() }
    }

    fn ollama_reply(content: &str) -> serde_json::Value {
        serde_json::json!({"model": "m", "message": {"role": "assistant", "content": content}, "done": true,
            "done_reason": "stop", "prompt_eval_count": 42, "eval_count": 7})
    }

    fn openai_reply(content: &str) -> serde_json::Value {
        serde_json::json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": content},
            "finish_reason": "stop"}], "usage": {"prompt_tokens": 30, "completion_tokens": 5,
            "prompt_tokens_details": {"cached_tokens": 20}}})
    }

    fn body_of(request: &Request) -> serde_json::Value {
        serde_json::from_slice(&request.body).unwrap()
    }

    #[tokio::test]
    async fn the_context_size_is_read_where_the_server_reports_it() {
        let llama = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/props"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"default_generation_settings": {"n_ctx": 32768}})),
            )
            .mount(&llama)
            .await;
        let client = LlmClient::new(config(Protocol::OpenAi, &llama.uri())).unwrap();
        assert_eq!(client.context_size().await.unwrap(), Some((32768, "llama.cpp /props n_ctx")));
        // llama-cpp-python's server has no /props.
        let silent = MockServer::start().await;
        let client = LlmClient::new(config(Protocol::OpenAi, &silent.uri())).unwrap();
        assert_eq!(client.context_size().await.unwrap(), None);
        let ollama = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/show"))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                serde_json::json!({"model_info": {"general.architecture": "qwen2", "qwen2.context_length": 32768}}),
            ))
            .mount(&ollama)
            .await;
        let client = LlmClient::new(config(Protocol::Ollama, &ollama.uri())).unwrap();
        assert_eq!(client.context_size().await.unwrap().map(|c| c.0), Some(32768));
    }

    #[tokio::test]
    async fn ollama_requests_size_the_context_and_never_shrink_it() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/chat"))
            .respond_with(ResponseTemplate::new(200).set_body_json(ollama_reply("hi")))
            .mount(&server)
            .await;
        let client = LlmClient::new(config(Protocol::Ollama, &server.uri())).unwrap();
        let big = client.chat(&ask(&"x".repeat(9000))).await.unwrap();
        assert_eq!((big.content.as_str(), big.usage.prompt_tokens, big.usage.completion_tokens), ("hi", 42, 7));
        client.chat(&ask("small")).await.unwrap();
        let requests = server.received_requests().await.unwrap();
        let first = body_of(&requests[0]);
        let second = body_of(&requests[1]);
        // 3000 prompt tokens + 1024 reserved for the answer -> the 4096 bucket, kept for the small request too.
        assert_eq!(first["options"]["num_ctx"], 4096);
        assert_eq!(second["options"]["num_ctx"], 4096);
        assert_eq!(first["keep_alive"], "30m");
        assert_eq!(first["stream"], false);
        assert_eq!(first["options"]["temperature"], 0.0);
        assert!(first.get("tools").is_none());
    }

    #[tokio::test]
    async fn openai_requests_and_usage_with_cached_tokens() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(openai_reply("ok")))
            .mount(&server)
            .await;
        let client = LlmClient::new(config(Protocol::OpenAi, &server.uri())).unwrap();
        let reply = client.chat(&ChatRequest { seed: Some(1), ..ask("hi") }).await.unwrap();
        assert_eq!(
            reply.usage,
            Usage { prompt_tokens: 30, completion_tokens: 5, cached_prompt_tokens: Some(20), cost_usd: None }
        );
        assert_eq!(reply.attempts, 1);
        let body = body_of(&server.received_requests().await.unwrap()[0]);
        assert_eq!(body["model"], "qwen2.5-coder:1.5b");
        assert_eq!(body["max_tokens"], 1024);
        assert_eq!(body["messages"][0]["role"], "system");
    }

    #[tokio::test]
    async fn a_provider_reported_cost_is_read_and_asked_for_only_when_configured() {
        let server = MockServer::start().await;
        let mut reply = openai_reply("ok");
        reply["usage"]["cost"] = serde_json::json!(0.00042);
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(reply))
            .mount(&server)
            .await;
        let plain = LlmClient::new(config(Protocol::OpenAi, &server.uri())).unwrap();
        assert_eq!(plain.chat(&ask("hi")).await.unwrap().usage.cost_usd, Some(0.00042));
        let asking =
            LlmClient::new(LlmConfig { request_cost: true, ..config(Protocol::OpenAi, &server.uri()) }).unwrap();
        asking.chat(&ask("hi")).await.unwrap();
        let requests = server.received_requests().await.unwrap();
        assert!(body_of(&requests[0]).get("usage").is_none(), "servers that reject unknown fields are not sent it");
        assert_eq!(body_of(&requests[1])["usage"], serde_json::json!({"include": true}));
    }

    #[tokio::test]
    async fn a_down_endpoint_is_retried_then_reported() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let client = LlmClient::new(config(Protocol::OpenAi, &url)).unwrap();
        let err = client.chat(&ask("hi")).await.unwrap_err();
        assert!(matches!(err, LlmError::EndpointDown { .. }), "{err}");
        assert!(err.is_transient());
        assert!(err.to_string().contains("llm.base_url"));
    }

    #[tokio::test]
    async fn server_errors_are_retried_and_client_errors_are_not() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(503).set_body_string("loading"))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(openai_reply("ok")))
            .with_priority(2)
            .mount(&server)
            .await;
        let client = LlmClient::new(config(Protocol::OpenAi, &server.uri())).unwrap();
        assert_eq!(client.chat(&ask("hi")).await.unwrap().attempts, 2);

        let bad = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_string("bad request"))
            .expect(1)
            .mount(&bad)
            .await;
        let client = LlmClient::new(config(Protocol::OpenAi, &bad.uri())).unwrap();
        let err = client.chat(&ask("hi")).await.unwrap_err();
        assert!(matches!(err, LlmError::Http { status: 400, .. }), "{err}");
    }

    #[tokio::test]
    async fn an_error_object_in_a_200_answer_is_an_error() {
        for (protocol, route, body) in [
            (Protocol::Ollama, "/api/chat", serde_json::json!({"error": "model runner crashed"})),
            (Protocol::OpenAi, "/v1/chat/completions", serde_json::json!({"error": {"message": "context overflow"}})),
        ] {
            let server = MockServer::start().await;
            Mock::given(method("POST"))
                .and(path(route))
                .respond_with(ResponseTemplate::new(200).set_body_json(body))
                .expect(1)
                .mount(&server)
                .await;
            let client = LlmClient::new(config(protocol, &server.uri())).unwrap();
            let err = client.chat(&ask("hi")).await.unwrap_err();
            assert!(matches!(err, LlmError::ErrorInBody { .. }), "{err}");
            assert!(!err.is_transient());
        }
    }

    #[tokio::test]
    async fn a_missing_model_says_how_to_get_it() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/tags"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"models": [{"name": "llama3:latest"}]})),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/models"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"data": [{"id": "qwen2.5-coder:1.5b"}, {"id": "other"}]})),
            )
            .mount(&server)
            .await;
        let ollama = LlmClient::new(config(Protocol::Ollama, &server.uri())).unwrap();
        let err = ollama.check_model().await.unwrap_err();
        assert!(err.to_string().contains("ollama pull qwen2.5-coder:1.5b"), "{err}");
        assert!(!err.is_transient());
        let openai = LlmClient::new(config(Protocol::OpenAi, &server.uri())).unwrap();
        assert_eq!(openai.check_model().await.unwrap().available_models.len(), 2);
        let mut other = config(Protocol::OpenAi, &server.uri());
        other.model = "missing".into();
        let err = LlmClient::new(other).unwrap().check_model().await.unwrap_err();
        assert!(err.to_string().contains("qwen2.5-coder:1.5b, other"), "{err}");
    }

    #[tokio::test]
    async fn an_oversized_prompt_is_refused_before_sending() {
        let server = MockServer::start().await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).expect(0).mount(&server).await;
        let client = LlmClient::new(config(Protocol::Ollama, &server.uri())).unwrap();
        let err = client.chat(&ask(&"y".repeat(30_000))).await.unwrap_err();
        assert!(matches!(err, LlmError::PromptTooLarge { context_tokens: 8192, .. }), "{err}");
        assert!(err.to_string().contains("llm.context_tokens"));
    }

    #[tokio::test]
    async fn a_slow_server_times_out() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(openai_reply("late")).set_delay(Duration::from_secs(3)),
            )
            .mount(&server)
            .await;
        let mut cfg = config(Protocol::OpenAi, &server.uri());
        cfg.request_timeout = Duration::from_millis(300);
        cfg.max_retries = 0;
        let err = LlmClient::new(cfg).unwrap().chat(&ask("hi")).await.unwrap_err();
        assert!(matches!(err, LlmError::Timeout { .. }), "{err}");
        assert!(err.to_string().contains("llm.request_timeout_secs"));
    }

    #[test]
    fn bad_config_is_refused() {
        let err = LlmClient::new(LlmConfig { base_url: "localhost:11434".into(), ..LlmConfig::default() });
        assert!(matches!(err, Err(LlmError::InvalidConfig { field: "llm.base_url", .. })));
        assert_eq!("openai".parse::<Protocol>(), Ok(Protocol::OpenAi));
        assert!("grpc".parse::<Protocol>().unwrap_err().contains("ollama"));
    }

    /// Against a real server: `CODINGWORKER_TEST_LLM_URL=http://127.0.0.1:8089 cargo test -p codingworker-llm -- --ignored`.
    #[tokio::test]
    #[ignore = "needs a real model server (CODINGWORKER_TEST_LLM_URL); scripts/test.sh runs it"]
    async fn a_real_server_answers() {
        let url = std::env::var("CODINGWORKER_TEST_LLM_URL").expect("CODINGWORKER_TEST_LLM_URL");
        let protocol: Protocol =
            std::env::var("CODINGWORKER_TEST_LLM_PROTOCOL").unwrap_or_else(|_| "openai".into()).parse().unwrap();
        let model = std::env::var("CODINGWORKER_TEST_LLM_MODEL").unwrap_or_else(|_| "qwen2.5-coder:1.5b".into());
        let client = LlmClient::new(LlmConfig { protocol, base_url: url, model, ..LlmConfig::default() }).unwrap();
        client.check_model().await.unwrap();
        let reply =
            client.chat(&ChatRequest { max_tokens: Some(8), ..ask("Reply with the single word OK") }).await.unwrap();
        assert!(!reply.content.trim().is_empty());
        assert!(reply.usage.prompt_tokens > 0 && reply.usage.completion_tokens > 0);
    }
}
