//! Queued ingestion's Azure Storage calls, made through the workspace's storage layer
//! (`iotc_adx_storage`) with the SAS URLs `.get ingestion resources` hands out: upload a block
//! blob (with metadata) and read it back, post a queue message, take, release and delete queue
//! messages (for failure reports). Each call makes one attempt (the sink owns retries), and its
//! failure becomes a [`KustoError`] classified for the sink; the SAS never appears in one.

use super::error::{ErrorKind, KustoError};
use super::status::transport_error;
use bytes::Bytes;
use iotc_adx_storage::{
    ClientOptions, Condition, QueueMessage, ResourceUrl, StorageAuth, StorageClient, StorageError,
};
use std::time::Duration;

/// The storage service version sent as `x-ms-version`.
pub(super) const STORAGE_VERSION: &str = "2021-08-06";

/// Queued ingestion's storage calls, sharing the Kusto client's HTTP client and time limit.
#[derive(Debug, Clone)]
pub(super) struct Storage {
    client: StorageClient,
}

impl Storage {
    /// One attempt per call, ids named like the Kusto calls' (`iotc-adx.blob-upload;<uuid>`).
    pub fn new(http: reqwest::Client, timeout: Duration) -> Self {
        let options = ClientOptions {
            version: STORAGE_VERSION,
            timeout,
            attempts: 1,
            request_id_prefix: Some("iotc-adx"),
            ..ClientOptions::default()
        };
        Storage {
            client: StorageClient::with_http(StorageAuth::Sas, http, options),
        }
    }

    /// Uploads `body` as the block blob `name` in `container`, with `metadata` (ASCII names
    /// and values); returns the blob URL without SAS.
    pub async fn put_blob(
        &self,
        container: &ResourceUrl,
        name: &str,
        body: Bytes,
        metadata: &[(String, String)],
    ) -> Result<String, KustoError> {
        self.client
            .put_blob(
                "blob upload",
                container,
                name,
                Some((body, "application/octet-stream")),
                metadata,
                &Condition::None,
            )
            .await
            .map_err(storage_error)?;
        Ok(container.blob_display(name))
    }

    /// Reads the blob `name` of `container`: its metadata (names lowercase, without the
    /// `x-ms-meta-` prefix) and its content.
    pub async fn get_blob(
        &self,
        container: &ResourceUrl,
        name: &str,
    ) -> Result<(Vec<(String, String)>, Bytes), KustoError> {
        let blob = self
            .client
            .get_blob("blob read", container, name)
            .await
            .map_err(storage_error)?;
        Ok((blob.metadata, blob.body))
    }

    /// Posts `text` (already base64) as a message of `queue`.
    pub async fn put_message(&self, queue: &ResourceUrl, text: &str) -> Result<(), KustoError> {
        self.client
            .put_message("queue message post", queue, text)
            .await
            .map_err(storage_error)
    }

    /// Takes up to `max` (1..=32) messages of `queue`, hidden from others for `visibility`.
    pub async fn get_messages(
        &self,
        queue: &ResourceUrl,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<QueueMessage>, KustoError> {
        self.client
            .get_messages("queue message read", queue, max, visibility)
            .await
            .map_err(storage_error)
    }

    /// Sets when a message taken with [`Storage::get_messages`] is visible again
    /// (`Duration::ZERO`: at once); returns it with its new pop receipt.
    pub async fn set_visibility(
        &self,
        queue: &ResourceUrl,
        message: &QueueMessage,
        visibility: Duration,
    ) -> Result<QueueMessage, KustoError> {
        self.client
            .update_message("queue message update", queue, message, visibility)
            .await
            .map_err(storage_error)
    }

    /// Deletes a message taken with [`Storage::get_messages`].
    pub async fn delete_message(
        &self,
        queue: &ResourceUrl,
        message: &QueueMessage,
    ) -> Result<(), KustoError> {
        self.client
            .delete_message("queue message delete", queue, message)
            .await
            .map_err(storage_error)
    }
}

/// The kind of a non-success storage answer, from its status and storage error code.
pub(super) fn classify_storage(
    status: u16,
    code: Option<&str>,
    retry_after: Option<Duration>,
) -> ErrorKind {
    let code = code.unwrap_or("");
    if status == 403
        || status == 401
        || code.starts_with("AuthenticationFailed")
        || code.starts_with("AuthorizationFailure")
    {
        return ErrorKind::StorageAuth;
    }
    match status {
        413 => ErrorKind::TooLarge,
        429 => ErrorKind::Throttled,
        503 if retry_after.is_some() || code == "ServerBusy" => ErrorKind::Throttled,
        // A container or queue that vanished: fresh resources may name another one.
        404 | 408 | 500..=599 => ErrorKind::Transient,
        _ => ErrorKind::Permanent,
    }
}

/// A storage failure as the sink reads it: operation, method and URL (no SAS), status, code,
/// message, the service's request id as the activity id, `Retry-After` (kept for 429 and 503
/// only, as for Kusto's answers) and the cause.
pub(super) fn storage_error(e: StorageError) -> KustoError {
    let Some(call) = e.call().cloned() else {
        // A URL the layer refused: the resources are unusable as listed.
        return KustoError::new(ErrorKind::Permanent, "storage call").with_message(e.to_string());
    };
    let base = |kind| {
        KustoError::new(kind, call.operation)
            .with_target(call.method, &call.url)
            .with_client_request_id(&call.client_request_id)
    };
    match e {
        StorageError::Status {
            status,
            code,
            message,
            request_id,
            retry_after,
            ..
        } => {
            let retry_after = retry_after.filter(|_| status == 429 || status == 503);
            let mut err = base(classify_storage(status, code.as_deref(), retry_after));
            err.details.status = Some(status);
            err.details.code = code;
            err.details.message = message;
            err.details.activity_id = request_id;
            err.details.retry_after = retry_after;
            err
        }
        StorageError::Transport { source, .. } => transport_error(base, source),
        StorageError::BadResponse { reason, .. } => base(ErrorKind::Transient).with_message(reason),
        other => base(ErrorKind::Unauthorized).with_source(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iotc_adx_storage::Call;

    #[test]
    fn storage_classification_table() {
        use ErrorKind::*;
        let cases = [
            (403, Some("AuthenticationFailed"), None, StorageAuth),
            (403, None, None, StorageAuth),
            (401, None, None, StorageAuth),
            (400, Some("AuthenticationFailed"), None, StorageAuth),
            (503, Some("ServerBusy"), None, Throttled),
            (503, None, Some(Duration::from_secs(1)), Throttled),
            (503, None, None, Transient),
            (500, Some("InternalError"), None, Transient),
            (429, None, None, Throttled),
            (404, Some("QueueNotFound"), None, Transient),
            (413, Some("RequestBodyTooLarge"), None, TooLarge),
            (400, Some("InvalidXmlDocument"), None, Permanent),
        ];
        for (status, code, retry, want) in cases {
            assert_eq!(
                classify_storage(status, code, retry),
                want,
                "{status} {code:?}"
            );
        }
    }

    fn status(status: u16, code: &str, retry_after: Option<Duration>) -> StorageError {
        StorageError::Status {
            call: Box::new(Call {
                operation: "blob upload",
                method: "PUT",
                url: "http://h/a/c/b".into(),
                client_request_id: "r".into(),
            }),
            status,
            code: Some(code.into()),
            message: Some("Server failed to authenticate the request.".into()),
            request_id: Some("rid".into()),
            retry_after,
        }
    }

    #[test]
    fn storage_errors_keep_the_service_details() {
        let e = storage_error(status(403, "AuthenticationFailed", None));
        assert_eq!(e.kind(), ErrorKind::StorageAuth);
        assert_eq!(e.code(), Some("AuthenticationFailed"));
        assert_eq!(
            e.message(),
            Some("Server failed to authenticate the request.")
        );
        assert_eq!(e.activity_id(), Some("rid"));
        assert_eq!(
            e.to_string(),
            "blob upload failed (PUT http://h/a/c/b): HTTP 403 AuthenticationFailed: Server failed to authenticate the request. [storage authorization; activity id rid; client request id r]"
        );
        let wait = Some(Duration::from_secs(3));
        let e = storage_error(status(503, "", wait));
        assert_eq!((e.kind(), e.retry_after()), (ErrorKind::Throttled, wait));
        let e = storage_error(status(500, "", wait));
        assert_eq!(
            (e.kind(), e.retry_after()),
            (ErrorKind::Transient, None),
            "Retry-After on other statuses is ignored"
        );
    }
}
