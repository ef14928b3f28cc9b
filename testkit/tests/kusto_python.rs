//! The official Python clients (azure-kusto-data / azure-kusto-ingest 6.0.4), unchanged,
//! against the Data Explorer emulator: proof that an independent implementation accepts it.

use iotc_adx_testkit::identity::TokenAuthority;
use iotc_adx_testkit::kusto::{
    AuthMode, Fault, FaultKind, KustoEmulator, KustoOptions, RouteClass, StorageMode,
};
use std::process::Command;
use std::time::Duration;

fn run_python(
    script: &str,
    args: &[&str],
    url: &str,
    token: Option<&str>,
    extra: &[(&str, &str)],
) -> String {
    let python = iotc_adx_testkit::python::python().expect("python venv");
    let path = format!("{}/tests/python/{script}", env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new(python);
    cmd.arg(&path)
        .args(args)
        .env("KUSTO_URL", url)
        .env("KUSTO_DB", "db1")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    if let Some(t) = token {
        cmd.env("KUSTO_TOKEN", t);
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script} {args:?} failed\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("OK"), "{stdout}");
    stdout
}

#[tokio::test(flavor = "multi_thread")]
async fn kusto_client_runs_commands_and_queries_with_a_token() {
    let authority = TokenAuthority::default();
    let k = KustoEmulator::start(KustoOptions {
        auth: AuthMode::Tokens {
            authority: authority.clone(),
            audiences: vec![],
        },
        ..KustoOptions::default()
    })
    .await
    .unwrap();
    let (token, _) = authority.issue(k.url(), "python-app", Duration::from_secs(600));
    let url = k.url().to_string();
    tokio::task::spawn_blocking(move || {
        run_python("kusto_data_client.py", &[], &url, Some(&token), &[])
    })
    .await
    .unwrap();
    // The script's two queries, then the one on a missing table; its six commands, then
    // `.frobnicate`.
    let statuses = |path: &str| -> Vec<u16> {
        k.requests()
            .iter()
            .filter(|r| r.path == path)
            .map(|r| r.status)
            .collect()
    };
    assert_eq!(statuses("/v2/rest/query"), [200, 200, 400]);
    assert_eq!(
        statuses("/v1/rest/mgmt"),
        [200, 200, 200, 200, 200, 200, 400]
    );
    assert!(k.requests().iter().all(|r| r.authorized_header));
}

#[tokio::test(flavor = "multi_thread")]
async fn streaming_client_ingests() {
    let k = KustoEmulator::start(KustoOptions::default()).await.unwrap();
    let url = k.url().to_string();
    tokio::task::spawn_blocking(move || {
        run_python("kusto_ingest_clients.py", &["streaming"], &url, None, &[])
    })
    .await
    .unwrap();
    let ingests: Vec<_> = k
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v1/rest/ingest/"))
        .collect();
    assert_eq!(ingests.len(), 1);
    assert_eq!(ingests[0].status, 200);
    assert!(ingests[0]
        .client_request_id()
        .unwrap()
        .starts_with("KPC.executeStreamingIngest;"));
}

#[tokio::test(flavor = "multi_thread")]
async fn queued_client_ingests_through_azurite() {
    let k = KustoEmulator::start(KustoOptions {
        storage: StorageMode::Own,
        ..KustoOptions::default()
    })
    .await
    .unwrap();
    let url = k.url().to_string();
    tokio::task::spawn_blocking(move || {
        run_python("kusto_ingest_clients.py", &["queued"], &url, None, &[])
    })
    .await
    .unwrap();
    assert!(k
        .requests()
        .iter()
        .all(|r| !r.path.starts_with("/v1/rest/ingest/")));
    assert_eq!(k.rows("db1", "Ing_queued").len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn managed_client_streams_and_falls_back_to_queued() {
    let k = KustoEmulator::start(KustoOptions {
        storage: StorageMode::Own,
        ..KustoOptions::default()
    })
    .await
    .unwrap();
    let url = k.url().to_string();
    let u = url.clone();
    let out = tokio::task::spawn_blocking(move || {
        run_python("kusto_ingest_clients.py", &["managed"], &u, None, &[])
    })
    .await
    .unwrap();
    assert!(out.contains("OK"));
    let streamed: Vec<_> = k
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/rest/ingest/db1/Ing_managed")
        .collect();
    assert_eq!(streamed.len(), 1);
    assert_eq!(streamed[0].status, 200);

    // Policy off: three streaming attempts refused (not permanent), then queued through Azurite.
    let u = url.clone();
    tokio::task::spawn_blocking(move || {
        run_python(
            "kusto_ingest_clients.py",
            &["managed-fallback"],
            &u,
            None,
            &[],
        )
    })
    .await
    .unwrap();
    let attempts: Vec<_> = k
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/rest/ingest/db1/Ing_managed_fallback")
        .collect();
    assert_eq!(attempts.len(), 3, "{attempts:?}");
    assert!(attempts.iter().all(|r| r.status == 400));
    assert!(attempts[2]
        .client_request_id()
        .unwrap()
        .starts_with("KPC.executeManagedStreamingIngest;"));
    assert_eq!(k.rows("db1", "Ing_managed_fallback").len(), 5);
    let commands: Vec<u16> = k
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/rest/mgmt")
        .map(|r| r.status)
        .collect();
    // The test's own table commands and the managed client's resource and token lookups for
    // the queued fallback: all answered.
    assert_eq!(commands, [200; 9]);
}

#[tokio::test(flavor = "multi_thread")]
async fn managed_client_with_a_token_falls_back_when_throttled() {
    let authority = TokenAuthority::default();
    let k = KustoEmulator::start(KustoOptions {
        auth: AuthMode::Tokens {
            authority: authority.clone(),
            audiences: vec![],
        },
        storage: StorageMode::Own,
        ..KustoOptions::default()
    })
    .await
    .unwrap();
    k.inject(Fault {
        class: RouteClass::Ingest,
        kind: FaultKind::Throttle {
            retry_after_secs: 1,
        },
        count: 3,
    });
    let (token, _) = authority.issue(k.url(), "python-app", Duration::from_secs(600));
    let url = k.url().to_string();
    tokio::task::spawn_blocking(move || {
        run_python(
            "kusto_ingest_clients.py",
            &["managed-throttled"],
            &url,
            Some(&token),
            &[],
        )
    })
    .await
    .unwrap();
    let attempts: Vec<_> = k
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v1/rest/ingest/"))
        .collect();
    assert_eq!(
        attempts.iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 429, 429]
    );
    assert_eq!(k.rows("db1", "Ing_managed_throttled").len(), 5);
    assert!(k
        .requests()
        .iter()
        .all(|r| r.authorized_header && r.status != 401));
}

#[tokio::test(flavor = "multi_thread")]
async fn kusto_client_runs_what_reports_use() {
    let k = KustoEmulator::start(KustoOptions::default()).await.unwrap();
    let url = k.url().to_string();
    tokio::task::spawn_blocking(move || run_python("kusto_reports.py", &[], &url, None, &[]))
        .await
        .unwrap();
    assert_eq!(k.rows("db1", "Tel").len(), 2);
}
