//! The one error type of the Kusto client: what failed and where, how the service answered, and
//! a classification ([`ErrorKind`]) precise enough for the sink to choose between retrying,
//! falling back from streaming to queued ingestion, and dead-lettering.
//!
//! Nothing secret reaches the text: URLs are shown without their query string (which holds
//! SAS signatures), and tokens are never part of a message.

use std::fmt;
use std::time::Duration;

/// How a failure should be handled by the caller. This module makes one attempt per call; the
/// sink owns retries and fallbacks and decides by this value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The service throttled the request (429, or 503 with `Retry-After`, or storage
    /// `ServerBusy`): retry later, after [`KustoError::retry_after`] when given.
    Throttled,
    /// A fault that may go away: 5xx, timeouts, connection resets, `@permanent: false`.
    Transient,
    /// Retrying the same request cannot help: bad data, schema mismatch, 4xx with
    /// `@permanent: true` or without `@permanent`.
    Permanent,
    /// The payload is too large for this path (413, `Stream_InputStreamTooLarge`): send it
    /// through queued ingestion or split it.
    TooLarge,
    /// Streaming ingestion is off for the table, database or cluster (policy error codes, or
    /// 404 on the streaming endpoint): use queued ingestion.
    StreamingDisabled,
    /// Kusto refused the caller's identity (401/403), or no token could be obtained.
    Unauthorized,
    /// Blob or queue storage refused the SAS (403 / `AuthenticationFailed`, e.g. expired):
    /// fresh ingestion resources are needed. The queued ingestor already re-fetched them and
    /// retried once before returning this.
    StorageAuth,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Throttled => "throttled",
            ErrorKind::Transient => "transient",
            ErrorKind::Permanent => "permanent",
            ErrorKind::TooLarge => "too large",
            ErrorKind::StreamingDisabled => "streaming disabled",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::StorageAuth => "storage authorization",
        })
    }
}

/// A failed Kusto or storage call. `Display` says what failed, where (method and URL without
/// its query string), the HTTP status, the service's error code and message, and the ids to
/// quote to support (`x-ms-activity-id`, the client request id); the underlying transport or
/// credential error is kept as the source.
#[derive(Debug, thiserror::Error)]
#[error("{}", render(self))]
pub struct KustoError {
    pub(super) kind: ErrorKind,
    /// Everything else, boxed so that `Result<_, KustoError>` stays small.
    pub(super) details: Box<Details>,
    #[source]
    pub(super) source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// What a [`KustoError`] knows besides its kind and cause.
#[derive(Debug, Default)]
pub(super) struct Details {
    pub operation: String,
    pub target: Option<String>,
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: Option<String>,
    pub activity_id: Option<String>,
    pub client_request_id: Option<String>,
    pub retry_after: Option<Duration>,
}

fn render(e: &KustoError) -> String {
    let d = &e.details;
    let mut s = format!("{} failed", d.operation);
    if let Some(target) = &d.target {
        s.push_str(&format!(" ({target})"));
    }
    if let Some(status) = d.status {
        s.push_str(&format!(": HTTP {status}"));
    }
    if let Some(code) = &d.code {
        s.push_str(&format!(
            "{} {code}",
            if d.status.is_some() { "" } else { ":" }
        ));
    }
    if let Some(message) = &d.message {
        s.push_str(&format!(": {message}"));
    } else if let Some(source) = &e.source {
        s.push_str(&format!(": {source}"));
    }
    s.push_str(&format!(" [{}", e.kind));
    if let Some(wait) = d.retry_after {
        s.push_str(&format!("; retry after {} s", wait.as_secs_f64()));
    }
    if let Some(a) = &d.activity_id {
        s.push_str(&format!("; activity id {a}"));
    }
    if let Some(c) = &d.client_request_id {
        s.push_str(&format!("; client request id {c}"));
    }
    s.push(']');
    s
}

impl KustoError {
    /// A bare error of `kind` for `operation`; the `with_*` methods add the details.
    pub(super) fn new(kind: ErrorKind, operation: impl Into<String>) -> Self {
        KustoError {
            kind,
            details: Box::new(Details {
                operation: operation.into(),
                ..Details::default()
            }),
            source: None,
        }
    }

    /// Names the request: method and URL, the query string dropped.
    pub(super) fn with_target(mut self, method: &str, url: &str) -> Self {
        self.details.target = Some(format!("{method} {}", strip_query(url)));
        self
    }

    pub(super) fn with_message(mut self, message: impl Into<String>) -> Self {
        self.details.message = Some(message.into());
        self
    }

    pub(super) fn with_client_request_id(mut self, id: impl Into<String>) -> Self {
        self.details.client_request_id = Some(id.into());
        self
    }

    pub(super) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// How the caller should handle this failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// How long the service asked to wait (`Retry-After` on 429/503), if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.details.retry_after
    }

    /// The HTTP status, when a response arrived.
    pub fn status(&self) -> Option<u16> {
        self.details.status
    }

    /// The service's error code (OneApiError `code`, or storage `x-ms-error-code`).
    pub fn code(&self) -> Option<&str> {
        self.details.code.as_deref()
    }

    /// The service's detailed message (OneApiError `@message`, else `message`).
    pub fn message(&self) -> Option<&str> {
        self.details.message.as_deref()
    }

    /// `x-ms-activity-id` (or storage `x-ms-request-id`) of the response, for support.
    pub fn activity_id(&self) -> Option<&str> {
        self.details.activity_id.as_deref()
    }

    /// The `x-ms-client-request-id` this client sent.
    pub fn client_request_id(&self) -> Option<&str> {
        self.details.client_request_id.as_deref()
    }

    /// What this client was doing (`mgmt`, `query`, `streaming ingest`, `blob upload`, ...).
    pub fn operation(&self) -> &str {
        &self.details.operation
    }
}

/// `url` without its query string or fragment (SAS signatures live in the query).
pub(super) fn strip_query(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_everything_but_secrets() {
        let mut e = KustoError::new(ErrorKind::Throttled, "blob upload")
            .with_target("PUT", "http://h/acct/c/b?sv=1&sig=SECRET")
            .with_client_request_id("iotc-adx.blob;1");
        e.details.status = Some(429);
        e.details.code = Some("ServerBusy".into());
        e.details.message = Some("slow down".into());
        e.details.activity_id = Some("act-1".into());
        e.details.retry_after = Some(Duration::from_secs(2));
        let text = e.to_string();
        for part in [
            "blob upload failed",
            "PUT http://h/acct/c/b",
            "HTTP 429",
            "ServerBusy",
            "slow down",
            "throttled",
            "retry after 2 s",
            "act-1",
            "iotc-adx.blob;1",
        ] {
            assert!(text.contains(part), "{part} missing from {text}");
        }
        assert!(!text.contains("SECRET"), "{text}");
        assert!(!text.contains('?'), "{text}");
    }

    #[test]
    fn strip_query_drops_sas() {
        assert_eq!(strip_query("https://a/b?sig=x"), "https://a/b");
        assert_eq!(strip_query("https://a/b#f"), "https://a/b");
        assert_eq!(strip_query("https://a/b"), "https://a/b");
    }
}
