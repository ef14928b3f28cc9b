//! Proof that `azure_identity` 1.1.0-beta.1 credentials get tokens from the identity server and
//! that those tokens validate with its `TokenAuthority`: client secret, client assertion
//! (certificate-style), workload identity (federated token file), and managed identity over
//! IMDS (system- and user-assigned); plus cache refresh and retry behaviour. No environment
//! variables are involved here (see `azure_identity_app_service.rs` for those).

mod identity_fixture;

use identity_fixture::*;
mod identity_support;

use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::ClientMethodOptions;
use azure_identity::{
    ClientAssertion, ClientAssertionCredential, ClientAssertionCredentialOptions,
    ClientSecretCredential, ClientSecretCredentialOptions, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};
use base64::Engine;
use identity_support::{entra_client_options, RedirectTransport};
use iotc_adx_testkit::identity::{
    Endpoint, IdentityOptions, IdentityServer, ManagedIdentity, TokenAuthority, TokenError,
};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const EH_SCOPE: &str = "https://eventhubs.azure.net/.default";
const KUSTO_SCOPE: &str = "https://help.kusto.windows.net/.default";

async fn start(lifetime: Duration) -> (IdentityServer, ManagedIdentity, ManagedIdentity) {
    let user = ManagedIdentity::user_assigned("uami");
    let system = ManagedIdentity::system_assigned();
    let options = IdentityOptions {
        applications: identity_fixture::applications(),
        system_assigned: Some(system.clone()),
        user_assigned: vec![user.clone()],
        token_lifetime: lifetime,
        ..Default::default()
    };
    let server = IdentityServer::start(TokenAuthority::default(), options)
        .await
        .expect("server");
    (server, system, user)
}

fn secret_credential(server: &IdentityServer, secret: &str) -> Arc<ClientSecretCredential> {
    ClientSecretCredential::new(
        server.authority().tenant(),
        APP.to_string(),
        Secret::new(secret.to_string()),
        Some(ClientSecretCredentialOptions {
            client_options: entra_client_options(server),
        }),
    )
    .expect("credential")
}

fn unsigned_jwt(claims: serde_json::Value) -> String {
    let enc = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "{}.{}.bm90LXNpZ25lZA",
        enc(json!({"alg": "RS256", "typ": "JWT"})),
        enc(claims)
    )
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn client_secret_credential() {
    let (server, _, _) = start(Duration::from_secs(3599)).await;
    let credential = secret_credential(&server, SECRET);
    let token = credential
        .get_token(&[EH_SCOPE], None)
        .await
        .expect("token");
    let claims = server
        .authority()
        .validate(token.token.secret(), EH)
        .expect("valid for event hubs");
    assert_eq!(claims.sub, APP);
    assert!(matches!(
        server
            .authority()
            .validate(token.token.secret(), "https://help.kusto.windows.net"),
        Err(TokenError::WrongAudience { .. })
    ));
    // Another scope is another request and another audience.
    let kusto = credential
        .get_token(&[KUSTO_SCOPE], None)
        .await
        .expect("kusto token");
    server
        .authority()
        .validate(kusto.token.secret(), "https://help.kusto.windows.net")
        .expect("valid for kusto");
    let log = server.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (
            log[0].endpoint,
            log[0].identity.as_str(),
            log[0].audience.as_deref()
        ),
        (Endpoint::Entra, APP, Some(EH))
    );
}

#[tokio::test]
async fn client_secret_credential_surfaces_entra_errors() {
    let (server, _, _) = start(Duration::from_secs(3599)).await;
    let err = secret_credential(&server, "wrong")
        .get_token(&[EH_SCOPE], None)
        .await
        .expect_err("refused");
    let text = err.to_string();
    assert!(
        text.contains("ClientSecretCredential authentication failed"),
        "{text}"
    );
    assert!(text.contains("AADSTS7000215"), "{text}");
    // azure_identity parses error_codes into the error code of the HTTP error.
    let inner = format!("{:?}", err);
    assert!(inner.contains("7000215"), "{inner}");
}

#[tokio::test]
async fn client_secret_credential_refreshes_expired_tokens() {
    let (server, _, _) = start(Duration::from_secs(3)).await;
    let credential = secret_credential(&server, SECRET);
    let first = credential
        .get_token(&[EH_SCOPE], None)
        .await
        .expect("token");
    server
        .authority()
        .validate(first.token.secret(), EH)
        .expect("valid now");
    tokio::time::sleep(Duration::from_millis(4100)).await;
    assert_eq!(
        server.authority().validate(first.token.secret(), EH),
        Err(TokenError::Expired)
    );
    let second = credential
        .get_token(&[EH_SCOPE], None)
        .await
        .expect("token");
    assert_ne!(first.token.secret(), second.token.secret());
    server
        .authority()
        .validate(second.token.secret(), EH)
        .expect("refreshed token valid");
    assert_eq!(server.requests().len(), 2);
}

/// azure_identity's cache (`cache.rs`, `should_refresh`) refreshes a token 300 s before it
/// expires. With a 303 s lifetime the token is served from the cache at first and fetched again
/// once it is within 300 s of expiry.
#[tokio::test]
async fn credential_cache_serves_then_refreshes() {
    let (server, _, _) = start(Duration::from_secs(303)).await;
    let credential = secret_credential(&server, SECRET);
    let first = credential
        .get_token(&[EH_SCOPE], None)
        .await
        .expect("token");
    let cached = credential
        .get_token(&[EH_SCOPE], None)
        .await
        .expect("token");
    assert_eq!(first.token.secret(), cached.token.secret());
    assert_eq!(
        server.requests().len(),
        1,
        "second call was served from the cache"
    );
    tokio::time::sleep(Duration::from_millis(3600)).await;
    let refreshed = credential
        .get_token(&[EH_SCOPE], None)
        .await
        .expect("token");
    assert_ne!(first.token.secret(), refreshed.token.secret());
    assert_eq!(
        server.requests().len(),
        2,
        "the cache went back to the server"
    );
}

#[tokio::test]
async fn client_secret_credential_retries_after_429() {
    let (server, _, _) = start(Duration::from_secs(3599)).await;
    server.fail_next(1, 429, Some(Duration::from_secs(1)));
    let started = std::time::Instant::now();
    let token = secret_credential(&server, SECRET)
        .get_token(&[EH_SCOPE], None)
        .await
        .expect("token after retry");
    server
        .authority()
        .validate(token.token.secret(), EH)
        .expect("valid");
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 200]);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After was honoured: {:?}",
        started.elapsed()
    );
}

/// A certificate-style assertion: iss = sub = client id, aud = the token endpoint. (Built by
/// hand: `ClientCertificateCredential` needs azure_identity's `client_certificate` feature,
/// i.e. OpenSSL, and the server cannot check the signature anyway.)
#[derive(Debug)]
struct CertificateStyleAssertion {
    audience: String,
}

#[async_trait::async_trait]
impl ClientAssertion for CertificateStyleAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        Ok(unsigned_jwt(json!({
            "iss": CERT_APP, "sub": CERT_APP, "aud": self.audience,
            "exp": now() + 600, "nbf": now(), "jti": uuid::Uuid::new_v4().to_string(),
        })))
    }
}

#[tokio::test]
async fn client_assertion_credential() {
    let (server, _, _) = start(Duration::from_secs(3599)).await;
    let credential = ClientAssertionCredential::new(
        server.authority().tenant().to_string(),
        CERT_APP.to_string(),
        CertificateStyleAssertion {
            audience: server.token_url(),
        },
        Some(ClientAssertionCredentialOptions {
            client_options: entra_client_options(&server),
        }),
    )
    .expect("credential");
    let token = credential
        .get_token(&[EH_SCOPE], None)
        .await
        .expect("token");
    assert_eq!(
        server
            .authority()
            .validate(token.token.secret(), EH)
            .expect("valid")
            .sub,
        CERT_APP
    );

    // The same credential with an assertion for another endpoint is refused.
    let wrong = ClientAssertionCredential::new(
        server.authority().tenant().to_string(),
        CERT_APP.to_string(),
        CertificateStyleAssertion {
            audience: "https://login.microsoftonline.com/elsewhere/oauth2/v2.0/token".into(),
        },
        Some(ClientAssertionCredentialOptions {
            client_options: entra_client_options(&server),
        }),
    )
    .expect("credential");
    let err = wrong
        .get_token(&[EH_SCOPE], None)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("AADSTS700212"), "{err}");
}

#[tokio::test]
async fn workload_identity_credential() {
    let (server, _, _) = start(Duration::from_secs(3599)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("azure-identity-token");
    let sa_token = unsigned_jwt(json!({
        "iss": ISSUER, "sub": SUBJECT, "aud": ["api://AzureADTokenExchange"], "exp": now() + 3600, "iat": now(),
    }));
    std::fs::write(&token_file, sa_token).expect("write token file");
    let credential = WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
        credential_options: ClientAssertionCredentialOptions {
            client_options: entra_client_options(&server),
        },
        client_id: Some(FED_APP.to_string()),
        tenant_id: Some(server.authority().tenant().to_string()),
        token_file_path: Some(token_file.clone()),
        ..Default::default()
    }))
    .expect("credential");
    let token = credential
        .get_token(&[KUSTO_SCOPE], None)
        .await
        .expect("token");
    let claims = server
        .authority()
        .validate(token.token.secret(), "https://help.kusto.windows.net")
        .expect("valid");
    assert_eq!(claims.sub, FED_APP);

    // A service-account token for another subject is refused.
    let other = dir.path().join("other-token");
    std::fs::write(
        &other,
        unsigned_jwt(json!({"iss": ISSUER, "sub": "system:serviceaccount:x:y", "aud": "api://AzureADTokenExchange", "exp": now() + 3600})),
    )
    .expect("write");
    let refused = WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
        credential_options: ClientAssertionCredentialOptions {
            client_options: entra_client_options(&server),
        },
        client_id: Some(FED_APP.to_string()),
        tenant_id: Some(server.authority().tenant().to_string()),
        token_file_path: Some(other),
        ..Default::default()
    }))
    .expect("credential");
    let err = refused
        .get_token(&[EH_SCOPE], None)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("AADSTS70021"), "{err}");
}

fn imds_credential(
    server: &IdentityServer,
    id: Option<UserAssignedId>,
) -> Arc<ManagedIdentityCredential> {
    ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
        user_assigned_id: id,
        client_options: RedirectTransport::to(server).client_options(),
    }))
    .expect("credential")
}

#[tokio::test]
async fn managed_identity_credential_over_imds() {
    let (server, system, user) = start(Duration::from_secs(3599)).await;
    let token = imds_credential(&server, None)
        .get_token(&[EH_SCOPE], None)
        .await
        .expect("system-assigned token");
    assert_eq!(
        server
            .authority()
            .validate(token.token.secret(), EH)
            .expect("valid")
            .sub,
        system.client_id
    );

    for id in [
        UserAssignedId::ClientId(user.client_id.clone()),
        UserAssignedId::ObjectId(user.object_id.clone()),
        UserAssignedId::ResourceId(user.resource_id.clone()),
    ] {
        let token = imds_credential(&server, Some(id.clone()))
            .get_token(&[KUSTO_SCOPE], None)
            .await
            .expect("user-assigned token");
        let claims = server
            .authority()
            .validate(token.token.secret(), "https://help.kusto.windows.net")
            .expect("valid");
        assert_eq!(claims.sub, user.client_id, "{id:?}");
    }
    let log = server.requests();
    assert_eq!(log.len(), 4);
    assert!(log
        .iter()
        .all(|r| r.endpoint == Endpoint::Imds && r.status == 200));
    assert!(log[1..].iter().all(|r| r.identity == user.client_id));
    assert_eq!(log[0].audience.as_deref(), Some(EH));

    // An identity the host does not have: IMDS answers 400, which the credential does not retry.
    let err = imds_credential(
        &server,
        Some(UserAssignedId::ClientId("not-assigned".into())),
    )
    .get_token(&[EH_SCOPE], None)
    .await
    .expect_err("refused");
    assert!(err.to_string().contains("has not been assigned"), "{err}");
}

#[tokio::test]
async fn managed_identity_credential_refreshes_and_retries() {
    let (server, system, _) = start(Duration::from_secs(3)).await;
    let credential = imds_credential(&server, None);
    let first = credential
        .get_token(&[EH_SCOPE], None)
        .await
        .expect("token");
    tokio::time::sleep(Duration::from_millis(4100)).await;
    assert_eq!(
        server.authority().validate(first.token.secret(), EH),
        Err(TokenError::Expired)
    );
    // IMDS answers 500 once; the IMDS credential's retry policy tries again (after ~1.3 s).
    server.fail_next(1, 500, None);
    let second = credential
        .get_token(&[EH_SCOPE], None)
        .await
        .expect("token after retry");
    assert_ne!(first.token.secret(), second.token.secret());
    assert_eq!(
        server
            .authority()
            .validate(second.token.secret(), EH)
            .expect("valid")
            .sub,
        system.client_id
    );
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![200, 500, 200]);
}
