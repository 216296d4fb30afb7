//! The fallback chain: the local model first, then each configured endpoint (e.g. OpenRouter) when the one
//! before it could not do the task, within a monthly spend cap taken from the cost the providers report.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use codingworker_llm::{LlmClient, LlmError};
use codingworker_store::{Store, StoreError};

use crate::config::{Config, FallbackModel};

/// Why a model of the chain handed the task on (the keys of `fallback.on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    TestsFailed,
    NoChange,
    TimedOut,
    EndpointDown,
}

impl Condition {
    pub fn key(self) -> &'static str {
        match self {
            Condition::TestsFailed => "tests_failed",
            Condition::NoChange => "no_change",
            Condition::TimedOut => "timed_out",
            Condition::EndpointDown => "endpoint_down",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Condition::TestsFailed => "its change failed the tests",
            Condition::NoChange => "it made no usable change",
            Condition::TimedOut => "it ran out of time",
            Condition::EndpointDown => "its server did not answer",
        }
    }

    /// The condition a model error amounts to: a timeout, else a server that cannot serve the model.
    pub fn of_llm_error(error: &LlmError) -> Self {
        match error {
            LlmError::Timeout { .. } => Condition::TimedOut,
            _ => Condition::EndpointDown,
        }
    }
}

/// One paid (or at least remote) model of the chain.
pub struct FallbackEndpoint {
    pub name: String,
    pub client: LlmClient,
    usd_per_prompt_token: f64,
    usd_per_completion_token: f64,
}

impl FallbackEndpoint {
    /// A call's cost: what the provider reported, else the configured prices times the tokens.
    pub fn cost(&self, prompt_tokens: u64, completion_tokens: u64, reported: Option<f64>) -> f64 {
        reported.unwrap_or(
            prompt_tokens as f64 * self.usd_per_prompt_token + completion_tokens as f64 * self.usd_per_completion_token,
        )
    }
}

/// The fallback endpoints of `config`, in order; empty when fallback is off.
pub fn endpoints(config: &Config) -> Result<Vec<FallbackEndpoint>, LlmError> {
    if !config.fallback.enabled {
        return Ok(Vec::new());
    }
    let base = config.llm_config().map_err(|e| LlmError::InvalidConfig { field: "llm", reason: e.to_string() })?;
    config
        .fallback
        .models
        .iter()
        .map(|model: &FallbackModel| {
            let protocol = model
                .protocol
                .parse()
                .map_err(|reason| LlmError::InvalidConfig { field: "fallback.models.protocol", reason })?;
            let llm = codingworker_llm::LlmConfig {
                protocol,
                base_url: model.base_url.trim_end_matches('/').to_owned(),
                model: model.model.clone(),
                context_tokens: model.context_tokens.unwrap_or(base.context_tokens),
                api_key: Some(model.api_key_env.as_str())
                    .filter(|name| !name.is_empty())
                    .and_then(|name| std::env::var(name).ok())
                    .filter(|key| !key.trim().is_empty()),
                request_cost: model.request_cost,
                ..base.clone()
            };
            Ok(FallbackEndpoint {
                name: model.name.clone(),
                client: LlmClient::new(llm)?,
                usd_per_prompt_token: model.usd_per_million_prompt_tokens / 1e6,
                usd_per_completion_token: model.usd_per_million_completion_tokens / 1e6,
            })
        })
        .collect()
}

/// Midnight UTC on the first day of `now`'s month: the spend cap counts from there.
pub fn month_start(now: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0).single().unwrap_or(now)
}

/// When this calendar month (UTC) began and what models have cost since: what the spend cap is checked against.
pub fn month_to_date(store: &Store) -> Result<(DateTime<Utc>, f64), StoreError> {
    let month = month_start(Utc::now());
    Ok((month, store.spend_since(month)?))
}

/// Dollars as people read them: cents for sums, more digits for the fractions of a cent single calls cost.
pub fn dollars(amount: f64) -> String {
    if amount == 0.0 {
        "$0.00".into()
    } else if amount < 0.01 {
        format!("${amount:.6}")
    } else {
        format!("${amount:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_month_starts_at_midnight_utc_on_the_first() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 19, 59, 9).single().unwrap();
        assert_eq!(month_start(now), Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().unwrap());
    }

    #[test]
    fn reported_cost_wins_over_configured_prices() {
        let endpoint = FallbackEndpoint {
            name: "x".into(),
            client: LlmClient::new(codingworker_llm::LlmConfig::default()).unwrap(),
            usd_per_prompt_token: 1.0 / 1e6,
            usd_per_completion_token: 2.0 / 1e6,
        };
        assert!((endpoint.cost(1_000_000, 500_000, None) - 2.0).abs() < 1e-9);
        assert_eq!(endpoint.cost(1_000_000, 500_000, Some(0.25)), 0.25);
        assert_eq!(dollars(0.0), "$0.00");
        assert_eq!(dollars(0.000123), "$0.000123");
        assert_eq!(dollars(4.5), "$4.50");
    }

    #[test]
    fn model_errors_map_to_conditions() {
        let timeout = LlmError::Timeout { url: "u".into(), after: std::time::Duration::from_secs(1) };
        assert_eq!(Condition::of_llm_error(&timeout), Condition::TimedOut);
        let down = LlmError::EndpointDown { url: "u".into(), cause: "refused".into() };
        assert_eq!(Condition::of_llm_error(&down), Condition::EndpointDown);
        assert_eq!(Condition::TestsFailed.key(), "tests_failed");
    }
}
