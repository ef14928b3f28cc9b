//! One JSON POST to a URL that may hold a key, retried on throttling (429, honouring
//! `Retry-After`), server errors, timeouts and broken connections, with capped exponential
//! backoff. Errors name the host only: the URL's path and query (where webhook keys live)
//! are never logged or returned.

use crate::report::settings::SecretUrl;
use crate::retry::{parse_retry_after, retry, RetryPolicy};
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// Why a POST failed after its attempts.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The target answered with an error status.
    #[error("{target} answered {status} after {attempts} attempt(s): {body}")]
    Status {
        /// Scheme and host.
        target: String,
        /// The last status.
        status: u16,
        /// The start of the last answer's body.
        body: String,
        /// Attempts made.
        attempts: u32,
        /// The wait the target asked for, if any.
        retry_after: Option<Duration>,
    },
    /// The request could not be sent or answered.
    #[error("{target} could not be reached after {attempts} attempt(s): {}", chain(.source))]
    Transport {
        /// Scheme and host.
        target: String,
        /// Attempts made.
        attempts: u32,
        /// What failed (without the URL).
        #[source]
        source: reqwest::Error,
    },
    /// The body could not be rendered.
    #[error("cannot render the message: {0}")]
    Render(String),
    /// The mail server refused the e-mail or could not be reached.
    #[error("{target} did not take the e-mail after {attempts} attempt(s): {message}")]
    Mail {
        /// The server's host and port.
        target: String,
        /// Attempts made.
        attempts: u32,
        /// What failed (the server's reply or the connection error).
        message: String,
        /// Whether another attempt may succeed (a 4xx reply, a lost connection).
        transient: bool,
    },
}

/// An error and its causes on one line (reqwest's own message is only "error sending
/// request"; the cause says "connection refused").
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

impl DeliveryError {
    /// Whether another attempt may succeed, and the wait the target asked for.
    pub(crate) fn again(&self) -> Option<Option<Duration>> {
        match self {
            DeliveryError::Status {
                status,
                retry_after,
                ..
            } if *status == 429 || *status == 408 || *status >= 500 => Some(*retry_after),
            DeliveryError::Transport { .. } => Some(None),
            DeliveryError::Mail {
                transient: true, ..
            } => Some(None),
            _ => None,
        }
    }
}

/// The backoff of deliveries: 1 s doubling to 60 s, unless the target says otherwise.
pub fn delivery_policy() -> RetryPolicy {
    RetryPolicy {
        initial_backoff: Duration::from_secs(1),
        max_backoff: Duration::from_secs(60),
        ..RetryPolicy::default()
    }
}

/// POSTs `body` to `url` up to `attempts` times.
pub async fn post_json(
    http: &reqwest::Client,
    url: &SecretUrl,
    body: &Value,
    attempts: u32,
    policy: &RetryPolicy,
) -> Result<(), DeliveryError> {
    let bytes = serde_json::to_vec(body).map_err(|e| DeliveryError::Render(e.to_string()))?;
    retry(
        policy,
        attempts,
        |attempt| once(http, url, bytes.clone(), attempt),
        DeliveryError::again,
    )
    .await
}

async fn once(
    http: &reqwest::Client,
    url: &SecretUrl,
    bytes: Vec<u8>,
    attempt: u32,
) -> Result<(), DeliveryError> {
    let target = url.redacted();
    let response = http
        .post(url.0.clone())
        .header("content-type", "application/json")
        .body(bytes)
        .send()
        .await
        .map_err(|e| DeliveryError::Transport {
            target: target.clone(),
            attempts: attempt,
            source: e.without_url(),
        })?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(());
    }
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    let text = response.text().await.unwrap_or_default();
    let body: String = text.chars().take(300).collect();
    Err(DeliveryError::Status {
        target,
        status,
        body,
        attempts: attempt,
        retry_after,
    })
}
