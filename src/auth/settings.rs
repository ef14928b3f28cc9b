//! `[auth]`: which identity the service signs in as, first as written (serde types that
//! refuse unknown keys), then checked into [`AuthSettings`] with each problem's key path.

use super::{AuthSettings, ServicePrincipalProof, UserAssigned, DEFAULT_AUTHORITY_HOST};
use crate::settings_check::Checker;
use serde::Deserialize;

/// `[auth]`: the identity used towards Azure.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthConfig {
    /// No credentials, for local emulators.
    None(EmptyAuthConfig),
    /// Managed identity.
    ManagedIdentity(ManagedIdentityConfig),
    /// Service principal with a secret or a certificate.
    ServicePrincipal(ServicePrincipalConfig),
    /// AKS workload identity.
    WorkloadIdentity(WorkloadIdentityConfig),
    /// Azure CLI login, for developers.
    AzureCli(AzureCliConfig),
}

/// `[auth] type = "none"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmptyAuthConfig {}

/// `[auth] type = "managed_identity"`; at most one id, none for the system-assigned identity.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagedIdentityConfig {
    /// A user-assigned identity's client id.
    pub client_id: Option<String>,
    /// A user-assigned identity's object id.
    pub object_id: Option<String>,
    /// A user-assigned identity's resource id.
    pub resource_id: Option<String>,
}

/// `[auth] type = "service_principal"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicePrincipalConfig {
    /// Directory (tenant) id.
    pub tenant_id: String,
    /// Application (client) id.
    pub client_id: String,
    /// Client secret (prefer `IOTC_ADX__AUTH__CLIENT_SECRET`).
    pub client_secret: Option<String>,
    /// PEM file with the private key and the certificate.
    pub certificate_path: Option<String>,
    /// Entra ID authority (default `https://login.microsoftonline.com`).
    pub authority_host: Option<String>,
}

/// `[auth] type = "workload_identity"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadIdentityConfig {
    /// Tenant id (default `AZURE_TENANT_ID`).
    pub tenant_id: Option<String>,
    /// Client id (default `AZURE_CLIENT_ID`).
    pub client_id: Option<String>,
    /// Federated token file (default `AZURE_FEDERATED_TOKEN_FILE`).
    pub token_file: Option<String>,
    /// Entra ID authority (default `https://login.microsoftonline.com`).
    pub authority_host: Option<String>,
}

/// `[auth] type = "azure_cli"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureCliConfig {
    /// Tenant (default: the CLI's).
    pub tenant_id: Option<String>,
}

impl AuthSettings {
    /// Checks `[auth]`; problems are recorded under `auth` or `auth.<key>`.
    pub(crate) fn from_config(c: &mut Checker, a: AuthConfig) -> Option<Self> {
        let before = c.problems_len();
        let settings = match a {
            AuthConfig::None(_) => AuthSettings::None,
            AuthConfig::ManagedIdentity(m) => managed_identity(c, m),
            AuthConfig::ServicePrincipal(sp) => service_principal(c, sp)?,
            AuthConfig::WorkloadIdentity(w) => AuthSettings::WorkloadIdentity {
                tenant_id: w.tenant_id,
                client_id: w.client_id,
                token_file: w.token_file.map(|p| c.path(&p)),
                authority_host: authority(c, w.authority_host)?,
            },
            AuthConfig::AzureCli(a) => AuthSettings::AzureCli {
                tenant_id: a.tenant_id,
            },
        };
        (c.problems_len() == before).then_some(settings)
    }
}

fn managed_identity(c: &mut Checker, m: ManagedIdentityConfig) -> AuthSettings {
    let ids: Vec<UserAssigned> = [
        m.client_id.map(UserAssigned::ClientId),
        m.object_id.map(UserAssigned::ObjectId),
        m.resource_id.map(UserAssigned::ResourceId),
    ]
    .into_iter()
    .flatten()
    .collect();
    if ids.len() > 1 {
        c.problem("auth", "set at most one of client_id, object_id and resource_id (none means the system-assigned identity)");
    }
    AuthSettings::ManagedIdentity {
        user_assigned: ids.into_iter().next(),
    }
}

fn service_principal(c: &mut Checker, sp: ServicePrincipalConfig) -> Option<AuthSettings> {
    not_blank(c, "auth.tenant_id", &sp.tenant_id);
    not_blank(c, "auth.client_id", &sp.client_id);
    let proof = match (sp.client_secret, sp.certificate_path) {
        (Some(secret), None) if !secret.is_empty() => Some(ServicePrincipalProof::Secret(secret)),
        (None, Some(path)) => Some(ServicePrincipalProof::Certificate(c.path(&path))),
        (Some(_), Some(_)) => {
            c.problem(
                "auth",
                "set either client_secret or certificate_path, not both",
            );
            None
        }
        _ => {
            c.problem(
                "auth.client_secret",
                "missing: set client_secret (better through IOTC_ADX__AUTH__CLIENT_SECRET) or certificate_path",
            );
            None
        }
    };
    let authority_host = authority(c, sp.authority_host);
    Some(AuthSettings::ServicePrincipal {
        tenant_id: sp.tenant_id,
        client_id: sp.client_id,
        proof: proof?,
        authority_host: authority_host?,
    })
}

fn not_blank(c: &mut Checker, key: &str, value: &str) {
    if value.trim().is_empty() {
        c.problem(key, "must not be empty");
    }
}

fn authority(c: &mut Checker, host: Option<String>) -> Option<String> {
    let host = host.unwrap_or_else(|| DEFAULT_AUTHORITY_HOST.to_string());
    match url::Url::parse(&host) {
        Ok(u) if u.scheme() == "https" => Some(host.trim_end_matches('/').to_string()),
        _ => {
            c.problem(
                "auth.authority_host",
                format!("{host:?} must be an https URL such as {DEFAULT_AUTHORITY_HOST:?}"),
            );
            None
        }
    }
}
