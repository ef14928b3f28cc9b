//! What the identity server knows: registered applications, managed identities, token lifetime
//! and the App Service `IDENTITY_HEADER` secret. Everything not registered is refused the way
//! Entra ID / IMDS refuse it.

use std::time::Duration;

/// An application (service principal) registered in the tenant.
#[derive(Debug, Clone, Default)]
pub struct AppRegistration {
    /// Client (application) id.
    pub client_id: String,
    /// Its client secret, if it has one; `client_secret` requests must match it.
    pub client_secret: Option<String>,
    /// Whether certificate-style client assertions are accepted: a JWT whose `iss` and `sub` are
    /// the client id and whose `aud` is the token endpoint (the signature is not checked).
    pub accepts_certificate_assertions: bool,
    /// Federated identity credentials (workload identity): an assertion whose `iss`, `sub` and
    /// `aud` match one of these is accepted.
    pub federated_credentials: Vec<FederatedCredential>,
}

impl AppRegistration {
    /// An application that authenticates with `secret`.
    pub fn with_secret(client_id: &str, secret: &str) -> Self {
        AppRegistration {
            client_id: client_id.into(),
            client_secret: Some(secret.into()),
            ..Default::default()
        }
    }

    /// An application that accepts certificate-style client assertions.
    pub fn with_certificate_assertions(client_id: &str) -> Self {
        AppRegistration {
            client_id: client_id.into(),
            accepts_certificate_assertions: true,
            ..Default::default()
        }
    }

    /// An application with one federated credential (as AKS workload identity configures it).
    pub fn with_federated_credential(client_id: &str, credential: FederatedCredential) -> Self {
        AppRegistration {
            client_id: client_id.into(),
            federated_credentials: vec![credential],
            ..Default::default()
        }
    }
}

/// A federated identity credential: which external tokens may stand in for the application.
#[derive(Debug, Clone)]
pub struct FederatedCredential {
    /// The external issuer, e.g. a Kubernetes cluster's OIDC issuer URL.
    pub issuer: String,
    /// The external subject, e.g. `system:serviceaccount:<namespace>:<name>`.
    pub subject: String,
    /// The audience the external token must carry; Entra ID's default is
    /// [`FederatedCredential::DEFAULT_AUDIENCE`].
    pub audience: String,
}

impl FederatedCredential {
    /// The audience Entra ID expects in federated tokens unless configured otherwise.
    pub const DEFAULT_AUDIENCE: &'static str = "api://AzureADTokenExchange";

    /// A credential for `issuer`/`subject` with the default audience.
    pub fn new(issuer: &str, subject: &str) -> Self {
        FederatedCredential {
            issuer: issuer.into(),
            subject: subject.into(),
            audience: Self::DEFAULT_AUDIENCE.into(),
        }
    }
}

/// A managed identity the "host" has: the system-assigned one or a user-assigned one.
#[derive(Debug, Clone, Default)]
pub struct ManagedIdentity {
    /// Client id (what tokens are issued to and the `client_id` query parameter selects).
    pub client_id: String,
    /// Object (principal) id (`object_id` / `principal_id` selects it).
    pub object_id: String,
    /// ARM resource id (`msi_res_id` / `mi_res_id` selects it); empty for system-assigned.
    pub resource_id: String,
}

impl ManagedIdentity {
    /// A user-assigned identity called `name` with fresh ids and a plausible resource id.
    pub fn user_assigned(name: &str) -> Self {
        ManagedIdentity {
            client_id: uuid::Uuid::new_v4().to_string(),
            object_id: uuid::Uuid::new_v4().to_string(),
            resource_id: format!(
                "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/testkit/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
            ),
        }
    }

    /// A system-assigned identity with fresh ids.
    pub fn system_assigned() -> Self {
        ManagedIdentity {
            client_id: uuid::Uuid::new_v4().to_string(),
            object_id: uuid::Uuid::new_v4().to_string(),
            resource_id: String::new(),
        }
    }
}

/// Configuration of an [`super::IdentityServer`].
#[derive(Debug, Clone)]
pub struct IdentityOptions {
    /// Registered applications, for the Entra ID token endpoint.
    pub applications: Vec<AppRegistration>,
    /// The host's system-assigned identity, if it has one.
    pub system_assigned: Option<ManagedIdentity>,
    /// The host's user-assigned identities.
    pub user_assigned: Vec<ManagedIdentity>,
    /// Lifetime of issued tokens (at least one second; changeable at run time).
    pub token_lifetime: Duration,
    /// The secret App Service puts in `IDENTITY_HEADER`; requests must echo it in `X-IDENTITY-HEADER`.
    pub identity_header: String,
}

impl Default for IdentityOptions {
    fn default() -> Self {
        IdentityOptions {
            applications: Vec::new(),
            system_assigned: None,
            user_assigned: Vec::new(),
            token_lifetime: Duration::from_secs(3599),
            identity_header: uuid::Uuid::new_v4().to_string(),
        }
    }
}
