//! No secret ever leaves the process: the binary runs with an Event Hubs shared access key, a
//! service principal's client secret, a SAS-signed checkpoint container and queued ingestion
//! (storage SAS from Data Explorer), logging at `debug` for every crate; then with a wrong
//! secret and a wrong key. Its standard output and error, dead letters, output and `/metrics`
//! are searched for every secret it was given and every kind of secret it saw.
#![cfg(unix)]

mod support;

use iotc_adx_testkit::azurite::Azurite;
use iotc_adx_testkit::eventhubs::{EmulatorOptions, EventHubOptions, EventHubsEmulator};
use iotc_adx_testkit::identity::{
    AppRegistration, IdentityOptions, IdentityServer, TokenAuthority,
};
use iotc_adx_testkit::kusto::{AuthMode, KustoEmulator, KustoOptions, StorageMode};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::running::http_get;

const APP: &str = "55555555-5555-5555-5555-555555555555";
const CLIENT_SECRET: &str = "Cl13nt~S3cret.n0t-for-logs";
const WRONG_SECRET: &str = "Wr0ng~S3cret.n0t-for-logs";
const KEY_NAME: &str = "listen";
const SAS_KEY: &str = "U2hhcmVkQWNjZXNzS2V5LW5vdC1mb3ItbG9ncw==";
const WRONG_KEY: &str = "V3JvbmdBY2Nlc3NLZXktbm90LWZvci1sb2dzMQ==";

struct StandIns {
    identity: IdentityServer,
    hub: EventHubsEmulator,
    kusto: KustoEmulator,
    azurite: Arc<Azurite>,
    ca_file: std::path::PathBuf,
}

async fn stand_ins(dir: &Path) -> StandIns {
    let authority = TokenAuthority::default();
    let identity = IdentityServer::start(
        authority.clone(),
        IdentityOptions {
            applications: vec![AppRegistration::with_secret(APP, CLIENT_SECRET)],
            ..Default::default()
        },
    )
    .await
    .expect("identity server");
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, identity.ca_certificate_pem()).unwrap();
    let hub = EventHubsEmulator::start(
        EmulatorOptions::new("iotc.servicebus.windows.net")
            .with_event_hub(EventHubOptions::new("export", 2))
            .with_sas_key(KEY_NAME, SAS_KEY),
    )
    .await
    .expect("event hubs emulator");
    let azurite = Arc::new(
        tokio::task::spawn_blocking(Azurite::start)
            .await
            .unwrap()
            .expect("azurite"),
    );
    let kusto = KustoEmulator::start(KustoOptions {
        auth: AuthMode::Tokens {
            authority,
            audiences: Vec::new(),
        },
        databases: vec!["iot".into()],
        storage: StorageMode::Shared(azurite.clone()),
        queued_batching_time: Some(Duration::from_millis(300)),
        ..Default::default()
    })
    .await
    .expect("kusto emulator");
    StandIns {
        identity,
        hub,
        kusto,
        azurite,
        ca_file,
    }
}

/// The configuration file: no secret in it; they come through the environment.
fn config(dir: &Path, s: &StandIns, checkpoint_sas: &str) -> std::path::PathBuf {
    std::fs::write(
        dir.join("t.jmespath"),
        "{EnqueuedTime: enqueuedTime, Device: deviceId, Value: telemetry}",
    )
    .unwrap();
    let text = format!(
        "[source]\ntype = \"eventhubs\"\ncustom_endpoint = \"{ep}\"\n\
         checkpoint_container = \"{blob}/checkpoints?{checkpoint_sas}\"\ncheckpoint_every_ms = 200\nbalance_interval_ms = 500\n\
         [sink]\ntype = \"kusto\"\ncluster = \"{k}\"\n\
         [auth]\ntype = \"service_principal\"\ntenant_id = \"{tenant}\"\nclient_id = \"{APP}\"\nauthority_host = \"{host}\"\n\
         [dead_letter]\npath = \"dl\"\n[log]\nlevel = \"debug\"\n\
         [[destination]]\nname = \"queued\"\ntransform = \"t.jmespath\"\ndatabase = \"iot\"\ntable = \"Queued\"\n\
         columns = \"EnqueuedTime:datetime, Device:string, Value:dynamic\"\ningestion = \"queued\"\n\
         [destination.batch]\nmax_age_ms = 100\n\
         [[destination]]\nname = \"streamed\"\ntransform = \"t.jmespath\"\ndatabase = \"iot\"\ntable = \"Streamed\"\n\
         columns = \"EnqueuedTime:datetime, Device:string, Value:dynamic\"\ningestion = \"streaming\"\n\
         [destination.batch]\nmax_age_ms = 100\n",
        ep = s.hub.endpoint(),
        blob = s.azurite.blob_endpoint(),
        k = s.kusto.url(),
        tenant = s.identity.authority().tenant(),
        host = s.identity.authority_host(),
    );
    let path = dir.join("iotc-adx.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `iotc-adx <args>` with the secrets in its environment.
fn command(s: &StandIns, dir: &Path, args: &[&str], secret: &str, key: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iotc-adx"));
    let connection_string = s
        .hub
        .connection_string(KEY_NAME, "export")
        .unwrap()
        .replace(SAS_KEY, key);
    cmd.args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env("SSL_CERT_FILE", &s.ca_file)
        .env("IOTC_ADX__METRICS__LISTEN", "127.0.0.1:0")
        .env("IOTC_ADX__SOURCE__CONNECTION_STRING", connection_string)
        .env("IOTC_ADX__AUTH__CLIENT_SECRET", secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Every file under `dir`, as text.
fn files_text(dir: &Path) -> String {
    let mut text = String::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                text.push_str(&files_text(&path));
            } else if let Ok(bytes) = std::fs::read(&path) {
                text.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    text
}

/// Fails if `output` holds a secret or anything shaped like one.
fn assert_no_secret(what: &str, output: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !output.contains(secret),
            "{what} shows the secret {secret:?}:\n{output}"
        );
    }
    // Shapes: SAS signatures, Event Hubs SAS tokens, shared keys in connection strings, JWTs.
    for shape in [
        "sig=",
        "SharedAccessSignature sr",
        "SharedAccessKey=",
        "eyJ0eX",
        "eyJhbG",
    ] {
        assert!(
            !output.contains(shape),
            "{what} shows something like a secret ({shape:?}):\n{}",
            output
                .lines()
                .filter(|l| l.contains(shape))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let s = stand_ins(dir.path()).await;
    let checkpoint_sas = s
        .azurite
        .account_sas(chrono::Utc::now() + chrono::Duration::hours(2));
    let signature = checkpoint_sas
        .split('&')
        .find_map(|p| p.strip_prefix("sig="))
        .expect("a signature")
        .to_string();
    let config = config(dir.path(), &s, &checkpoint_sas);
    let config_arg = config.to_str().unwrap();
    let secrets = [CLIENT_SECRET, WRONG_SECRET, SAS_KEY, WRONG_KEY, &signature];

    // One-shot commands: they succeed, and neither of their outputs names a secret.
    for verb in ["provision", "check"] {
        let done = command(
            &s,
            dir.path(),
            &[verb, "--config", config_arg],
            CLIENT_SECRET,
            SAS_KEY,
        )
        .output()
        .unwrap();
        let output = format!(
            "{}{}",
            String::from_utf8_lossy(&done.stdout),
            String::from_utf8_lossy(&done.stderr)
        );
        assert!(done.status.success(), "{verb}: {output}");
        assert_no_secret(verb, &output, &secrets);
    }

    for i in 0..20 {
        let body = format!(
            r#"{{"messageSource":"telemetry","deviceId":"d{i}","enqueuedTime":"2026-11-22T10:00:00Z","telemetry":{{"HeartRate":{i}}}}}"#
        );
        s.hub
            .append("export", &(i % 2).to_string(), body.as_bytes())
            .unwrap();
    }
    s.hub.append("export", "0", b"not json").unwrap();

    let mut child = command(
        &s,
        dir.path(),
        &["run", "--config", config_arg],
        CLIENT_SECRET,
        SAS_KEY,
    )
    .spawn()
    .unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(std::sync::Mutex::new(String::new()));
    let writer = log.clone();
    let collector = std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            writer.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    let started = Instant::now();
    while s.kusto.rows("iot", "Queued").len() < 20 || s.kusto.rows("iot", "Streamed").len() < 20 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "rows never arrived:\n{}",
            log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let address = {
        let text = log.lock().unwrap().clone();
        let line = text
            .lines()
            .find(|l| l.contains("serving /metrics"))
            .expect("the endpoint is announced")
            .to_string();
        line.split("address=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("an address")
            .to_string()
    };
    let (metrics, readiness) = tokio::task::spawn_blocking(move || {
        (
            http_get(&address, "/metrics").1,
            http_get(&address, "/readyz").1,
        )
    })
    .await
    .unwrap();
    assert!(
        metrics.contains("iotc_adx_rows_ingested_total"),
        "{metrics}"
    );
    assert_no_secret("/metrics", &metrics, &secrets);
    assert_no_secret("/readyz", &readiness, &secrets);

    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    collector.join().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let log = log.lock().unwrap().clone();
    assert!(output.status.success(), "{stdout}\n{log}");
    assert!(
        log.lines().count() > 50,
        "a debug log is expected to say a lot:\n{log}"
    );
    assert_no_secret("the run's standard output", &stdout, &secrets);
    assert_no_secret("the run's log", &log, &secrets);
    let dead_letters = files_text(&dir.path().join("dl"));
    assert!(dead_letters.contains("not json"), "{dead_letters}");
    assert_no_secret("the dead letters", &dead_letters, &secrets);

    // Refused credentials: the errors name what failed, not the secret.
    for (what, secret, key) in [
        ("a wrong client secret", WRONG_SECRET, SAS_KEY),
        ("a wrong shared access key", CLIENT_SECRET, WRONG_KEY),
    ] {
        let mut child = command(
            &s,
            dir.path(),
            &["run", "--config", config_arg],
            secret,
            key,
        )
        .spawn()
        .unwrap();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(60) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let output = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            !output.status.success(),
            "{what}: the run must fail\n{text}"
        );
        assert!(
            text.contains("error: cannot"),
            "{what}: a clear error\n{text}"
        );
        assert_no_secret(what, &text, &secrets);
    }
}
