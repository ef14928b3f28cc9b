//! Authentication to Azure (Data Explorer, and Event Hubs and Storage later): the `[auth]`
//! section picks one `azure_identity` credential, shared by every client of the service.
//!
//! Tokens are requested per call with `get_token`; `azure_identity` caches them per scope and
//! fetches a new one five minutes before expiry, so no cache of our own is needed.

mod certificate;
mod error;
mod metrics;
pub mod settings;

pub use certificate::CertificateAssertion;
pub use error::AuthError;
pub use metrics::CountedCredential;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::ClientOptions;
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertionCredential,
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Entra ID's public-cloud authority.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";

/// Validated `[auth]`: which identity the service signs in as.
#[derive(Clone, PartialEq, Eq)]
pub enum AuthSettings {
    /// No `Authorization` header: for local emulators only.
    None,
    /// The Azure resource's managed identity (VM, AKS node, Container Apps, App Service).
    ManagedIdentity {
        /// A user-assigned identity; `None` for the system-assigned one.
        user_assigned: Option<UserAssigned>,
    },
    /// An app registration with a client secret or a certificate.
    ServicePrincipal {
        /// Directory (tenant) id.
        tenant_id: String,
        /// Application (client) id.
        client_id: String,
        /// How the application proves itself.
        proof: ServicePrincipalProof,
        /// Entra ID authority, for sovereign clouds.
        authority_host: String,
    },
    /// AKS workload identity: a federated Kubernetes service-account token.
    WorkloadIdentity {
        /// Tenant id; `None` reads `AZURE_TENANT_ID` (set by the AKS webhook).
        tenant_id: Option<String>,
        /// Client id; `None` reads `AZURE_CLIENT_ID`.
        client_id: Option<String>,
        /// Token file; `None` reads `AZURE_FEDERATED_TOKEN_FILE`.
        token_file: Option<PathBuf>,
        /// Entra ID authority, for sovereign clouds.
        authority_host: String,
    },
    /// The developer's `az login` session.
    AzureCli {
        /// Tenant to get tokens from; `None` for the CLI's default.
        tenant_id: Option<String>,
    },
}

/// Which user-assigned managed identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserAssigned {
    /// By client id.
    ClientId(String),
    /// By object (principal) id.
    ObjectId(String),
    /// By Azure resource id.
    ResourceId(String),
}

/// A service principal's proof of identity.
#[derive(Clone, PartialEq, Eq)]
pub enum ServicePrincipalProof {
    /// A client secret.
    Secret(String),
    /// A PEM file with an RSA private key and its certificate.
    Certificate(PathBuf),
}

impl fmt::Debug for AuthSettings {
    // Hand-written so that a client secret never reaches a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl AuthSettings {
    /// The kind of credential, as a metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            AuthSettings::None => "none",
            AuthSettings::ManagedIdentity { .. } => "managed_identity",
            AuthSettings::ServicePrincipal { .. } => "service_principal",
            AuthSettings::WorkloadIdentity { .. } => "workload_identity",
            AuthSettings::AzureCli { .. } => "azure_cli",
        }
    }

    /// A one-line description for logs and `check`, without secrets.
    pub fn describe(&self) -> String {
        match self {
            AuthSettings::None => "none (no Authorization header)".into(),
            AuthSettings::ManagedIdentity {
                user_assigned: None,
            } => "managed identity (system-assigned)".into(),
            AuthSettings::ManagedIdentity {
                user_assigned: Some(id),
            } => format!("managed identity (user-assigned, {id:?})"),
            AuthSettings::ServicePrincipal {
                tenant_id,
                client_id,
                proof,
                ..
            } => {
                let how = match proof {
                    ServicePrincipalProof::Secret(_) => "client secret".to_string(),
                    ServicePrincipalProof::Certificate(p) => format!("certificate {}", p.display()),
                };
                format!("service principal {client_id} in tenant {tenant_id} with a {how}")
            }
            AuthSettings::WorkloadIdentity { client_id, .. } => {
                format!(
                    "workload identity ({})",
                    client_id
                        .as_deref()
                        .unwrap_or("client id from AZURE_CLIENT_ID")
                )
            }
            AuthSettings::AzureCli { .. } => "Azure CLI (az login)".into(),
        }
    }
}

/// Builds the credential `settings` name; `None` for [`AuthSettings::None`].
///
/// `options` carries the HTTP transport; tests pass one that trusts a local token endpoint.
pub fn credential(
    settings: &AuthSettings,
    options: ClientOptions,
) -> Result<Option<Arc<dyn TokenCredential>>, AuthError> {
    let failed = |what: &str| {
        let what = what.to_string();
        move |source| AuthError::Credential { what, source }
    };
    let credential: Arc<dyn TokenCredential> = match settings {
        AuthSettings::None => return Ok(None),
        AuthSettings::ManagedIdentity { user_assigned } => {
            let user_assigned_id = user_assigned.as_ref().map(|id| match id {
                UserAssigned::ClientId(v) => UserAssignedId::ClientId(v.clone()),
                UserAssigned::ObjectId(v) => UserAssignedId::ObjectId(v.clone()),
                UserAssigned::ResourceId(v) => UserAssignedId::ResourceId(v.clone()),
            });
            // The options struct may gain fields in a minor azure_identity release: keep
            // `..Default::default()` even while it names every field.
            #[allow(clippy::needless_update)]
            let options = ManagedIdentityCredentialOptions {
                user_assigned_id,
                client_options: options,
                ..Default::default()
            };
            ManagedIdentityCredential::new(Some(options)).map_err(failed("managed identity"))?
        }
        AuthSettings::ServicePrincipal {
            tenant_id,
            client_id,
            proof,
            authority_host,
        } => {
            let client_options = with_authority(options, authority_host);
            match proof {
                ServicePrincipalProof::Secret(secret) => ClientSecretCredential::new(
                    tenant_id,
                    client_id.clone(),
                    Secret::new(secret.clone()),
                    Some(ClientSecretCredentialOptions { client_options }),
                )
                .map_err(failed("service principal"))?,
                ServicePrincipalProof::Certificate(path) => {
                    let endpoint = format!(
                        "{}/{tenant_id}/oauth2/v2.0/token",
                        authority_host.trim_end_matches('/')
                    );
                    let assertion =
                        CertificateAssertion::from_pem_file(path, client_id, &endpoint)?;
                    ClientAssertionCredential::new(
                        tenant_id.clone(),
                        client_id.clone(),
                        assertion,
                        Some(ClientAssertionCredentialOptions { client_options }),
                    )
                    .map_err(failed("service principal certificate"))?
                }
            }
        }
        AuthSettings::WorkloadIdentity {
            tenant_id,
            client_id,
            token_file,
            authority_host,
        } => {
            let options = WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions {
                    client_options: with_authority(options, authority_host),
                },
                client_id: client_id.clone(),
                tenant_id: tenant_id.clone(),
                token_file_path: token_file.clone(),
                ..Default::default()
            };
            WorkloadIdentityCredential::new(Some(options)).map_err(failed("workload identity"))?
        }
        AuthSettings::AzureCli { tenant_id } => {
            let options = AzureCliCredentialOptions {
                tenant_id: tenant_id.clone(),
                ..Default::default()
            };
            AzureCliCredential::new(Some(options)).map_err(failed("Azure CLI"))?
        }
    };
    Ok(Some(Arc::new(CountedCredential::new(
        credential,
        settings.kind(),
    ))))
}

/// Client options pointing Entra ID credentials at `authority_host` (unchanged for the
/// public cloud).
fn with_authority(mut options: ClientOptions, authority_host: &str) -> ClientOptions {
    if authority_host.trim_end_matches('/') != DEFAULT_AUTHORITY_HOST {
        let mut cloud = CustomConfiguration::default();
        cloud.authority_host = authority_host.to_string();
        options.cloud = Some(Arc::new(CloudConfiguration::from(cloud)));
    }
    options
}

/// The token scope for a resource URL: `https://x.kusto.windows.net` → `https://x.kusto.windows.net/.default`.
pub fn scope_for(resource: &str) -> String {
    format!("{}/.default", resource.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_never_show_secrets() {
        let s = AuthSettings::ServicePrincipal {
            tenant_id: "t".into(),
            client_id: "c".into(),
            proof: ServicePrincipalProof::Secret("hunter2".into()),
            authority_host: DEFAULT_AUTHORITY_HOST.into(),
        };
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(s.describe().contains("client secret"));
    }

    #[test]
    fn scopes_come_from_the_resource() {
        assert_eq!(
            scope_for("https://x.kusto.windows.net/"),
            "https://x.kusto.windows.net/.default"
        );
    }

    #[test]
    fn a_missing_certificate_names_the_key_and_file() {
        let s = AuthSettings::ServicePrincipal {
            tenant_id: "t".into(),
            client_id: "c".into(),
            proof: ServicePrincipalProof::Certificate("/nonexistent/sp.pem".into()),
            authority_host: DEFAULT_AUTHORITY_HOST.into(),
        };
        let err = credential(&s, ClientOptions::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("auth.certificate_path") && err.contains("/nonexistent/sp.pem"),
            "{err}"
        );
    }
}
