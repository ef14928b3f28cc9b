//! How the checkpoint store signs in to its container: the container URL's SAS, or a bearer
//! token from the configured credential.

use azure_core::credentials::TokenCredential;
use std::sync::Arc;

/// How the store authenticates to the container.
#[derive(Clone)]
pub enum ContainerAuth {
    /// The container URL carries a SAS in its query string (Azurite, or a SAS the operator
    /// hands over); no other credential is sent.
    Sas,
    /// A bearer token for `https://storage.azure.com/.default` from this credential (managed
    /// identity, service principal, ...), asked for on every call (the credential caches it).
    /// The identity needs *Storage Blob Data Contributor* on the container (or on the account,
    /// for [`BlobCheckpointStore::ensure_container`](super::BlobCheckpointStore::ensure_container) to create it).
    Token(Arc<dyn TokenCredential>),
}

impl std::fmt::Debug for ContainerAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContainerAuth::Sas => f.write_str("Sas"),
            ContainerAuth::Token(_) => f.write_str("Token(..)"),
        }
    }
}
