//! Proof with an independent client: Python's `azure-identity` (from the testkit's venv) gets
//! tokens from the identity server with a client secret over HTTPS (trusting the generated CA
//! through `SSL_CERT_FILE`/`REQUESTS_CA_BUNDLE`), from IMDS (`AZURE_POD_IDENTITY_AUTHORITY_HOST`)
//! and from the App Service endpoint (`IDENTITY_ENDPOINT`/`IDENTITY_HEADER`). Each Python run is
//! a child process with its own environment, so these tests can run in parallel.

use iotc_adx_testkit::identity::{
    AppRegistration, IdentityOptions, IdentityServer, ManagedIdentity, TokenAuthority,
};
use std::path::Path;
use std::process::Command;

const APP: &str = "11111111-1111-1111-1111-111111111111";
const SECRET: &str = "s3cret~value";
const SCOPE: &str = "https://help.kusto.windows.net/.default";
const AUDIENCE: &str = "https://help.kusto.windows.net";

async fn start() -> (IdentityServer, ManagedIdentity, ManagedIdentity) {
    let user = ManagedIdentity::user_assigned("uami");
    let system = ManagedIdentity::system_assigned();
    let options = IdentityOptions {
        applications: vec![AppRegistration::with_secret(APP, SECRET)],
        system_assigned: Some(system.clone()),
        user_assigned: vec![user.clone()],
        ..Default::default()
    };
    (
        IdentityServer::start(TokenAuthority::default(), options)
            .await
            .expect("server"),
        system,
        user,
    )
}

/// Runs the proof script with `args` and `env` (and nothing identity-related inherited).
async fn python(args: &[&str], env: &[(&str, String)]) -> Result<String, String> {
    let python = iotc_adx_testkit::python::python().map_err(|e| e.to_string())?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/identity_proof.py");
    let mut cmd = Command::new(python);
    cmd.arg(script).args(args);
    for var in [
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "MSI_ENDPOINT",
        "MSI_SECRET",
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[tokio::test]
async fn python_client_secret_credential_over_https() {
    let (server, _, _) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, server.ca_certificate_pem()).unwrap();
    let env = [
        ("AUTHORITY", server.authority_host()),
        ("TENANT_ID", server.authority().tenant().to_string()),
        ("CLIENT_ID", APP.to_string()),
        ("CLIENT_SECRET", SECRET.to_string()),
        ("SSL_CERT_FILE", ca.display().to_string()),
        ("REQUESTS_CA_BUNDLE", ca.display().to_string()),
    ];
    let token = python(&["secret", SCOPE], &env)
        .await
        .expect("python got a token");
    assert_eq!(
        server
            .authority()
            .validate(&token, AUDIENCE)
            .expect("valid")
            .sub,
        APP
    );

    // A wrong secret is refused, and Python reports Entra ID's error.
    let mut wrong = env.clone();
    wrong[3].1 = "wrong".into();
    let err = python(&["secret", SCOPE], &wrong)
        .await
        .expect_err("refused");
    assert!(err.contains("AADSTS7000215"), "{err}");
}

#[tokio::test]
async fn python_managed_identity_over_imds() {
    let (server, system, user) = start().await;
    let env = [(
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        server.http_authority_host(),
    )];
    let token = python(&["managed", SCOPE], &env)
        .await
        .expect("system-assigned token");
    assert_eq!(
        server
            .authority()
            .validate(&token, AUDIENCE)
            .expect("valid")
            .sub,
        system.client_id
    );
    let token = python(&["managed", SCOPE, &user.client_id], &env)
        .await
        .expect("user-assigned token");
    assert_eq!(
        server
            .authority()
            .validate(&token, AUDIENCE)
            .expect("valid")
            .sub,
        user.client_id
    );
}

#[tokio::test]
async fn python_managed_identity_over_app_service() {
    let (server, system, user) = start().await;
    let env = [
        ("IDENTITY_ENDPOINT", server.identity_endpoint()),
        ("IDENTITY_HEADER", server.identity_header().to_string()),
    ];
    let token = python(&["managed", SCOPE], &env)
        .await
        .expect("system-assigned token");
    assert_eq!(
        server
            .authority()
            .validate(&token, AUDIENCE)
            .expect("valid")
            .sub,
        system.client_id
    );
    let token = python(&["managed", SCOPE, &user.client_id], &env)
        .await
        .expect("user-assigned token");
    assert_eq!(
        server
            .authority()
            .validate(&token, AUDIENCE)
            .expect("valid")
            .sub,
        user.client_id
    );
    assert!(server
        .requests()
        .iter()
        .all(|r| r.endpoint == iotc_adx_testkit::identity::Endpoint::AppService));
}
