//! Why a credential could not be set up; its own file so that the credential builders can
//! return it without importing the module that re-exports them.

/// A credential could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The certificate file is unreadable or unusable.
    #[error("auth.certificate_path: cannot use {path}: {reason}")]
    Certificate {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// `azure_identity` refused the settings.
    #[error("cannot set up the {what} credential: {source}")]
    Credential {
        /// Which credential.
        what: String,
        /// What `azure_identity` said.
        #[source]
        source: azure_core::Error,
    },
}
