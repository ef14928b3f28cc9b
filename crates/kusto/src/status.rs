//! Turning a failed answer into a [`KustoError`] with the right [`ErrorKind`]: the HTTP status,
//! the OneApiError body Kusto sends (`{"error":{code, @message, @permanent, ...}}`),
//! `Retry-After` in both its forms, and transport failures (timeouts, resets). Storage answers
//! are read by the storage layer and classified in `storage.rs`.

use super::error::{ErrorKind, KustoError};
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// Which service answered: the classification rules differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Service {
    /// Kusto management and query endpoints (engine or data management).
    Kusto,
    /// Kusto's streaming ingestion endpoint (`/v1/rest/ingest/...`), where 404 means streaming
    /// is off for the cluster.
    Streaming,
}

/// The parts of a OneApiError the client uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct OneApiError {
    pub code: Option<String>,
    /// `@message` when present (the detailed one), else `message`.
    pub message: Option<String>,
    pub permanent: Option<bool>,
    pub activity_id: Option<String>,
}

impl OneApiError {
    /// Reads the object inside `"error"` (or the object itself when it has no `error` key).
    pub fn from_value(v: &Value) -> Option<OneApiError> {
        let e = v.get("error").unwrap_or(v);
        let obj = e.as_object()?;
        let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
        let parsed = OneApiError {
            code: text("code"),
            message: text("@message").or_else(|| text("message")),
            permanent: obj.get("@permanent").and_then(Value::as_bool),
            activity_id: obj
                .get("@context")
                .and_then(|c| c.get("activityId"))
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        (parsed.code.is_some() || parsed.message.is_some()).then_some(parsed)
    }

    /// Parses a response body that should hold `{"error":{...}}`.
    pub fn from_body(body: &[u8]) -> Option<OneApiError> {
        let v: Value = serde_json::from_slice(body).ok()?;
        v.get("error")?;
        Self::from_value(&v)
    }

    fn code_contains(&self, needle: &str) -> bool {
        let lower = needle.to_ascii_lowercase();
        [&self.code, &self.message].iter().any(|t| {
            t.as_deref()
                .is_some_and(|t| t.to_ascii_lowercase().contains(&lower))
        })
    }
}

/// The kind of a non-success Kusto answer.
pub(super) fn classify_kusto(
    status: u16,
    error: Option<&OneApiError>,
    retry_after: Option<Duration>,
    service: Service,
) -> ErrorKind {
    let has = |needle: &str| error.is_some_and(|e| e.code_contains(needle));
    if has("StreamingIngestionPolicyNotEnabled") || has("StreamingIngestionDisabledForCluster") {
        return ErrorKind::StreamingDisabled;
    }
    if status == 413 || has("Stream_InputStreamTooLarge") {
        return ErrorKind::TooLarge;
    }
    match status {
        429 => ErrorKind::Throttled,
        503 if retry_after.is_some() => ErrorKind::Throttled,
        404 if service == Service::Streaming => ErrorKind::StreamingDisabled,
        401 | 403 => ErrorKind::Unauthorized,
        408 => ErrorKind::Transient,
        500..=599 => ErrorKind::Transient,
        _ => permanence(error.and_then(|e| e.permanent)),
    }
}

/// `@permanent` false → transient; true or missing → permanent.
pub(super) fn permanence(permanent: Option<bool>) -> ErrorKind {
    match permanent {
        Some(false) => ErrorKind::Transient,
        _ => ErrorKind::Permanent,
    }
}

/// The error for a request that got no response (or whose body could not be read), built on
/// `base` (the request's error of a kind): what happened, classified, with the cause.
pub(super) fn transport_error(
    base: impl FnOnce(ErrorKind) -> KustoError,
    error: reqwest::Error,
) -> KustoError {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "no complete answer"
    };
    base(classify_transport(&error))
        .with_message(what)
        // reqwest's text would repeat the URL with its SAS query.
        .with_source(error.without_url())
}

/// The kind of a request that got no answer.
pub(super) fn classify_transport(e: &reqwest::Error) -> ErrorKind {
    if e.is_builder() {
        ErrorKind::Permanent
    } else {
        // Timeouts, refused or reset connections, truncated bodies.
        ErrorKind::Transient
    }
}

fn header(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// What a failed call knew about its request.
pub(super) struct Attempt<'a> {
    pub operation: &'a str,
    pub method: &'a str,
    pub url: &'a str,
    pub client_request_id: &'a str,
    pub service: Service,
}

impl Attempt<'_> {
    /// Sends the request and returns the body of a 2xx answer, or the classified error.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<bytes::Bytes, KustoError> {
        let response = request.send().await.map_err(|e| self.transport_error(e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(e))?;
        if (200..300).contains(&status) {
            Ok(bytes)
        } else {
            Err(self.response_error(status, &headers, &bytes))
        }
    }

    /// The error for a response with a non-success status.
    pub fn response_error(
        &self,
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) -> KustoError {
        let retry_after = if status == 429 || status == 503 {
            header(headers, "retry-after")
                .and_then(|v| iotc_adx_storage::retry::parse_retry_after(&v, SystemTime::now()))
        } else {
            None
        };
        let mut e = self.base(ErrorKind::Transient);
        e.details.status = Some(status);
        e.details.retry_after = retry_after;
        let parsed = OneApiError::from_body(body);
        e.kind = classify_kusto(status, parsed.as_ref(), retry_after, self.service);
        e.details.activity_id = header(headers, "x-ms-activity-id")
            .or_else(|| parsed.as_ref().and_then(|p| p.activity_id.clone()));
        match parsed {
            Some(p) => {
                e.details.code = p.code;
                e.details.message = p.message;
            }
            None => e.details.message = snippet(body),
        }
        e
    }

    /// The error for a request that got no response (or whose body could not be read).
    pub fn transport_error(&self, error: reqwest::Error) -> KustoError {
        transport_error(|kind| self.base(kind), error)
    }

    /// An error of `kind` naming this request.
    pub fn base(&self, kind: ErrorKind) -> KustoError {
        KustoError::new(kind, self.operation)
            .with_target(self.method, self.url)
            .with_client_request_id(self.client_request_id)
    }
}

/// The start of a body that is not a OneApiError, as text, for the error message.
fn snippet(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let cut: String = text.chars().take(300).collect();
    Some(cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api(code: &str, permanent: Option<bool>) -> OneApiError {
        OneApiError {
            code: Some(code.into()),
            message: Some("m".into()),
            permanent,
            activity_id: None,
        }
    }

    #[test]
    fn kusto_classification_table() {
        use ErrorKind::*;
        use Service::*;
        let secs = Some(Duration::from_secs(3));
        // status, body, Retry-After, endpoint → kind
        type Case = (
            u16,
            Option<OneApiError>,
            Option<Duration>,
            Service,
            ErrorKind,
        );
        let cases: Vec<Case> = vec![
            (
                429,
                Some(api("TooManyRequests", Some(false))),
                secs,
                Kusto,
                Throttled,
            ),
            (429, None, None, Streaming, Throttled),
            (503, None, secs, Kusto, Throttled),
            (503, None, None, Kusto, Transient),
            (
                500,
                Some(api("InternalServiceError", Some(false))),
                None,
                Kusto,
                Transient,
            ),
            (504, None, None, Streaming, Transient),
            (520, None, None, Kusto, Transient),
            (
                400,
                Some(api("BadRequest", Some(true))),
                None,
                Streaming,
                Permanent,
            ),
            (400, Some(api("BadRequest", None)), None, Kusto, Permanent),
            (400, None, None, Kusto, Permanent),
            (
                400,
                Some(api("BadRequest", Some(false))),
                None,
                Kusto,
                Transient,
            ),
            (409, Some(api("Conflict", None)), None, Kusto, Permanent),
            (408, None, None, Kusto, Transient),
            (
                413,
                Some(api("Stream_InputStreamTooLarge", Some(true))),
                None,
                Streaming,
                TooLarge,
            ),
            (413, None, None, Streaming, TooLarge),
            (
                400,
                Some(api("Stream_InputStreamTooLarge", Some(true))),
                None,
                Streaming,
                TooLarge,
            ),
            (
                400,
                Some(api("StreamingIngestionPolicyNotEnabled", Some(false))),
                None,
                Streaming,
                StreamingDisabled,
            ),
            (
                400,
                Some(api(
                    "BadRequest_StreamingIngestionDisabledForCluster",
                    Some(true),
                )),
                None,
                Streaming,
                StreamingDisabled,
            ),
            (404, None, None, Streaming, StreamingDisabled),
            (
                404,
                Some(api("NotFound", Some(true))),
                None,
                Kusto,
                Permanent,
            ),
            (
                401,
                Some(api("Unauthorized", Some(true))),
                None,
                Kusto,
                Unauthorized,
            ),
            (403, None, None, Streaming, Unauthorized),
        ];
        for (status, error, retry, service, want) in cases {
            assert_eq!(
                classify_kusto(status, error.as_ref(), retry, service),
                want,
                "{status} {error:?} {retry:?} {service:?}"
            );
        }
    }

    #[test]
    fn policy_off_is_found_in_the_message_too() {
        let e = OneApiError {
            code: Some("BadRequest".into()),
            message: Some(
                "Streaming ingestion policy is not enabled (StreamingIngestionPolicyNotEnabled)"
                    .into(),
            ),
            permanent: Some(true),
            activity_id: None,
        };
        assert_eq!(
            classify_kusto(400, Some(&e), None, Service::Streaming),
            ErrorKind::StreamingDisabled
        );
    }

    #[test]
    fn one_api_error_parses() {
        let body = json!({"error":{"code":"BadRequest","message":"Request is invalid",
            "@message":"Bad streaming ingestion request: empty","@permanent":true,
            "@context":{"activityId":"a1"}}});
        let e = OneApiError::from_body(body.to_string().as_bytes()).unwrap();
        assert_eq!(e.code.as_deref(), Some("BadRequest"));
        assert_eq!(
            e.message.as_deref(),
            Some("Bad streaming ingestion request: empty")
        );
        assert_eq!(e.permanent, Some(true));
        assert_eq!(e.activity_id.as_deref(), Some("a1"));
        assert_eq!(OneApiError::from_body(b"<html>"), None);
        assert_eq!(OneApiError::from_body(b"{\"x\":1}"), None);
    }

    #[test]
    fn response_error_keeps_retry_after_and_ids() {
        let attempt = Attempt {
            operation: "query",
            method: "POST",
            url: "http://h/v2/rest/query",
            client_request_id: "iotc-adx.query;1",
            service: Service::Kusto,
        };
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", "7".parse().unwrap());
        headers.insert("x-ms-activity-id", "act".parse().unwrap());
        let body =
            json!({"error":{"code":"TooManyRequests","@message":"throttled","@permanent":false}});
        let e = attempt.response_error(429, &headers, body.to_string().as_bytes());
        assert_eq!(e.kind(), ErrorKind::Throttled);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(e.status(), Some(429));
        assert_eq!(e.activity_id(), Some("act"));
        assert_eq!(e.code(), Some("TooManyRequests"));
        // Retry-After on other statuses is ignored.
        let e = attempt.response_error(500, &headers, b"oops");
        assert_eq!((e.kind(), e.retry_after()), (ErrorKind::Transient, None));
        assert_eq!(e.message(), Some("oops"));
    }
}
