//! The SQS backend: one Amazon SQS queue (plus the dead-letter queue of its redrive policy).
//!
//! SQS owns the retry count: every receive raises `ApproximateReceiveCount`, and after the redrive policy's
//! `maxReceiveCount` receives SQS moves a message that was never deleted to the dead-letter queue, which covers a
//! worker that crashed or was killed. A failure the worker did see is parked by the worker itself on the last
//! attempt, so the dead-letter copy carries the reason as a message attribute instead of only a count.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName};
use chrono::{DateTime, TimeZone, Utc};

use crate::{DeadLetter, MAX_BODY_BYTES, Queue, QueueDepth, QueueError, ReceivedMessage, Released};

/// SQS's limits on one receive's long poll and on a message's visibility.
const MAX_WAIT_SECS: u64 = 20;
const MAX_VISIBILITY_SECS: u64 = 43_200;
/// Message attributes of a message this worker parked in the dead-letter queue.
const REASON_ATTRIBUTE: &str = "codingworker.reason";
const RECEIVES_ATTRIBUTE: &str = "codingworker.receive_count";
const SOURCE_ID_ATTRIBUTE: &str = "codingworker.message_id";
/// Room kept for the reason next to the body in SQS's 256 KiB message limit.
const MAX_REASON_BYTES: usize = 2000;
const REDRIVEN_REASON: &str = "SQS moved it here after the redrive policy's receives ran out without an outcome \
     (the worker crashed, was killed or lost its connection mid-task)";

#[derive(Debug, Clone, Default)]
pub struct SqsQueueOptions {
    pub queue_url: String,
    pub visibility_timeout: Duration,
}

/// What this process knows about a message it holds; SQS answers none of it from a receipt handle.
#[derive(Debug, Clone)]
struct Held {
    message_id: String,
    body: String,
    receive_count: u32,
}

pub struct SqsQueue {
    client: Client,
    url: String,
    dead_letter_url: String,
    max_receives: u32,
    visibility_timeout: Duration,
    held: Mutex<HashMap<String, Held>>,
}

impl SqsQueue {
    /// Connects with the shared AWS configuration (credentials, profile, endpoint) and reads the queue's redrive
    /// policy, so a wrong URL, missing credentials or a queue without a dead-letter queue stop start-up instead of
    /// the first task. A region in the queue URL wins: that is where the queue is.
    pub async fn connect(aws: &aws_config::SdkConfig, options: SqsQueueOptions) -> Result<Self, QueueError> {
        let mut config = aws_sdk_sqs::config::Builder::from(aws);
        if let Some(region) = region_of_url(&options.queue_url) {
            config = config.region(aws_config::Region::new(region));
        }
        let client = Client::from_conf(config.build());
        let attributes = client
            .get_queue_attributes()
            .queue_url(&options.queue_url)
            .attribute_names(QueueAttributeName::RedrivePolicy)
            .send()
            .await
            .map_err(|e| {
                let error = classify("GetQueueAttributes", e);
                QueueError::Connect { url: options.queue_url.clone(), reason: error.to_string() }
            })?;
        let policy =
            attributes.attributes().and_then(|a| a.get(&QueueAttributeName::RedrivePolicy)).ok_or_else(|| {
                QueueError::Connect {
                    url: options.queue_url.clone(),
                    reason: "the queue has no redrive policy, so a task that keeps failing would be retried until it \
                         expires; give it a dead-letter queue with maxReceiveCount 3 (infra/modules/project does)"
                        .into(),
                }
            })?;
        let (dead_letter_arn, max_receives) = parse_redrive_policy(policy).ok_or_else(|| QueueError::Connect {
            url: options.queue_url.clone(),
            reason: format!("unreadable redrive policy {policy}"),
        })?;
        let dead_letter_url = dead_letter_url(&client, &dead_letter_arn).await.map_err(|e| QueueError::Connect {
            url: options.queue_url.clone(),
            reason: format!("cannot find its dead-letter queue {dead_letter_arn}: {e}"),
        })?;
        Ok(Self {
            client,
            url: options.queue_url,
            dead_letter_url,
            max_receives,
            visibility_timeout: options.visibility_timeout,
            held: Mutex::new(HashMap::new()),
        })
    }

    fn held(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Held>>, QueueError> {
        self.held.lock().map_err(|_| QueueError::Internal("a previous queue call panicked".into()))
    }

    fn forget(&self, receipt: &str) -> Result<Option<Held>, QueueError> {
        Ok(self.held()?.remove(receipt))
    }

    /// Copies the message to the dead-letter queue with `reason`, then deletes it here. A crash in between leaves
    /// a copy in both; the one here is redriven or retried, so nothing is lost, at worst parked twice.
    async fn park(&self, receipt: &str, held: &Held, reason: &str) -> Result<(), QueueError> {
        let room = MAX_BODY_BYTES.saturating_sub(held.body.len() + 512).min(MAX_REASON_BYTES);
        let reason = truncate(reason, room.max(64));
        self.client
            .send_message()
            .queue_url(&self.dead_letter_url)
            .message_body(&held.body)
            .message_attributes(REASON_ATTRIBUTE, string_attribute(reason)?)
            .message_attributes(RECEIVES_ATTRIBUTE, number_attribute(held.receive_count)?)
            .message_attributes(SOURCE_ID_ATTRIBUTE, string_attribute(&held.message_id)?)
            .send()
            .await
            .map_err(|e| classify("SendMessage to the dead-letter queue", e))?;
        self.delete_message(receipt).await
    }

    async fn delete_message(&self, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| classify_receipt("DeleteMessage", receipt, e))?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Queue for SqsQueue {
    async fn send(&self, body: &str) -> Result<String, QueueError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(QueueError::BodyTooLarge { bytes: body.len(), limit: MAX_BODY_BYTES });
        }
        let sent = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| classify("SendMessage", e))?;
        Ok(sent.message_id().unwrap_or_default().to_owned())
    }

    async fn receive(&self, wait: Duration) -> Result<Option<ReceivedMessage>, QueueError> {
        let received = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(1)
            .wait_time_seconds(secs_i32(wait.as_secs().min(MAX_WAIT_SECS)))
            .visibility_timeout(secs_i32(self.visibility_timeout.as_secs().clamp(1, MAX_VISIBILITY_SECS)))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .send()
            .await
            .map_err(|e| classify("ReceiveMessage", e))?;
        let Some(message) = received.messages().first() else { return Ok(None) };
        let attribute = |name: MessageSystemAttributeName| message.attributes().and_then(|a| a.get(&name)).cloned();
        let (Some(message_id), Some(receipt)) = (message.message_id(), message.receipt_handle()) else {
            return Err(QueueError::Internal("SQS returned a message without an id or receipt handle".into()));
        };
        let receive_count = attribute(MessageSystemAttributeName::ApproximateReceiveCount)
            .and_then(|count| count.parse().ok())
            .unwrap_or(1);
        let sent_at = attribute(MessageSystemAttributeName::SentTimestamp)
            .and_then(|ms| ms.parse::<i64>().ok())
            .map(time)
            .unwrap_or_else(Utc::now);
        let held = Held {
            message_id: message_id.to_owned(),
            body: message.body().unwrap_or_default().to_owned(),
            receive_count,
        };
        self.held()?.insert(receipt.to_owned(), held.clone());
        Ok(Some(ReceivedMessage {
            message_id: held.message_id,
            receipt: receipt.to_owned(),
            body: held.body,
            receive_count,
            max_receives: self.max_receives,
            sent_at,
        }))
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.delete_message(receipt).await?;
        self.forget(receipt)?;
        Ok(())
    }

    async fn extend_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .visibility_timeout(secs_i32(timeout.as_secs().min(MAX_VISIBILITY_SECS)))
            .send()
            .await
            .map_err(|e| classify_receipt("ChangeMessageVisibility", receipt, e))?;
        Ok(())
    }

    async fn release(&self, receipt: &str, reason: &str, delay: Duration) -> Result<Released, QueueError> {
        let held = self.forget(receipt)?;
        if let Some(held) = held.as_ref().filter(|held| held.receive_count >= self.max_receives) {
            let reason = format!("failed {} times; last failure: {reason}", held.receive_count);
            self.park(receipt, held, &reason).await?;
            return Ok(Released::DeadLettered);
        }
        // Visible again after `delay`: the next receive counts as the next attempt.
        let after = Duration::from_secs(delay.as_secs().min(MAX_VISIBILITY_SECS));
        self.extend_visibility(receipt, after).await?;
        Ok(Released::WillRetry { after })
    }

    async fn dead_letter(&self, receipt: &str, reason: &str) -> Result<(), QueueError> {
        let held = self.forget(receipt)?.ok_or_else(|| {
            QueueError::Internal(format!("receipt {receipt} was not received by this worker; cannot park it"))
        })?;
        self.park(receipt, &held, reason).await
    }

    /// A look at the dead-letter queue: messages are received with visibility 0, so they stay where they are.
    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, QueueError> {
        let mut letters: Vec<DeadLetter> = Vec::new();
        // SQS returns a sample per receive; a few receives see most of a small queue.
        for _ in 0..3 {
            if letters.len() >= limit {
                break;
            }
            let received = self
                .client
                .receive_message()
                .queue_url(&self.dead_letter_url)
                .max_number_of_messages(i32::try_from(limit.clamp(1, 10)).unwrap_or(10))
                .visibility_timeout(0)
                .wait_time_seconds(0)
                .message_attribute_names("All")
                .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
                .send()
                .await
                .map_err(|e| classify("ReceiveMessage from the dead-letter queue", e))?;
            let mut new = 0;
            for message in received.messages() {
                let custom = |name: &str| {
                    message
                        .message_attributes()
                        .and_then(|a| a.get(name))
                        .and_then(|v| v.string_value())
                        .map(str::to_owned)
                };
                let message_id = custom(SOURCE_ID_ATTRIBUTE).or_else(|| message.message_id().map(str::to_owned));
                let message_id = message_id.unwrap_or_default();
                if letters.iter().any(|l| l.message_id == message_id) {
                    continue;
                }
                let receive_count =
                    custom(RECEIVES_ATTRIBUTE).and_then(|n| n.parse().ok()).unwrap_or(self.max_receives);
                letters.push(DeadLetter {
                    message_id,
                    body: message.body().unwrap_or_default().to_owned(),
                    receive_count,
                    reason: custom(REASON_ATTRIBUTE).unwrap_or_else(|| REDRIVEN_REASON.to_owned()),
                    // SQS does not say when a message arrived in the dead-letter queue.
                    dead_at: Utc::now(),
                });
                new += 1;
            }
            if new == 0 {
                break;
            }
        }
        letters.truncate(limit);
        Ok(letters)
    }

    async fn redrive(&self, message_id: &str) -> Result<bool, QueueError> {
        // SQS cannot fetch one message by id: look through a few receives of the dead-letter queue, holding each
        // message briefly, and hand the others straight back.
        for _ in 0..5 {
            let received = self
                .client
                .receive_message()
                .queue_url(&self.dead_letter_url)
                .max_number_of_messages(10)
                .visibility_timeout(30)
                .wait_time_seconds(0)
                .message_attribute_names("All")
                .send()
                .await
                .map_err(|e| classify("ReceiveMessage from the dead-letter queue", e))?;
            if received.messages().is_empty() {
                return Ok(false);
            }
            let mut found = false;
            for message in received.messages() {
                let source_id = message
                    .message_attributes()
                    .and_then(|a| a.get(SOURCE_ID_ATTRIBUTE))
                    .and_then(|v| v.string_value())
                    .or(message.message_id());
                let receipt = message.receipt_handle().unwrap_or_default();
                if !found && source_id == Some(message_id) {
                    found = true;
                    self.send(message.body().unwrap_or_default()).await?;
                    self.client
                        .delete_message()
                        .queue_url(&self.dead_letter_url)
                        .receipt_handle(receipt)
                        .send()
                        .await
                        .map_err(|e| classify("DeleteMessage from the dead-letter queue", e))?;
                } else {
                    let _ = self
                        .client
                        .change_message_visibility()
                        .queue_url(&self.dead_letter_url)
                        .receipt_handle(receipt)
                        .visibility_timeout(0)
                        .send()
                        .await;
                }
            }
            if found {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        let main = self.counts(&self.url).await?;
        let dead = self.counts(&self.dead_letter_url).await?;
        Ok(QueueDepth {
            visible: main.get("ApproximateNumberOfMessages").copied().unwrap_or(0),
            in_flight: main.get("ApproximateNumberOfMessagesNotVisible").copied().unwrap_or(0),
            delayed: main.get("ApproximateNumberOfMessagesDelayed").copied().unwrap_or(0),
            dead: dead.get("ApproximateNumberOfMessages").copied().unwrap_or(0)
                + dead.get("ApproximateNumberOfMessagesNotVisible").copied().unwrap_or(0),
        })
    }

    fn max_receives(&self) -> u32 {
        self.max_receives
    }

    fn describe(&self) -> String {
        format!("sqs:{}", self.url)
    }
}

impl SqsQueue {
    async fn counts(&self, url: &str) -> Result<HashMap<String, u64>, QueueError> {
        let attributes = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(|e| classify("GetQueueAttributes", e))?;
        Ok(attributes
            .attributes()
            .into_iter()
            .flatten()
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.parse().ok()?)))
            .collect())
    }
}

async fn dead_letter_url(client: &Client, arn: &str) -> Result<String, QueueError> {
    // arn:aws:sqs:<region>:<account>:<name>
    let parts: Vec<&str> = arn.split(':').collect();
    let (Some(account), Some(name)) = (parts.get(4), parts.get(5)) else {
        return Err(QueueError::Internal(format!("not an SQS queue ARN: {arn}")));
    };
    let found = client
        .get_queue_url()
        .queue_name(*name)
        .queue_owner_aws_account_id(*account)
        .send()
        .await
        .map_err(|e| classify("GetQueueUrl", e))?;
    found.queue_url().map(str::to_owned).ok_or_else(|| QueueError::Internal(format!("no URL for {arn}")))
}

/// `{"deadLetterTargetArn": "...", "maxReceiveCount": 3}`; the count comes as a number or a string.
fn parse_redrive_policy(policy: &str) -> Option<(String, u32)> {
    let value: serde_json::Value = serde_json::from_str(policy).ok()?;
    let arn = value.get("deadLetterTargetArn")?.as_str()?.to_owned();
    let count = value.get("maxReceiveCount")?;
    let count = count.as_u64().or_else(|| count.as_str()?.parse().ok())?;
    Some((arn, u32::try_from(count).ok()?))
}

/// `https://sqs.eu-west-1.amazonaws.com/123/name` is in `eu-west-1`.
pub fn region_of_url(url: &str) -> Option<String> {
    let host = url.split("://").nth(1)?.split('/').next()?;
    let rest = host.strip_prefix("sqs.")?;
    let region = rest.split('.').next()?;
    (rest.contains("amazonaws.com") && !region.is_empty()).then(|| region.to_owned())
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, QueueError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| QueueError::Internal(format!("message attribute: {e}")))
}

fn number_attribute(value: u32) -> Result<MessageAttributeValue, QueueError> {
    MessageAttributeValue::builder()
        .data_type("Number")
        .string_value(value.to_string())
        .build()
        .map_err(|e| QueueError::Internal(format!("message attribute: {e}")))
}

fn truncate(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn secs_i32(secs: u64) -> i32 {
    i32::try_from(secs).unwrap_or(i32::MAX)
}

fn time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// Sorts an SDK failure into retryable (network, throttling, SQS's own 5xx) and permanent (access denied, no such
/// queue, bad request), keeping SQS's error code in the message.
fn classify<E>(operation: &'static str, error: SdkError<E, HttpResponse>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (code, status) = match &error {
        SdkError::ServiceError(context) => {
            (context.err().code().map(str::to_owned), Some(context.raw().status().as_u16()))
        }
        _ => (None, None),
    };
    let retryable = match &error {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(_) => code.as_deref().is_some_and(is_transient_code) || status.is_some_and(|s| s >= 500),
        _ => false,
    };
    QueueError::Sqs { operation, code, message: DisplayErrorContext(&error).to_string(), retryable }
}

/// Like `classify`, but an invalid receipt handle means someone else received the message since.
fn classify_receipt<E>(operation: &'static str, receipt: &str, error: SdkError<E, HttpResponse>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match classify(operation, error) {
        QueueError::Sqs { code: Some(code), .. }
            if matches!(code.as_str(), "ReceiptHandleIsInvalid" | "InvalidReceiptHandle" | "MessageNotInflight") =>
        {
            QueueError::StaleReceipt { receipt: receipt.to_owned() }
        }
        other => other,
    }
}

fn is_transient_code(code: &str) -> bool {
    matches!(
        code,
        "ThrottlingException"
            | "RequestThrottled"
            | "ServiceUnavailable"
            | "InternalError"
            | "InternalFailure"
            | "KmsThrottled"
            | "AWS.SimpleQueueService.RequestThrottled"
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn redrive_policies_are_read_with_either_count_type() {
        let arn = "arn:aws:sqs:eu-west-1:123456789012:project-dlq";
        let numeric = format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":3}}"#);
        let text = format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"5"}}"#);
        assert_eq!(parse_redrive_policy(&numeric), Some((arn.to_owned(), 3)));
        assert_eq!(parse_redrive_policy(&text), Some((arn.to_owned(), 5)));
        assert_eq!(parse_redrive_policy("{}"), None);
    }

    #[test]
    fn the_region_comes_from_an_aws_queue_url_only() {
        let aws = "https://sqs.eu-west-1.amazonaws.com/123456789012/project";
        assert_eq!(region_of_url(aws).as_deref(), Some("eu-west-1"));
        assert_eq!(region_of_url("http://127.0.0.1:5000/123456789012/project"), None);
    }

    #[test]
    fn reasons_are_cut_on_a_character_boundary() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("hello", 10), "hello");
    }
}
