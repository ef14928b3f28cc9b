//! How requests to Azure Storage are signed: the SAS in the resource's URL, or a bearer token
//! from a credential.

use azure_core::credentials::TokenCredential;
use std::sync::Arc;

/// The scope of bearer tokens for Azure Storage.
pub const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";

/// How a [`StorageClient`](crate::StorageClient) authenticates. Exists because both users
/// need both: the checkpoint store takes a SAS or the service's identity, queued ingestion
/// always the SAS URLs Data Explorer hands out.
#[derive(Clone)]
pub enum StorageAuth {
    /// The resource URL carries a SAS in its query string (Azurite, a SAS the operator hands
    /// over, the URLs of `.get ingestion resources`); no other credential is sent.
    Sas,
    /// A bearer token for [`STORAGE_SCOPE`] from this credential (managed identity, service
    /// principal, ...), asked for on every request (the credential caches it). The identity
    /// needs a data role on the resource, e.g. *Storage Blob Data Contributor* on a container
    /// (on the account to create the container).
    Token(Arc<dyn TokenCredential>),
}

impl std::fmt::Debug for StorageAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageAuth::Sas => f.write_str("Sas"),
            StorageAuth::Token(_) => f.write_str("Token(..)"),
        }
    }
}
