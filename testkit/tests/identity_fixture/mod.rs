//! The applications and names the identity tests register, shared by the plain-HTTP endpoint
//! tests and the `azure_identity` credential tests.

#![allow(dead_code)]

use iotc_adx_testkit::identity::{AppRegistration, FederatedCredential};

/// An application with a client secret.
pub const APP: &str = "11111111-1111-1111-1111-111111111111";
/// Its secret.
pub const SECRET: &str = "s3cret~value";
/// An application that accepts certificate-style client assertions.
pub const CERT_APP: &str = "22222222-2222-2222-2222-222222222222";
/// An application with a federated credential (workload identity).
pub const FED_APP: &str = "33333333-3333-3333-3333-333333333333";
/// The federated credential's issuer.
pub const ISSUER: &str = "https://oidc.testkit.local/cluster";
/// The federated credential's subject.
pub const SUBJECT: &str = "system:serviceaccount:default:workload";
/// The Event Hubs audience.
pub const EH: &str = "https://eventhubs.azure.net";

/// The three applications above, registered.
pub fn applications() -> Vec<AppRegistration> {
    vec![
        AppRegistration::with_secret(APP, SECRET),
        AppRegistration::with_certificate_assertions(CERT_APP),
        AppRegistration::with_federated_credential(
            FED_APP,
            FederatedCredential::new(ISSUER, SUBJECT),
        ),
    ]
}
