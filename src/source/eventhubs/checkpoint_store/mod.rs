//! A blob checkpoint store for the official Event Hubs event processor
//! (`azure_messaging_eventhubs` 0.16): partition ownership and checkpoints kept as empty blobs
//! with metadata in one Azure Storage container, so that every replica of iotc-adx (and a
//! consumer using the official Python blob checkpoint store on the same hub and consumer
//! group, see `tests/checkpoint_interop.rs`) shares them.
//!
//! The official `azure_messaging_eventhubs_checkpointstore_blob` crate builds only against
//! eventhubs 0.15, and `azure_storage_blob` wants another `azure_core` than eventhubs 0.16, so
//! this store speaks Blob REST through the workspace's own storage layer (`crates/storage`,
//! shared with queued ingestion). It keeps the Python store's layout: blob names
//! `{namespace}/{hub}/{consumer group}/ownership/{partition}` and
//! `.../checkpoint/{partition}` (lowercased), metadata `ownerid`, `sequencenumber` and
//! `offset`, and optimistic concurrency on ETags for ownership.
//!
//! Files: `blobs.rs` the store's calls on the storage layer and what their failures mean,
//! `names.rs` the blob names, `records.rs` metadata to and from ownerships and checkpoints,
//! `store.rs` the trait, `error.rs` the error type.

mod blobs;
mod error;
mod names;
mod records;
mod store;

pub use error::CheckpointStoreError;
/// How the store signs in to its container: the container URL's SAS, or a bearer token for
/// Azure Storage from a credential (the identity needs *Storage Blob Data Contributor* on the
/// container, or on the account for [`BlobCheckpointStore::ensure_container`] to create it).
pub use iotc_adx_storage::StorageAuth as ContainerAuth;

use std::sync::Arc;

/// Partition ownership and checkpoints in an Azure Storage blob container; implements the
/// event processor's [`azure_messaging_eventhubs::CheckpointStore`]. Cheap to clone: clones
/// share one HTTP client.
#[derive(Debug, Clone)]
pub struct BlobCheckpointStore {
    blobs: Arc<blobs::Blobs>,
    /// Told what is listed and claimed, so readers can wait out a previous owner's batches.
    handovers: Option<Arc<super::handover::Handovers>>,
}

impl BlobCheckpointStore {
    /// A store on the container at `container_url`
    /// (`https://ACCOUNT.blob.core.windows.net/CONTAINER`, with `?SAS` for [`ContainerAuth::Sas`]).
    /// `http` lets the caller share a client (proxies, connection pool); `None` builds one.
    /// Fails when the URL names no container, or when a token would travel over plain http to
    /// another host than loopback. Nothing is sent yet.
    pub fn new(
        container_url: url::Url,
        auth: ContainerAuth,
        http: Option<reqwest::Client>,
    ) -> Result<Self, CheckpointStoreError> {
        Ok(BlobCheckpointStore {
            blobs: Arc::new(blobs::Blobs::new(container_url, auth, http)?),
            handovers: None,
        })
    }

    /// Reports listed and claimed ownerships to `handovers`.
    pub fn with_handovers(mut self, handovers: Arc<super::handover::Handovers>) -> Self {
        self.handovers = Some(handovers);
        self
    }

    /// The container URL without query string, for logs.
    pub fn container(&self) -> String {
        self.blobs.container_display()
    }

    /// Creates the container when it is missing; an existing one is fine. Fails with the
    /// service's answer (and the URL without its SAS) when the container can neither be
    /// created nor be found to exist, e.g. for lack of permission.
    pub async fn ensure_container(&self) -> Result<(), CheckpointStoreError> {
        if self.blobs.create_container().await? {
            tracing::info!(container = %self.container(), "created the checkpoint container");
        }
        Ok(())
    }
}
