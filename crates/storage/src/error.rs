//! The storage layer's error: which operation failed on which resource (the URL without its
//! query string, so a SAS signature never reaches a log), how the service answered (status,
//! storage error code, its message, its request id, `Retry-After`), and the cause kept as the
//! source. Tokens are never part of one.

use std::time::Duration;

/// The request a failure belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// What was being done, in the caller's words ("claim ownership of", "blob upload").
    pub operation: &'static str,
    /// The HTTP method.
    pub method: &'static str,
    /// What was addressed, without query string (for listings: the container and prefix).
    pub url: String,
    /// The `x-ms-client-request-id` sent, to quote to support.
    pub client_request_id: String,
}

/// Why an Azure Storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The container or queue URL cannot be used.
    #[error("storage URL {url}: {reason}")]
    InvalidUrl {
        /// The URL, without its query string.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No HTTP client could be built (TLS set-up failed).
    #[error("cannot build an HTTP client for Azure Storage: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// No bearer token could be obtained for Azure Storage.
    #[error("cannot get a token for Azure Storage ({scope}) to {} {}: {source}", call.operation, call.url)]
    Credential {
        /// The request it was for.
        call: Box<Call>,
        /// The scope asked for.
        scope: &'static str,
        /// The credential's error (boxed: `azure_core::Error` is large).
        #[source]
        source: Box<azure_core::Error>,
    },
    /// The request did not get an answer (connection refused or reset, timeout).
    #[error("cannot {} {}: {source}", call.operation, call.url)]
    Transport {
        /// The request.
        call: Box<Call>,
        /// The transport error, stripped of its URL.
        #[source]
        source: reqwest::Error,
    },
    /// The service answered with a status other than 2xx.
    #[error("cannot {} {}: HTTP {status}{}{}", call.operation, call.url, code.as_deref().map(|c| format!(" {c}")).unwrap_or_default(), message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        /// The request.
        call: Box<Call>,
        /// The HTTP status.
        status: u16,
        /// The storage error code (`x-ms-error-code`, or `<Code>` in the body).
        code: Option<String>,
        /// The first line of the service's `<Message>` (at most 300 characters).
        message: Option<String>,
        /// `x-ms-request-id`, the service's id of the request.
        request_id: Option<String>,
        /// `Retry-After`, when the service sent one.
        retry_after: Option<Duration>,
    },
    /// A successful answer could not be read.
    #[error("cannot {} {}: unexpected answer: {reason}", call.operation, call.url)]
    BadResponse {
        /// The request.
        call: Box<Call>,
        /// What was missing or malformed.
        reason: String,
    },
}

impl StorageError {
    /// Whether trying the same request again may succeed: no answer, or 408, 429, 500, 502,
    /// 503, 504. The retry loop of [`StorageClient`](crate::StorageClient) asks this.
    pub fn is_transient(&self) -> bool {
        match self {
            StorageError::Transport { .. } => true,
            StorageError::Status { status, .. } => {
                matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
            }
            _ => false,
        }
    }

    /// The HTTP status, when the service answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            StorageError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The storage error code, when the service sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            StorageError::Status { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The service's `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            StorageError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The request, when the failure belongs to one.
    pub fn call(&self) -> Option<&Call> {
        match self {
            StorageError::Credential { call, .. }
            | StorageError::Transport { call, .. }
            | StorageError::Status { call, .. }
            | StorageError::BadResponse { call, .. } => Some(call),
            StorageError::InvalidUrl { .. } | StorageError::HttpClient(_) => None,
        }
    }
}

#[cfg(test)]
pub(crate) fn status_error(status: u16, code: Option<&str>) -> StorageError {
    StorageError::Status {
        call: Box::new(Call {
            operation: "x",
            method: "GET",
            url: "u".into(),
            client_request_id: "r".into(),
        }),
        status,
        code: code.map(str::to_string),
        message: None,
        request_id: None,
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_errors_say_what_failed_where() {
        let e = StorageError::Status {
            call: Box::new(Call {
                operation: "list blobs in",
                method: "GET",
                url: "https://acct.blob.core.windows.net/ckpt".into(),
                client_request_id: "r".into(),
            }),
            status: 403,
            code: Some("AuthenticationFailed".into()),
            message: Some("Server failed to authenticate the request.".into()),
            request_id: Some("rid".into()),
            retry_after: None,
        };
        assert_eq!(
            e.to_string(),
            "cannot list blobs in https://acct.blob.core.windows.net/ckpt: HTTP 403 AuthenticationFailed: Server failed to authenticate the request."
        );
        assert!(!e.is_transient());
        assert_eq!(
            (e.status(), e.code()),
            (Some(403), Some("AuthenticationFailed"))
        );
    }

    #[test]
    fn throttling_and_server_errors_are_transient() {
        for (status, transient) in [
            (408, true),
            (429, true),
            (500, true),
            (502, true),
            (503, true),
            (504, true),
            (501, false),
            (412, false),
            (404, false),
        ] {
            let e = status_error(status, None);
            assert_eq!(e.is_transient(), transient, "{status}");
            assert_eq!(e.to_string(), format!("cannot x u: HTTP {status}"));
        }
    }
}
