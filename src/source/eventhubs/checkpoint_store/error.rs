//! The checkpoint store's error type. Messages say which operation failed on which blob (the
//! URL without its query string, so a SAS signature never reaches a log) and how the service
//! answered; tokens are never part of one. The event processor wants `azure_core` errors, so
//! each variant also maps onto the matching [`azure_core::error::ErrorKind`].

use azure_core::error::ErrorKind as AzureErrorKind;
use iotc_adx_storage::StorageError;

/// Why a checkpoint store call failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointStoreError {
    /// The storage layer failed: a bad container URL, no token, no answer, or a status other
    /// than 2xx (with the service's code and message, never the SAS).
    #[error(transparent)]
    Storage(#[from] StorageError),
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
    /// A successful write lacked what the store needs (an `ETag`, a readable `Last-Modified`).
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
            CheckpointStoreError::Storage(e) => storage_kind(e),
            CheckpointStoreError::InvalidMetadata { .. }
            | CheckpointStoreError::BadResponse { .. } => AzureErrorKind::DataConversion,
            CheckpointStoreError::InvalidName { .. }
            | CheckpointStoreError::EmptyCheckpoint { .. } => AzureErrorKind::Other,
        }
    }

    /// Whether trying the same request again may succeed: no answer, or 408, 429, 500, 502,
    /// 503, 504 (the storage layer has already tried it again).
    pub fn is_transient(&self) -> bool {
        matches!(self, CheckpointStoreError::Storage(e) if e.is_transient())
    }
}

fn storage_kind(e: &StorageError) -> AzureErrorKind {
    match e {
        StorageError::Status { status, code, .. } => AzureErrorKind::HttpResponse {
            status: azure_core::http::StatusCode::from(*status),
            error_code: code.clone(),
            raw_response: None,
        },
        StorageError::Transport { source, .. } if source.is_connect() => AzureErrorKind::Connection,
        StorageError::Transport { .. } => AzureErrorKind::Io,
        StorageError::Credential { .. } => AzureErrorKind::Credential,
        StorageError::BadResponse { .. } => AzureErrorKind::DataConversion,
        StorageError::InvalidUrl { .. } | StorageError::HttpClient(_) => AzureErrorKind::Other,
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
    use iotc_adx_storage::Call;

    fn status(status: u16, code: Option<&str>, message: Option<&str>) -> CheckpointStoreError {
        CheckpointStoreError::Storage(StorageError::Status {
            call: Box::new(Call {
                operation: "list blobs in",
                method: "GET",
                url: "https://acct.blob.core.windows.net/ckpt".into(),
                client_request_id: "r".into(),
            }),
            status,
            code: code.map(str::to_string),
            message: message.map(str::to_string),
            request_id: None,
            retry_after: None,
        })
    }

    #[test]
    fn status_errors_map_to_http_response_kinds() {
        let e = status(
            403,
            Some("AuthenticationFailed"),
            Some("Server failed to authenticate the request."),
        );
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
        for (code, transient) in [
            (429, true),
            (503, true),
            (500, true),
            (412, false),
            (404, false),
        ] {
            assert_eq!(status(code, None, None).is_transient(), transient, "{code}");
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
