//! The checkpoint store's error type. Messages say which operation failed on which blob (the
//! URL without its query string, so a SAS signature never reaches a log) and how the service
//! answered; tokens are never part of one. The event processor wants `azure_core` errors, so
//! each variant also maps onto the matching [`azure_core::error::ErrorKind`].

use azure_core::error::ErrorKind as AzureErrorKind;

/// Why a checkpoint store call failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointStoreError {
    /// The container URL cannot be used.
    #[error("container URL {url}: {reason}")]
    InvalidUrl {
        /// The URL, without its query string.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No HTTP client could be built (TLS set-up failed).
    #[error("cannot build an HTTP client for the checkpoint store: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// A part of a blob name is empty or holds a `/`.
    #[error("cannot name a checkpoint store blob from {field} {value:?}: {reason}")]
    InvalidName {
        /// Which part: namespace, event hub, consumer group or partition id.
        field: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A checkpoint with neither a sequence number nor an offset names no position; writing it
    /// would erase the one the blob holds.
    #[error("checkpoint for {blob} has neither a sequence number nor an offset")]
    EmptyCheckpoint {
        /// The blob it was meant for.
        blob: String,
    },
    /// A metadata value cannot be written, or a listed blob's metadata cannot be read.
    #[error("metadata of {blob}: {reason}")]
    InvalidMetadata {
        /// The blob URL, without query string.
        blob: String,
        /// What is wrong.
        reason: String,
    },
    /// No bearer token could be obtained for Azure Storage.
    #[error("cannot get a token for Azure Storage ({scope}) to {operation} {url}: {source}")]
    Credential {
        /// What was about to be done.
        operation: &'static str,
        /// The URL, without query string.
        url: String,
        /// The scope asked for.
        scope: &'static str,
        /// The credential's error (boxed: `azure_core::Error` is large).
        #[source]
        source: Box<azure_core::Error>,
    },
    /// The request did not get an answer (connection refused or reset, timeout).
    #[error("cannot {operation} {url}: {source}")]
    Transport {
        /// What was being done.
        operation: &'static str,
        /// The URL, without query string.
        url: String,
        /// The transport error, stripped of its URL.
        #[source]
        source: reqwest::Error,
    },
    /// The service answered with an unexpected status.
    #[error("cannot {operation} {url}: HTTP {status}{}{}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default(), message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        /// What was being done.
        operation: &'static str,
        /// The URL, without query string.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The storage error code (`x-ms-error-code`, or `<Code>` in the body).
        code: Option<String>,
        /// The first line of the service's `<Message>`.
        message: Option<String>,
    },
    /// A successful answer lacked something the store needs (an `ETag`, a parsable body).
    #[error("cannot {operation} {url}: unexpected answer: {reason}")]
    BadResponse {
        /// What was being done.
        operation: &'static str,
        /// The URL, without query string.
        url: String,
        /// What was missing or malformed.
        reason: String,
    },
}

impl CheckpointStoreError {
    /// The `azure_core` kind the event processor sees.
    pub fn azure_kind(&self) -> AzureErrorKind {
        match self {
            CheckpointStoreError::Status { status, code, .. } => AzureErrorKind::HttpResponse {
                status: azure_core::http::StatusCode::from(*status),
                error_code: code.clone(),
                raw_response: None,
            },
            CheckpointStoreError::Transport { source, .. } if source.is_connect() => {
                AzureErrorKind::Connection
            }
            CheckpointStoreError::Transport { .. } => AzureErrorKind::Io,
            CheckpointStoreError::Credential { .. } => AzureErrorKind::Credential,
            CheckpointStoreError::InvalidMetadata { .. }
            | CheckpointStoreError::BadResponse { .. } => AzureErrorKind::DataConversion,
            CheckpointStoreError::InvalidUrl { .. }
            | CheckpointStoreError::HttpClient(_)
            | CheckpointStoreError::InvalidName { .. }
            | CheckpointStoreError::EmptyCheckpoint { .. } => AzureErrorKind::Other,
        }
    }

    /// Whether trying the same request again may succeed: no answer, or 408, 429, 500, 502,
    /// 503, 504.
    pub fn is_transient(&self) -> bool {
        match self {
            CheckpointStoreError::Transport { .. } => true,
            CheckpointStoreError::Status { status, .. } => {
                matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
            }
            _ => false,
        }
    }
}

impl From<CheckpointStoreError> for azure_core::Error {
    fn from(e: CheckpointStoreError) -> Self {
        azure_core::Error::new(e.azure_kind(), e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_errors_map_to_http_response_kinds() {
        let e = CheckpointStoreError::Status {
            operation: "list blobs in",
            url: "https://acct.blob.core.windows.net/ckpt".into(),
            status: 403,
            code: Some("AuthenticationFailed".into()),
            message: Some("Server failed to authenticate the request.".into()),
        };
        assert_eq!(
            e.to_string(),
            "cannot list blobs in https://acct.blob.core.windows.net/ckpt: HTTP 403 AuthenticationFailed: Server failed to authenticate the request."
        );
        assert!(!e.is_transient());
        let az: azure_core::Error = e.into();
        assert_eq!(
            az.http_status(),
            Some(azure_core::http::StatusCode::Forbidden)
        );
        assert!(az.to_string().contains("AuthenticationFailed"), "{az}");
    }

    #[test]
    fn throttling_and_server_errors_are_transient() {
        for (status, transient) in [
            (429, true),
            (503, true),
            (500, true),
            (412, false),
            (404, false),
        ] {
            let e = CheckpointStoreError::Status {
                operation: "x",
                url: "u".into(),
                status,
                code: None,
                message: None,
            };
            assert_eq!(e.is_transient(), transient, "{status}");
            assert_eq!(e.to_string(), format!("cannot x u: HTTP {status}"));
        }
    }

    #[test]
    fn data_problems_are_data_conversion() {
        let e = CheckpointStoreError::InvalidMetadata {
            blob: "b".into(),
            reason: "r".into(),
        };
        assert_eq!(e.azure_kind(), AzureErrorKind::DataConversion);
        let e = CheckpointStoreError::EmptyCheckpoint { blob: "b".into() };
        assert_eq!(e.azure_kind(), AzureErrorKind::Other);
    }
}
