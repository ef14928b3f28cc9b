//! The sink signs in through `[auth]` with real `azure_identity` credentials against the local
//! Entra ID stand-in, and the Data Explorer emulator checks every token: a client secret with
//! tokens that expire every two seconds, and a certificate (PEM) client assertion.

mod support;

use azure_core::http::{ClientOptions, Transport};
use iotc_adx::auth::{AuthSettings, ServicePrincipalProof};
use iotc_adx::batch::Batch;
use iotc_adx::config::KustoSinkSettings;
use iotc_adx::sink::kusto::KustoSink;
use iotc_adx::sink::{IngestionMode, Outcome, Sink};
use iotc_adx_testkit::identity::{
    AppRegistration, FederatedCredential, IdentityOptions, IdentityServer, ManagedIdentity,
    TokenAuthority,
};
use iotc_adx_testkit::kusto::{AuthMode, KustoEmulator, KustoOptions};
use std::sync::Arc;
use std::time::Duration;

const APP: &str = "11111111-1111-1111-1111-111111111111";
const SECRET: &str = "s3cret~value";
const CERT_APP: &str = "22222222-2222-2222-2222-222222222222";
const FED_APP: &str = "33333333-3333-3333-3333-333333333333";
const ISSUER: &str = "https://oidc.testkit.local/cluster";
const SUBJECT: &str = "system:serviceaccount:iot:iotc-adx";

async fn identity(lifetime: Duration) -> IdentityServer {
    let options = IdentityOptions {
        applications: vec![
            AppRegistration::with_secret(APP, SECRET),
            AppRegistration::with_certificate_assertions(CERT_APP),
            AppRegistration::with_federated_credential(
                FED_APP,
                FederatedCredential::new(ISSUER, SUBJECT),
            ),
        ],
        system_assigned: Some(ManagedIdentity::system_assigned()),
        token_lifetime: lifetime,
        ..Default::default()
    };
    IdentityServer::start(TokenAuthority::default(), options)
        .await
        .expect("identity server")
}

async fn kusto(server: &IdentityServer) -> KustoEmulator {
    let auth = AuthMode::Tokens {
        authority: server.authority().clone(),
        audiences: Vec::new(),
    };
    let k = KustoEmulator::start(KustoOptions {
        auth,
        ..Default::default()
    })
    .await
    .expect("emulator");
    k.create_database("iot");
    k
}

/// Sends requests for the IMDS address (169.254.169.254) to the stand-in's plain-HTTP port,
/// and everything else through a client that trusts the stand-in's CA: managed identity has no
/// other seam than the transport.
#[derive(Debug)]
struct StandInTransport {
    http: std::net::SocketAddr,
    client: reqwest::Client,
}

#[async_trait::async_trait]
impl azure_core::http::HttpClient for StandInTransport {
    async fn execute_request(
        &self,
        request: &azure_core::http::Request,
    ) -> azure_core::Result<azure_core::http::AsyncRawResponse> {
        let mut request = request.clone();
        if request.url().host_str() == Some("169.254.169.254") {
            let url = request.url_mut();
            let _ = url.set_ip_host(self.http.ip());
            let _ = url.set_port(Some(self.http.port()));
        }
        self.client.execute_request(&request).await
    }
}

/// The credential `[auth]` describes, with a transport that reaches the stand-in; the table
/// is provisioned through it.
async fn sink(server: &IdentityServer, k: &KustoEmulator, auth: AuthSettings) -> KustoSink {
    let client = server.https_client().expect("https client");
    let transport = Transport::new(Arc::new(StandInTransport {
        http: server.http_addr(),
        client,
    }));
    let credential = iotc_adx::auth::credential(
        &auth,
        ClientOptions {
            transport: Some(transport),
            ..Default::default()
        },
    )
    .expect("credential");
    let settings = KustoSinkSettings {
        cluster: k.url().parse().unwrap(),
        ingest_url: None,
        max_in_flight: 1,
        request_timeout: Duration::from_secs(10),
        dedupe: true,
        watch_failures: false,
        failure_poll: Duration::from_secs(10),
        failure_hold: Duration::from_secs(600),
        shutdown_grace: Duration::from_secs(25),
        retry: Default::default(),
    };
    let client = iotc_adx::sink::kusto::client(&settings, credential).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.jmespath"), "{Device: deviceId}").unwrap();
    let text = format!(
        "{}[[destination]]\nname = \"d\"\ntransform = \"t.jmespath\"\ndatabase = \"iot\"\ntable = \"T\"\ncolumns = \"Device:string\"\ningestion = \"streaming\"\n",
        support::CONFIG_HEAD
    );
    let destinations = iotc_adx::config::load_str(&text, dir.path())
        .unwrap()
        .destinations;
    assert_eq!(destinations[0].ingestion, IngestionMode::Streaming);
    if k.state().table("iot", "T").is_none() {
        iotc_adx::provision::provision(&client, &destinations, false, |_, _| {})
            .await
            .expect("provision with a token");
    }
    KustoSink::new(client, &settings, &destinations)
}

fn batch(device: &str) -> Batch {
    Batch {
        destination: 0,
        payload: format!("{{\"Device\":\"{device}\"}}\n").into_bytes(),
        rows: 1,
        tickets: Vec::new(),
        origin: Vec::new(),
    }
}

#[tokio::test]
async fn short_lived_tokens_are_refreshed_without_a_failure() {
    // azure_identity renews a cached token 300 s before it expires: tokens of 303 s are
    // reused for 3 s, then renewed before the next request.
    let server = identity(Duration::from_secs(303)).await;
    let k = kusto(&server).await;
    let auth = AuthSettings::ServicePrincipal {
        tenant_id: server.authority().tenant().to_string(),
        client_id: APP.into(),
        proof: ServicePrincipalProof::Secret(SECRET.into()),
        authority_host: server.authority_host(),
    };
    let sink = sink(&server, &k, auth).await;
    let deliver = |i: usize| {
        let sink = &sink;
        async move {
            let outcome = tokio::time::timeout(
                Duration::from_secs(20),
                sink.deliver(batch(&format!("d{i}"))),
            )
            .await
            .unwrap()
            .unwrap();
            assert!(matches!(outcome, Outcome::Accepted(_)), "{outcome:?}");
        }
    };
    let fetched = server.requests().len();
    assert_eq!(fetched, 1, "provisioning fetched one token");
    deliver(0).await;
    deliver(1).await;
    assert_eq!(server.requests().len(), 1, "a fresh token is reused");
    // Past the renewal point of the token: the next request renews it first.
    let issued = server.requests()[0].at;
    let renew_at = issued + Duration::from_millis(3500);
    if let Ok(wait) = renew_at.duration_since(std::time::SystemTime::now()) {
        tokio::time::sleep(wait).await;
    }
    deliver(2).await;
    deliver(3).await;
    assert_eq!(server.requests().len(), 2, "renewed once, then reused");
    assert_eq!(k.rows("iot", "T").len(), 4);
    let ingests: Vec<u16> = k
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v1/rest/ingest"))
        .map(|r| r.status)
        .collect();
    assert_eq!(
        ingests,
        vec![200; 4],
        "no request was refused for an expired token"
    );
}

#[tokio::test]
async fn a_certificate_signs_in_and_a_wrong_secret_is_a_clear_error() {
    let server = identity(Duration::from_secs(3600)).await;
    let k = kusto(&server).await;
    let auth = AuthSettings::ServicePrincipal {
        tenant_id: server.authority().tenant().to_string(),
        client_id: CERT_APP.into(),
        proof: ServicePrincipalProof::Certificate(
            support::repo().join("src/auth/testdata/test-only-sp.pem"),
        ),
        authority_host: server.authority_host(),
    };
    let outcome = sink(&server, &k, auth)
        .await
        .deliver(batch("cert"))
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Accepted(_)), "{outcome:?}");
    assert_eq!(k.rows("iot", "T").len(), 1);

    let wrong = AuthSettings::ServicePrincipal {
        tenant_id: server.authority().tenant().to_string(),
        client_id: APP.into(),
        proof: ServicePrincipalProof::Secret("wrong".into()),
        authority_host: server.authority_host(),
    };
    let error = tokio::time::timeout(
        Duration::from_secs(60),
        sink(&server, &k, wrong).await.deliver(batch("x")),
    )
    .await
    .expect("gives up instead of retrying forever")
    .expect_err("refused credentials stop the pipeline");
    // The whole chain, as the binary prints it: where, and the identity provider's reason.
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(&error);
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    assert!(text.contains("cannot deliver to iot.T"), "{text}");
    assert!(text.contains("cannot get a token"), "{text}");
    assert!(text.contains("Invalid client secret"), "{text}");
    let ingests = k
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v1/rest/ingest"))
        .count();
    assert_eq!(ingests, 1, "nothing was sent without a token");
}

fn unsigned_jwt(claims: serde_json::Value) -> String {
    use base64::Engine;
    let enc = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "{}.{}.bm90LXNpZ25lZA",
        enc(serde_json::json!({"alg": "RS256", "typ": "JWT"})),
        enc(claims)
    )
}

#[tokio::test]
async fn managed_and_workload_identities_sign_in() {
    let server = identity(Duration::from_secs(3600)).await;
    let k = kusto(&server).await;
    let managed = AuthSettings::ManagedIdentity {
        user_assigned: None,
    };
    let outcome = sink(&server, &k, managed)
        .await
        .deliver(batch("managed"))
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Accepted(_)), "{outcome:?}");

    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({"iss": ISSUER, "sub": SUBJECT, "aud": ["api://AzureADTokenExchange"], "exp": now + 3600, "iat": now});
    std::fs::write(&token_file, unsigned_jwt(claims)).unwrap();
    let workload = AuthSettings::WorkloadIdentity {
        tenant_id: Some(server.authority().tenant().to_string()),
        client_id: Some(FED_APP.into()),
        token_file: Some(token_file),
        authority_host: server.authority_host(),
    };
    let outcome = sink(&server, &k, workload)
        .await
        .deliver(batch("workload"))
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Accepted(_)), "{outcome:?}");
    assert_eq!(k.rows("iot", "T").len(), 2);
}

/// A user-assigned managed identity named by client id, object id or resource id: every
/// token the sink used was issued to that identity, not to the VM's system-assigned one.
#[tokio::test]
async fn a_user_assigned_managed_identity_signs_in_by_any_of_its_ids() {
    use iotc_adx::auth::UserAssigned;
    let uami = ManagedIdentity::user_assigned("iotc-adx-uami");
    let system = ManagedIdentity::system_assigned();
    let server = IdentityServer::start(
        TokenAuthority::default(),
        IdentityOptions {
            system_assigned: Some(system.clone()),
            user_assigned: vec![uami.clone()],
            token_lifetime: Duration::from_secs(3600),
            ..Default::default()
        },
    )
    .await
    .expect("identity server");
    let k = kusto(&server).await;
    let ids = [
        UserAssigned::ClientId(uami.client_id.clone()),
        UserAssigned::ObjectId(uami.object_id.clone()),
        UserAssigned::ResourceId(uami.resource_id.clone()),
    ];
    for (i, id) in ids.into_iter().enumerate() {
        server.clear_requests();
        let auth = AuthSettings::ManagedIdentity {
            user_assigned: Some(id.clone()),
        };
        let outcome = sink(&server, &k, auth)
            .await
            .deliver(batch(&format!("uami-{i}")))
            .await
            .unwrap();
        assert!(
            matches!(outcome, Outcome::Accepted(_)),
            "{id:?}: {outcome:?}"
        );
        let requests = server.requests();
        assert!(!requests.is_empty(), "{id:?}: no token was requested");
        for r in &requests {
            assert_eq!(r.status, 200, "{id:?}: {r:?}");
            assert_eq!(
                r.identity, uami.client_id,
                "{id:?}: a token for another identity: {r:?}"
            );
        }
    }
    assert_eq!(k.rows("iot", "T").len(), 3);
    assert_ne!(uami.client_id, system.client_id);
}
