//! Reports as a user meets them: the shipped examples end to end (sample telemetry through the
//! pipeline into the Data Explorer emulator, then the silent-devices alert and the hourly
//! summary to the testkit's webhook receiver), and `iotc-adx run` with a configuration of
//! reports only, running them on schedule, serving `/reports` and the report metrics, with
//! `report list`, `report run` and `report history` beside it.
#![cfg(unix)]

mod support;

use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions};
use iotc_adx_testkit::webhook::WebhookReceiver;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};
use support::cli::{cli, text};
use support::running::{http_get, Running};

/// examples/reports.toml and its queries copied into `dir`, pointed at `cluster` and `hook`.
fn example_reports(dir: &Path, cluster: &str, hook: &str) -> String {
    let root = support::repo().join("examples");
    let text = std::fs::read_to_string(root.join("reports.toml"))
        .unwrap()
        .replace("http://127.0.0.1:8080", cluster)
        .replace("http://127.0.0.1:8090", hook);
    std::fs::create_dir_all(dir.join("reports")).unwrap();
    for q in ["silent-devices.kql", "hourly-summary.kql"] {
        std::fs::copy(root.join("reports").join(q), dir.join("reports").join(q)).unwrap();
    }
    let path = dir.join("reports.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_examples_report_on_what_the_pipeline_ingested() {
    let k = KustoEmulator::start(KustoOptions {
        databases: vec!["iot".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let hook = WebhookReceiver::start().await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let env = [
        ("IOTC_ADX__SINK__CLUSTER", k.url()),
        ("IOTC_ADX__DEAD_LETTER__PATH", out.path().to_str().unwrap()),
    ];
    let p = cli(&["provision", "--config", "examples/kusto.toml"], &env).await;
    assert!(p.status.success(), "{}", text(&p));
    let r = cli(&["run", "--config", "examples/kusto.toml"], &env).await;
    assert!(r.status.success(), "{}", text(&r));
    let config = example_reports(out.path(), k.url(), &hook.url());

    // The sample telemetry is from 2026-11-21: every device is silent.
    let silent = cli(
        &["report", "run", "--config", &config, "silent-devices"],
        &[],
    )
    .await;
    assert!(silent.status.success(), "{}", text(&silent));
    let got = hook.received();
    let keys: Vec<String> = got
        .iter()
        .map(|r| {
            r.json.clone().unwrap()["alert_key"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        keys,
        ["knee-01", "knee-02", "vitals-01", "vitals-02", "vitals-03"]
    );
    assert!(got.iter().all(|r| r.path == "/alerts"));
    // Run again: they are still silent, so nothing more is sent.
    let again = cli(
        &["report", "run", "--config", &config, "silent-devices"],
        &[],
    )
    .await;
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(hook.received().len(), 5);

    // The hour of the samples, as if scheduled at 09:00 UTC.
    let summary = cli(
        &[
            "report",
            "run",
            "--config",
            &config,
            "hourly-summary",
            "--at",
            "2026-11-21T09:00:00Z",
        ],
        &[],
    )
    .await;
    assert!(summary.status.success(), "{}", text(&summary));
    let printed = String::from_utf8_lossy(&summary.stdout);
    assert!(
        printed.contains("AvgHeartRate") && printed.contains("vitals-01"),
        "{printed}"
    );
    let teams = hook
        .received()
        .into_iter()
        .find(|r| r.path == "/teams")
        .expect("a Teams card");
    assert_eq!(
        teams.json.unwrap()["attachments"][0]["content"]["type"],
        "AdaptiveCard"
    );
    // Exported into HourlySummary by .set-or-append.
    assert!(!k.rows("iot", "HourlySummary").is_empty());

    let history = cli(&["report", "history", "--config", &config, "--json"], &[]).await;
    let runs: Vec<Value> = String::from_utf8_lossy(&history.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert!(runs
        .iter()
        .all(|r| r["status"] == "succeeded" && r["trigger"] == "demand"));
}

#[tokio::test(flavor = "multi_thread")]
async fn run_schedules_reports_and_serves_their_history() {
    let k = KustoEmulator::start(KustoOptions {
        databases: vec!["iot".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    k.create_table("iot", "T", &[("dev", "string")]);
    let hook = WebhookReceiver::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("r.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[auth]
type = "none"
[log]
format = "json"
[reports]
cluster = "{}"
database = "iot"
[[report]]
name = "tick"
query = "print n = 1"
every = "1s"
[[report.webhook]]
url = "{}/tick"
[[report]]
name = "tables"
command = ".show tables"
enabled = false
"#,
            k.url(),
            hook.url()
        ),
    )
    .unwrap();
    let path = config.display().to_string();
    let mut run = Running::start(&["run", "--config", &path], &[]);
    let address = run.endpoint();
    let started = Instant::now();
    while hook.received().len() < 2 {
        assert!(started.elapsed() < Duration::from_secs(20), "{}", run.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let a = address.clone();
    let (status, body) = tokio::task::spawn_blocking(move || http_get(&a, "/reports"))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    let tick = &v["reports"][0];
    assert_eq!(tick["name"], "tick");
    assert_eq!(tick["runs"][0]["status"], "succeeded");
    assert_eq!(tick["runs"][0]["trigger"], "schedule");
    assert_eq!(v["reports"][1]["enabled"], false);
    let a = address.clone();
    let (_, metrics) = tokio::task::spawn_blocking(move || http_get(&a, "/metrics"))
        .await
        .unwrap();
    assert!(
        metrics.contains("iotc_adx_report_runs_total{report=\"tick\",status=\"succeeded\"}"),
        "{metrics}"
    );
    run.terminate();
    let (exit, _) = tokio::task::spawn_blocking(move || run.wait(Duration::from_secs(20)))
        .await
        .unwrap();
    assert!(exit.success());

    let list = cli(&["report", "list", "--config", &path], &[]).await;
    let listed = text(&list);
    assert!(
        listed.contains("tick") && listed.contains("every 1s"),
        "{listed}"
    );
    assert!(
        listed.contains("tables") && listed.contains("on demand only"),
        "{listed}"
    );
    let now = cli(&["report", "run", "--config", &path, "tables"], &[]).await;
    assert!(now.status.success(), "{}", text(&now));
    assert!(text(&now).contains("tables: succeeded"), "{}", text(&now));
    let unknown = cli(&["report", "run", "--config", &path, "nope"], &[]).await;
    assert!(!unknown.status.success());
    assert!(text(&unknown).contains("no report named \"nope\"; configured: tick, tables"));
}
