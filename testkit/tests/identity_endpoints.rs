//! The identity server's endpoints answered with plain HTTP requests: every success shape and
//! every error path, fault injection, the request log and the run-time lifetime switch.

mod identity_fixture;

use base64::Engine;
use identity_fixture::*;
use iotc_adx_testkit::identity::{
    Endpoint, IdentityOptions, IdentityServer, ManagedIdentity, TokenAuthority, TokenError,
    JWT_BEARER,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

struct Fixture {
    server: IdentityServer,
    http: reqwest::Client,
    user: ManagedIdentity,
    system: ManagedIdentity,
}

async fn start() -> Fixture {
    let user = ManagedIdentity::user_assigned("uami-one");
    let system = ManagedIdentity::system_assigned();
    let options = IdentityOptions {
        applications: identity_fixture::applications(),
        system_assigned: Some(system.clone()),
        user_assigned: vec![user.clone()],
        ..Default::default()
    };
    let server = IdentityServer::start(TokenAuthority::default(), options)
        .await
        .expect("server starts");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    Fixture {
        server,
        http,
        user,
        system,
    }
}

impl Fixture {
    fn entra_url(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.server.http_authority_host(),
            self.server.authority().tenant()
        )
    }

    async fn entra(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let rsp = self
            .http
            .post(self.entra_url())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("request");
        let status = rsp.status();
        (status, rsp.json().await.expect("json body"))
    }

    async fn get(
        &self,
        url: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut req = self.http.get(with_query(url, query));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let rsp = req.send().await.expect("request");
        let status = rsp.status();
        (status, rsp.json().await.expect("json body"))
    }
}

/// `url?k=v&...` (reqwest 0.13 without its `query` feature has no `.query()`).
fn with_query(url: &str, query: &[(&str, &str)]) -> String {
    format!(
        "{url}?{}",
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish()
    )
}

fn secret_form<'a>(scope: &'a str, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", APP),
        ("client_secret", secret),
        ("scope", scope),
    ]
}

fn assert_entra_error(status: StatusCode, body: &Value, want_status: u16, error: &str, code: u64) {
    assert_eq!(status.as_u16(), want_status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], json!([code]), "{body}");
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    for field in ["timestamp", "trace_id", "correlation_id", "error_uri"] {
        assert!(body[field].is_string(), "{field} missing in {body}");
    }
}

fn jwt(claims: Value) -> String {
    let enc = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.bm90LXZlcmlmaWVk",
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
async fn client_secret_success_has_entra_shape_and_validates() {
    let f = start().await;
    let (status, body) = f
        .entra(&secret_form("https://eventhubs.azure.net/.default", SECRET))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    let token = body["access_token"].as_str().expect("access_token");
    let claims = f
        .server
        .authority()
        .validate(token, EH)
        .expect("valid for event hubs");
    assert_eq!(claims.sub, APP);
    assert!(matches!(
        f.server
            .authority()
            .validate(token, "https://kusto.example"),
        Err(TokenError::WrongAudience { .. })
    ));
    let log = f.server.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (
            log[0].endpoint,
            log[0].identity.as_str(),
            log[0].audience.as_deref(),
            log[0].status
        ),
        (Endpoint::Entra, APP, Some(EH), 200)
    );
}

#[tokio::test]
async fn entra_error_paths() {
    let f = start().await;
    let scope = "https://eventhubs.azure.net/.default";
    // Wrong secret.
    let (s, b) = f.entra(&secret_form(scope, "nope")).await;
    assert_entra_error(s, &b, 401, "invalid_client", 7000215);
    // Secret sent for an app that has none.
    let (s, b) = f
        .entra(&[
            ("grant_type", "client_credentials"),
            ("client_id", CERT_APP),
            ("client_secret", "x"),
            ("scope", scope),
        ])
        .await;
    assert_entra_error(s, &b, 401, "invalid_client", 7000215);
    // Unknown client.
    let (s, b) = f
        .entra(&[
            ("grant_type", "client_credentials"),
            ("client_id", "nobody"),
            ("client_secret", SECRET),
            ("scope", scope),
        ])
        .await;
    assert_entra_error(s, &b, 400, "unauthorized_client", 700016);
    // Missing scope, missing client_id, missing grant_type.
    let (s, b) = f
        .entra(&[
            ("grant_type", "client_credentials"),
            ("client_id", APP),
            ("client_secret", SECRET),
        ])
        .await;
    assert_entra_error(s, &b, 400, "invalid_request", 900144);
    assert!(
        b["error_description"].as_str().unwrap().contains("'scope'"),
        "{b}"
    );
    let (s, b) = f
        .entra(&[
            ("grant_type", "client_credentials"),
            ("client_secret", SECRET),
            ("scope", scope),
        ])
        .await;
    assert_entra_error(s, &b, 400, "invalid_request", 900144);
    assert!(
        b["error_description"]
            .as_str()
            .unwrap()
            .contains("'client_id'"),
        "{b}"
    );
    let (s, b) = f
        .entra(&[
            ("client_id", APP),
            ("client_secret", SECRET),
            ("scope", scope),
        ])
        .await;
    assert_entra_error(s, &b, 400, "invalid_request", 900144);
    // Unsupported grant type.
    let (s, b) = f
        .entra(&[
            ("grant_type", "password"),
            ("client_id", APP),
            ("client_secret", SECRET),
            ("scope", scope),
        ])
        .await;
    assert_entra_error(s, &b, 400, "unsupported_grant_type", 70003);
    // Scope without /.default, and two scopes.
    let (s, b) = f
        .entra(&secret_form("https://eventhubs.azure.net", SECRET))
        .await;
    assert_entra_error(s, &b, 400, "invalid_scope", 1002012);
    let (s, b) = f
        .entra(&secret_form(
            "https://a/.default https://b/.default",
            SECRET,
        ))
        .await;
    assert_entra_error(s, &b, 400, "invalid_scope", 1002012);
    // Neither secret nor assertion.
    let (s, b) = f
        .entra(&[
            ("grant_type", "client_credentials"),
            ("client_id", APP),
            ("scope", scope),
        ])
        .await;
    assert_entra_error(s, &b, 401, "invalid_client", 7000218);
    // Unknown tenant.
    let rsp = f
        .http
        .post(format!(
            "{}/other-tenant/oauth2/v2.0/token",
            f.server.http_authority_host()
        ))
        .body(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(secret_form(scope, SECRET))
                .finish(),
        )
        .send()
        .await
        .unwrap();
    let s = rsp.status();
    let b: Value = rsp.json().await.unwrap();
    assert_entra_error(s, &b, 400, "invalid_request", 90002);
    // A body that is not a form at all is an error answer, not a hang or a crash.
    let rsp = f
        .http
        .post(f.entra_url())
        .body(vec![0xff, 0xfe, 0x00, b'&', b'='])
        .send()
        .await
        .unwrap();
    assert_eq!(rsp.status(), StatusCode::BAD_REQUEST);
    // Every refusal is logged with its status.
    let log = f.server.requests();
    assert_eq!(log.len(), 12);
    assert!(log
        .iter()
        .all(|r| r.endpoint == Endpoint::Entra && r.status >= 400));
}

#[tokio::test]
async fn certificate_style_assertions() {
    let f = start().await;
    let scope = "https://kusto.example/.default";
    let aud = f.entra_url();
    let form = |assertion: String, kind: &'static str| {
        vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", CERT_APP.to_string()),
            ("client_assertion_type", kind.to_string()),
            ("client_assertion", assertion),
            ("scope", scope.to_string()),
        ]
    };
    let send = |form: Vec<(&'static str, String)>| {
        let f = &f;
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            f.entra(&pairs).await
        }
    };
    let good =
        jwt(json!({"iss": CERT_APP, "sub": CERT_APP, "aud": aud, "exp": now() + 600, "jti": "1"}));
    let (s, b) = send(form(good.clone(), JWT_BEARER)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    f.server
        .authority()
        .validate(b["access_token"].as_str().unwrap(), "https://kusto.example")
        .expect("valid");
    // The v1 token URL is an accepted audience too, as are arrays.
    let v1 = aud.replace("/oauth2/v2.0/token", "/oauth2/token");
    let (s, b) = send(form(
        jwt(json!({"iss": CERT_APP, "sub": CERT_APP, "aud": [v1], "exp": now() + 600})),
        JWT_BEARER,
    ))
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");

    let (s, b) = send(form(good.clone(), "urn:example:other")).await;
    assert_entra_error(s, &b, 400, "invalid_request", 700009);
    let (s, b) = send(form("not-a-jwt".into(), JWT_BEARER)).await;
    assert_entra_error(s, &b, 401, "invalid_client", 50027);
    let expired = jwt(json!({"iss": CERT_APP, "sub": CERT_APP, "aud": aud, "exp": now() - 3600}));
    let (s, b) = send(form(expired, JWT_BEARER)).await;
    assert_entra_error(s, &b, 401, "invalid_client", 700024);
    let wrong_sub = jwt(json!({"iss": CERT_APP, "sub": APP, "aud": aud, "exp": now() + 600}));
    let (s, b) = send(form(wrong_sub, JWT_BEARER)).await;
    assert_entra_error(s, &b, 401, "invalid_client", 700021);
    let wrong_aud = jwt(
        json!({"iss": CERT_APP, "sub": CERT_APP, "aud": "https://elsewhere/token", "exp": now() + 600}),
    );
    let (s, b) = send(form(wrong_aud, JWT_BEARER)).await;
    assert_entra_error(s, &b, 401, "invalid_client", 700212);
    // Assertion for an app that only has a secret.
    let for_secret_app = jwt(json!({"iss": APP, "sub": APP, "aud": aud, "exp": now() + 600}));
    let mut other = form(for_secret_app, JWT_BEARER);
    other[1].1 = APP.to_string();
    let (s, b) = send(other).await;
    assert_entra_error(s, &b, 400, "invalid_request", 70021);
    // Missing client_assertion_type.
    let mut missing = form(good, JWT_BEARER);
    missing.remove(2);
    let (s, b) = send(missing).await;
    assert_entra_error(s, &b, 400, "invalid_request", 900144);
}

#[tokio::test]
async fn federated_assertions() {
    let f = start().await;
    let send = |claims: Value| {
        let f = &f;
        async move {
            let assertion = jwt(claims);
            f.entra(&[
                ("grant_type", "client_credentials"),
                ("client_id", FED_APP),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &assertion),
                ("scope", "https://eventhubs.azure.net/.default"),
            ])
            .await
        }
    };
    let (s, b) =
        send(json!({"iss": ISSUER, "sub": SUBJECT, "aud": ["api://AzureADTokenExchange"], "exp": now() + 600})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        f.server
            .authority()
            .validate(b["access_token"].as_str().unwrap(), EH)
            .unwrap()
            .sub,
        FED_APP
    );
    for claims in [
        json!({"iss": "https://other-issuer", "sub": SUBJECT, "aud": "api://AzureADTokenExchange", "exp": now() + 600}),
        json!({"iss": ISSUER, "sub": "system:serviceaccount:default:other", "aud": "api://AzureADTokenExchange", "exp": now() + 600}),
        json!({"iss": ISSUER, "sub": SUBJECT, "aud": "api://other", "exp": now() + 600}),
    ] {
        let (s, b) = send(claims).await;
        assert_entra_error(s, &b, 400, "invalid_request", 70021);
    }
}

#[tokio::test]
async fn imds_success_and_error_paths() {
    let f = start().await;
    let url = f.server.imds_endpoint();
    let md = [("Metadata", "true")];
    let base = [
        ("api-version", "2018-02-01"),
        ("resource", "https://eventhubs.azure.net/"),
    ];

    // System-assigned.
    let (s, b) = f.get(&url, &base, &md).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    for field in [
        "access_token",
        "client_id",
        "expires_in",
        "expires_on",
        "ext_expires_in",
        "not_before",
        "resource",
        "token_type",
    ] {
        assert!(b[field].is_string(), "{field} is not a string in {b}");
    }
    assert_eq!(b["client_id"], f.system.client_id.as_str());
    assert_eq!(b["resource"], "https://eventhubs.azure.net/");
    assert_eq!(b["token_type"], "Bearer");
    let exp: u64 = b["expires_on"].as_str().unwrap().parse().unwrap();
    assert!(exp > now() + 3500);
    let claims = f
        .server
        .authority()
        .validate(b["access_token"].as_str().unwrap(), EH)
        .unwrap();
    assert_eq!(claims.sub, f.system.client_id);

    // User-assigned by each selector.
    for (name, value) in [
        ("client_id", &f.user.client_id),
        ("object_id", &f.user.object_id),
        ("msi_res_id", &f.user.resource_id),
    ] {
        let mut q = base.to_vec();
        q.push((name, value));
        let (s, b) = f.get(&url, &q, &md).await;
        assert_eq!(s, StatusCode::OK, "{name}: {b}");
        assert_eq!(b["client_id"], f.user.client_id.as_str());
        assert_eq!(
            f.server
                .authority()
                .validate(b["access_token"].as_str().unwrap(), EH)
                .unwrap()
                .sub,
            f.user.client_id
        );
    }

    let imds_error = |s: StatusCode, b: &Value, text: &str| {
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(b["error"], "invalid_request", "{b}");
        assert!(
            b["error_description"].as_str().unwrap().contains(text),
            "{b}"
        );
    };
    // No Metadata header, or not "true".
    let (s, b) = f.get(&url, &base, &[]).await;
    imds_error(s, &b, "metadata header");
    let (s, b) = f.get(&url, &base, &[("Metadata", "false")]).await;
    imds_error(s, &b, "metadata header");
    // Unknown user-assigned identities.
    for name in ["client_id", "object_id", "msi_res_id"] {
        let mut q = base.to_vec();
        q.push((name, "00000000-dead-beef-0000-000000000000"));
        let (s, b) = f.get(&url, &q, &md).await;
        imds_error(s, &b, "Identity not found");
    }
    // Two selectors at once.
    let mut q = base.to_vec();
    q.push(("client_id", &f.user.client_id));
    q.push(("object_id", &f.user.object_id));
    let (s, b) = f.get(&url, &q, &md).await;
    imds_error(s, &b, "Only one");
    // Missing resource, missing api-version.
    let (s, b) = f.get(&url, &[("api-version", "2018-02-01")], &md).await;
    imds_error(s, &b, "'resource'");
    let (s, b) = f.get(&url, &[("resource", EH)], &md).await;
    imds_error(s, &b, "'api-version'");

    let log = f.server.requests();
    assert_eq!(log.iter().filter(|r| r.status == 200).count(), 4);
    assert!(log.iter().all(|r| r.endpoint == Endpoint::Imds));
    assert_eq!(log[1].identity, f.user.client_id);
    assert_eq!(log[1].audience.as_deref(), Some(EH));
}

#[tokio::test]
async fn imds_without_system_identity_refuses_system_requests() {
    let options = IdentityOptions {
        user_assigned: vec![ManagedIdentity::user_assigned("only")],
        ..Default::default()
    };
    let server = IdentityServer::start(TokenAuthority::default(), options)
        .await
        .unwrap();
    let rsp = reqwest::Client::new()
        .get(with_query(
            &server.imds_endpoint(),
            &[("api-version", "2018-02-01"), ("resource", EH)],
        ))
        .header("Metadata", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(rsp.status(), StatusCode::BAD_REQUEST);
    let b: Value = rsp.json().await.unwrap();
    assert_eq!(b["error_description"], "Identity not found");
}

#[tokio::test]
async fn app_service_success_and_error_paths() {
    let f = start().await;
    let url = f.server.identity_endpoint();
    let secret = f.server.identity_header().to_string();
    let hdr = [("X-IDENTITY-HEADER", secret.as_str())];
    let base = [
        ("api-version", "2019-08-01"),
        ("resource", "https://eventhubs.azure.net"),
    ];

    let (s, b) = f.get(&url, &base, &hdr).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    for field in [
        "access_token",
        "expires_on",
        "resource",
        "token_type",
        "client_id",
    ] {
        assert!(b[field].is_string(), "{field} in {b}");
    }
    assert_eq!(b["client_id"], f.system.client_id.as_str());
    f.server
        .authority()
        .validate(b["access_token"].as_str().unwrap(), EH)
        .unwrap();
    for (name, value) in [
        ("client_id", &f.user.client_id),
        ("principal_id", &f.user.object_id),
        ("mi_res_id", &f.user.resource_id),
    ] {
        let mut q = base.to_vec();
        q.push((name, value));
        let (s, b) = f.get(&url, &q, &hdr).await;
        assert_eq!(s, StatusCode::OK, "{name}: {b}");
        assert_eq!(b["client_id"], f.user.client_id.as_str());
    }

    let app_error = |s: StatusCode, b: &Value, status: u16| {
        assert_eq!(s.as_u16(), status, "{b}");
        assert_eq!(b["statusCode"], status, "{b}");
        assert!(
            b["message"].is_string() && b["correlationId"].is_string(),
            "{b}"
        );
    };
    let (s, b) = f.get(&url, &base, &[]).await;
    app_error(s, &b, 401);
    let (s, b) = f.get(&url, &base, &[("X-IDENTITY-HEADER", "wrong")]).await;
    app_error(s, &b, 401);
    let (s, b) = f
        .get(
            &url,
            &[("api-version", "2017-09-01"), ("resource", EH)],
            &hdr,
        )
        .await;
    app_error(s, &b, 400);
    let (s, b) = f.get(&url, &[("resource", EH)], &hdr).await;
    app_error(s, &b, 400);
    let (s, b) = f.get(&url, &[("api-version", "2019-08-01")], &hdr).await;
    app_error(s, &b, 400);
    let mut q = base.to_vec();
    q.push(("client_id", "not-assigned"));
    let (s, b) = f.get(&url, &q, &hdr).await;
    app_error(s, &b, 400);
    assert_eq!(b["message"], "Unable to load the proper Managed Identity.");
    assert!(f
        .server
        .requests()
        .iter()
        .all(|r| r.endpoint == Endpoint::AppService));
}

#[tokio::test]
async fn injected_faults_then_recovery() {
    let f = start().await;
    f.server.fail_next(2, 429, Some(Duration::from_secs(7)));
    f.server.fail_next(1, 500, None);
    let form = secret_form("https://eventhubs.azure.net/.default", SECRET);
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&form)
        .finish();
    for expected in [429, 429] {
        let rsp = f
            .http
            .post(f.entra_url())
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(rsp.status().as_u16(), expected);
        assert_eq!(rsp.headers()["retry-after"], "7");
    }
    // The third fault applies to whichever endpoint comes next.
    let (s, b) = f
        .get(
            &f.server.imds_endpoint(),
            &[("api-version", "2018-02-01"), ("resource", EH)],
            &[("Metadata", "true")],
        )
        .await;
    assert_eq!(s.as_u16(), 500, "{b}");
    let (s, _) = f.entra(&form).await;
    assert_eq!(s, StatusCode::OK);
    let statuses: Vec<u16> = f.server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 429, 500, 200]);
    f.server.clear_requests();
    assert!(f.server.requests().is_empty());
}

#[tokio::test]
async fn lifetime_can_change_at_run_time() {
    let f = start().await;
    f.server.set_token_lifetime(Duration::from_secs(2));
    assert_eq!(f.server.token_lifetime(), Duration::from_secs(2));
    let (_, b) = f
        .entra(&secret_form("https://eventhubs.azure.net/.default", SECRET))
        .await;
    assert_eq!(b["expires_in"], 2);
    let token = b["access_token"].as_str().unwrap().to_string();
    f.server.authority().validate(&token, EH).unwrap();
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(
        f.server.authority().validate(&token, EH),
        Err(TokenError::Expired)
    );
    let (s, b) = f
        .get(
            &f.server.imds_endpoint(),
            &[("api-version", "x"), ("resource", EH)],
            &[("Metadata", "true")],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["expires_in"], "2");
}

#[tokio::test]
async fn https_listener_serves_with_the_generated_ca() {
    let f = start().await;
    let client = f.server.https_client().unwrap();
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(secret_form("https://eventhubs.azure.net/.default", SECRET))
        .finish();
    let rsp = client
        .post(f.server.token_url())
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(rsp.status(), StatusCode::OK);
    // A client that does not trust the CA is refused at the handshake.
    let untrusting = reqwest::Client::new();
    assert!(untrusting
        .post(f.server.token_url())
        .body(body)
        .send()
        .await
        .is_err());
    assert!(f
        .server
        .ca_certificate_pem()
        .starts_with("-----BEGIN CERTIFICATE-----"));
}

#[tokio::test]
async fn stops_when_dropped() {
    let f = start().await;
    let url = f.server.imds_endpoint();
    let http = f.http.clone();
    let Fixture { server, .. } = f;
    server.shutdown().await;
    assert!(http
        .get(url)
        .header("Metadata", "true")
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn openid_configuration_advertises_the_token_endpoint() {
    let f = start().await;
    let tenant = f.server.authority().tenant().to_string();
    let client = f.server.https_client().unwrap();
    let rsp = client
        .get(format!(
            "{}/{tenant}/v2.0/.well-known/openid-configuration",
            f.server.authority_host()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(rsp.status(), StatusCode::OK);
    let doc: Value = rsp.json().await.unwrap();
    assert_eq!(doc["token_endpoint"], f.server.token_url().as_str());
    assert!(doc["authorization_endpoint"]
        .as_str()
        .unwrap()
        .starts_with(&f.server.authority_host()));
    // Over plain HTTP the document advertises http URLs.
    let (s, doc) = f
        .get(
            &format!(
                "{}/{tenant}/v2.0/.well-known/openid-configuration",
                f.server.http_authority_host()
            ),
            &[],
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["token_endpoint"], f.entra_url().as_str());
    let (s, b) = f
        .get(
            &format!(
                "{}/nope/v2.0/.well-known/openid-configuration",
                f.server.http_authority_host()
            ),
            &[],
            &[],
        )
        .await;
    assert_entra_error(s, &b, 400, "invalid_request", 90002);
}
