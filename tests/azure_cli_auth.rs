//! `[auth] type = "azure_cli"`: the binary signs in through the Azure CLI as
//! `azure_identity` runs it (`az account get-access-token -o json --scope ... [--tenant ...]`
//! through `/bin/sh`). A stand-in `az` on `PATH` records its arguments and prints a token the
//! Data Explorer emulator accepts, so `provision` and `run` reach the cluster with it; when
//! `az` fails (not logged in), the error says so.

#![cfg(unix)]

mod support;

use iotc_adx_testkit::identity::TokenAuthority;
use iotc_adx_testkit::kusto::{AuthMode, KustoEmulator, KustoOptions};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/// Writes an `az` that appends its arguments to `args.log` and prints `answer` (or fails).
fn fake_az(dir: &Path, answer: Option<&str>) {
    let body = match answer {
        Some(json) => format!("echo '{json}'"),
        None => "echo 'ERROR: Please run az login to setup account.' >&2\nexit 1".to_string(),
    };
    let script = format!(
        "#!/bin/sh\necho \"$@\" >> '{}'\n{body}\n",
        dir.join("args.log").display()
    );
    let path = dir.join("az");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn config(dir: &Path, cluster: &str, tenant: Option<&str>) -> std::path::PathBuf {
    std::fs::write(dir.join("t.jmespath"), "{Device: deviceId}").unwrap();
    let tenant = tenant
        .map(|t| format!("tenant_id = \"{t}\"\n"))
        .unwrap_or_default();
    let text = format!(
        "[source]\ntype = \"file\"\npath = \"-\"\n[sink]\ntype = \"kusto\"\ncluster = \"{cluster}\"\n\
         [auth]\ntype = \"azure_cli\"\n{tenant}[dead_letter]\npath = \"dl\"\n\
         [[destination]]\nname = \"d\"\ntransform = \"t.jmespath\"\ndatabase = \"iot\"\ntable = \"T\"\n\
         columns = \"Device:string\"\ningestion = \"streaming\"\n"
    );
    let path = dir.join("iotc-adx.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the binary with the stand-in `az` first on `PATH`, feeding `input` on stdin.
fn iotc_adx(bin: &Path, args: &[&str], config: &Path, input: &str) -> Output {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    support::run_binary(args, config, input, &[("PATH", path)])
}

async fn emulator(authority: &TokenAuthority) -> KustoEmulator {
    let k = KustoEmulator::start(KustoOptions {
        auth: AuthMode::Tokens {
            authority: authority.clone(),
            audiences: Vec::new(),
        },
        ..Default::default()
    })
    .await
    .unwrap();
    k.create_database("iot");
    k
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provision_and_run_sign_in_with_the_azure_cli() {
    let authority = TokenAuthority::new(TENANT);
    let k = emulator(&authority).await;
    let (token, expires_on) = authority.issue(k.url(), "cli-user", Duration::from_secs(3600));
    let dir = tempfile::tempdir().unwrap();
    fake_az(
        dir.path(),
        Some(&format!(
            r#"{{"accessToken":"{token}","expiresOn":"2099-01-01 00:00:00.000000","expires_on":{expires_on},"tenant":"{TENANT}","tokenType":"Bearer"}}"#
        )),
    );
    let config = config(dir.path(), k.url(), Some(TENANT));

    let out = iotc_adx(dir.path(), &["provision"], &config, "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        k.state().table("iot", "T").is_some(),
        "provision created the table"
    );

    let messages = r#"{"messageSource":"telemetry","deviceId":"cli-1","telemetry":{}}
{"messageSource":"telemetry","deviceId":"cli-2","telemetry":{}}
"#;
    let out = iotc_adx(dir.path(), &["run"], &config, messages);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let devices: Vec<String> = k
        .rows("iot", "T")
        .iter()
        .map(|r| r[0].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(devices, ["cli-1", "cli-2"]);

    // How the credential ran `az`: the cluster's scope, and the configured tenant.
    let log = std::fs::read_to_string(dir.path().join("args.log")).unwrap();
    let first = log.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        format!(
            "account get-access-token -o json --scope {}/.default --tenant {TENANT}",
            k.url()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_az_login_the_error_says_so() {
    let authority = TokenAuthority::new(TENANT);
    let k = emulator(&authority).await;
    let dir = tempfile::tempdir().unwrap();
    fake_az(dir.path(), None);
    let config = config(dir.path(), k.url(), None);
    let out = iotc_adx(dir.path(), &["provision"], &config, "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("az login"), "{stderr}");
    assert!(k.state().table("iot", "T").is_none());
    let log = std::fs::read_to_string(dir.path().join("args.log")).unwrap();
    assert!(
        !log.contains("--tenant"),
        "no tenant unless configured: {log}"
    );
}
