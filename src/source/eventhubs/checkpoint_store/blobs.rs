//! The store's container, on the shared Azure Storage layer (`iotc_adx_storage`): which calls
//! the store makes (create the container, write an empty blob or a blob's metadata under a
//! precondition, list a prefix), what a successful write must answer, and what a failed claim
//! means. Signing, headers, the 30 s time limit and up to 3 attempts for transient failures
//! (no answer, 408, 429, 5xx, waiting as `Retry-After` asks) are the storage layer's.

use super::error::CheckpointStoreError;
use super::records::{http_date, Metadata};
use azure_core::time::OffsetDateTime;
use iotc_adx_storage::{
    quoted_etag, ClientOptions, Condition, ListedBlob, ResourceUrl, StorageAuth, StorageClient,
    StorageError,
};
use url::Url;

/// What a successful write answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Written {
    /// The blob's new ETag, quoted.
    pub etag: String,
    /// The blob's new `Last-Modified`.
    pub last_modified: Option<OffsetDateTime>,
}

/// The checkpoint container and the client that reaches it.
#[derive(Debug, Clone)]
pub(super) struct Blobs {
    client: StorageClient,
    container: ResourceUrl,
}

impl Blobs {
    /// Checks the container URL against the chosen authentication and keeps what the calls need.
    pub(super) fn new(
        container_url: Url,
        auth: StorageAuth,
        http: Option<reqwest::Client>,
    ) -> Result<Self, CheckpointStoreError> {
        let client = StorageClient::new(auth, http, ClientOptions::default())?;
        let container = client.resource(container_url)?;
        Ok(Blobs { client, container })
    }

    /// The container URL for messages (no query string).
    pub(super) fn container_display(&self) -> String {
        self.container.display()
    }

    /// A blob's URL for messages (no query string).
    pub(super) fn blob_display(&self, name: &str) -> String {
        self.container.blob_display(name)
    }

    /// Creates the container; `Ok(false)` when it already existed.
    pub(super) async fn create_container(&self) -> Result<bool, CheckpointStoreError> {
        Ok(self
            .client
            .create_container("create the checkpoint container", &self.container)
            .await?)
    }

    /// Uploads an empty block blob carrying `metadata`.
    pub(super) async fn put_blob(
        &self,
        operation: &'static str,
        name: &str,
        metadata: &Metadata,
        condition: &Condition,
    ) -> Result<Written, CheckpointStoreError> {
        let answer = self
            .client
            .put_blob(operation, &self.container, name, None, metadata, condition)
            .await?;
        self.written(operation, name, answer)
    }

    /// Replaces a blob's metadata with `metadata`.
    pub(super) async fn set_metadata(
        &self,
        operation: &'static str,
        name: &str,
        metadata: &Metadata,
        condition: &Condition,
    ) -> Result<Written, CheckpointStoreError> {
        let answer = self
            .client
            .set_blob_metadata(operation, &self.container, name, metadata, condition)
            .await?;
        self.written(operation, name, answer)
    }

    /// Every blob under `prefix`, all pages, with their metadata.
    pub(super) async fn list_all(
        &self,
        prefix: &str,
    ) -> Result<Vec<ListedBlob>, CheckpointStoreError> {
        Ok(self
            .client
            .list_blobs("list checkpoint store blobs in", &self.container, prefix)
            .await?)
    }

    /// The ETag (required: it is the ownership's version) and the time of a write.
    fn written(
        &self,
        operation: &'static str,
        name: &str,
        answer: iotc_adx_storage::Written,
    ) -> Result<Written, CheckpointStoreError> {
        let bad = |reason: String| CheckpointStoreError::BadResponse {
            operation,
            url: self.blob_display(name),
            reason,
        };
        let etag = answer.etag.ok_or_else(|| bad("no ETag header".into()))?;
        let last_modified = answer
            .last_modified
            .as_deref()
            .map(http_date)
            .transpose()
            .map_err(bad)?;
        Ok(Written {
            etag: quoted_etag(&etag),
            last_modified,
        })
    }
}

/// Whether a failed claim means another processor got there first (or the state the caller
/// held is stale): 412 (`If-Match` failed, or `If-None-Match: *` on some services), 409
/// (`BlobAlreadyExists` for `If-None-Match: *`), or 404 for the blob (deleted since listed).
/// Such a claim is simply not granted; anything else is an error.
pub(super) fn lost_claim(e: &CheckpointStoreError) -> bool {
    match e {
        CheckpointStoreError::Storage(StorageError::Status {
            status: 412 | 409, ..
        }) => true,
        CheckpointStoreError::Storage(StorageError::Status {
            status: 404, code, ..
        }) => code.as_deref() != Some("ContainerNotFound"),
        _ => false,
    }
}

/// Whether setting metadata failed because the blob does not exist yet.
pub(super) fn blob_missing(e: &CheckpointStoreError) -> bool {
    matches!(e, CheckpointStoreError::Storage(StorageError::Status { status: 404, code, .. }) if code.as_deref() != Some("ContainerNotFound"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use iotc_adx_storage::Call;

    fn status(status: u16, code: Option<&str>) -> CheckpointStoreError {
        CheckpointStoreError::Storage(StorageError::Status {
            call: Box::new(Call {
                operation: "claim",
                method: "PUT",
                url: "u".into(),
                client_request_id: "r".into(),
            }),
            status,
            code: code.map(str::to_string),
            message: None,
            request_id: None,
            retry_after: None,
        })
    }

    #[test]
    fn etag_conflicts_lose_the_claim_other_failures_do_not() {
        assert!(lost_claim(&status(412, Some("ConditionNotMet"))));
        assert!(lost_claim(&status(409, Some("BlobAlreadyExists"))));
        assert!(lost_claim(&status(404, Some("BlobNotFound"))));
        assert!(!lost_claim(&status(404, Some("ContainerNotFound"))));
        assert!(!lost_claim(&status(403, Some("AuthenticationFailed"))));
        assert!(!lost_claim(&status(500, None)));
        assert!(blob_missing(&status(404, Some("BlobNotFound"))));
        assert!(!blob_missing(&status(404, Some("ContainerNotFound"))));
    }

    #[test]
    fn container_urls_are_checked_and_keep_their_sas_out_of_messages() {
        let bad = |url: &str| {
            Blobs::new(Url::parse(url).unwrap(), StorageAuth::Sas, None)
                .unwrap_err()
                .to_string()
        };
        assert!(bad("ftp://host/c").contains("scheme"));
        assert!(bad("https://acct.blob.core.windows.net/").contains("no container"));
        let b = Blobs::new(
            Url::parse("http://127.0.0.1:10000/devstoreaccount1/ckpt/?sv=1&sig=SECRET").unwrap(),
            StorageAuth::Sas,
            None,
        )
        .unwrap();
        assert_eq!(
            b.container_display(),
            "http://127.0.0.1:10000/devstoreaccount1/ckpt"
        );
        assert_eq!(
            b.blob_display("ns/hub/$default/ownership/0"),
            "http://127.0.0.1:10000/devstoreaccount1/ckpt/ns/hub/$default/ownership/0"
        );
        assert!(!format!("{b:?}").contains("SECRET"));
    }
}
