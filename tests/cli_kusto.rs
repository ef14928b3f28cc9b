//! `examples/kusto.toml` as a user runs it against the Data Explorer emulator:
//! `provision --dry-run` changes nothing, `provision` creates the six tables (and is
//! idempotent), `run` ingests every sample row (streaming, managed and queued destinations),
//! and a table whose column type differs is refused with both types named.

mod support;

use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions, StorageMode};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn iotc_adx(args: &[&str], cluster: &str, dead: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iotc-adx"))
        // Every run serves /metrics: let each pick a free port.
        .env("IOTC_ADX__METRICS__LISTEN", "127.0.0.1:0")
        .args(args)
        .current_dir(support::repo())
        .env_remove("RUST_LOG")
        .env("IOTC_ADX__SINK__CLUSTER", cluster)
        .env("IOTC_ADX__DEAD_LETTER__PATH", dead)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const TABLES: [&str; 6] = [
    "smartvitalspatch",
    "DeviceProperties",
    "DeviceConnectivity",
    "DeviceLifecycle",
    "DeviceTemplateLifecycle",
    "AuditLog",
];

/// Expected rows per table: the lines of the quick start's golden files.
fn expected_rows(table: &str) -> usize {
    let name = match table {
        "smartvitalspatch" => "telemetry",
        "DeviceProperties" => "properties",
        "DeviceConnectivity" => "connectivity",
        "DeviceLifecycle" => "device-lifecycle",
        "DeviceTemplateLifecycle" => "template-lifecycle",
        _ => "audit",
    };
    std::fs::read_to_string(support::repo().join(format!("examples/expected/{name}.multijson")))
        .unwrap()
        .lines()
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provision_then_run_ingests_every_sample_row() {
    let k = KustoEmulator::start(KustoOptions {
        storage: StorageMode::Own,
        databases: vec!["iot".into()],
        ..Default::default()
    })
    .await
    .expect("emulator");
    let url = k.url().to_string();
    let dead = tempfile::tempdir().unwrap();
    let args = ["provision", "--config", "examples/kusto.toml", "--dry-run"];
    let dry = tokio::task::block_in_place(|| iotc_adx(&args, &url, dead.path()));
    assert!(
        dry.status.success(),
        "{}\n{}",
        text(&dry.stdout),
        text(&dry.stderr)
    );
    assert!(
        text(&dry.stdout).contains(".create-merge table smartvitalspatch ("),
        "{}",
        text(&dry.stdout)
    );
    assert!(
        k.state().table("iot", "smartvitalspatch").is_none(),
        "a dry run changes nothing"
    );

    for round in 0..2 {
        let out = tokio::task::block_in_place(|| {
            iotc_adx(
                &["provision", "--config", "examples/kusto.toml"],
                &url,
                dead.path(),
            )
        });
        assert!(
            out.status.success(),
            "round {round}: {}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let stdout = text(&out.stdout);
        assert!(
            stdout.contains("ingestion json mapping 'iotc_adx'"),
            "{stdout}"
        );
        assert!(stdout.contains(".alter table DeviceConnectivity policy ingestionbatching '{\"MaximumBatchingTimeSpan\":\"00:00:10\"}'"), "{stdout}");
    }
    for table in TABLES {
        let t = k
            .state()
            .table("iot", table)
            .cloned()
            .unwrap_or_else(|| panic!("{table} provisioned"));
        assert!(
            t.json_mappings.contains_key("iotc_adx"),
            "{table} has the mapping"
        );
    }

    let run = tokio::task::block_in_place(|| {
        iotc_adx(
            &["run", "--config", "examples/kusto.toml"],
            &url,
            dead.path(),
        )
    });
    assert!(
        run.status.success(),
        "{}\n{}",
        text(&run.stdout),
        text(&run.stderr)
    );
    let stdout = text(&run.stdout);
    assert!(
        stdout.contains("(streaming)") || stdout.contains("(queued)"),
        "{stdout}"
    );
    // Queued rows arrive after the emulator's batching time.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let counts: Vec<(usize, usize)> = TABLES
            .iter()
            .map(|t| (k.rows("iot", t).len(), expected_rows(t)))
            .collect();
        if counts.iter().all(|(got, want)| got == want) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "rows per table (got, expected): {counts:?}\n{stdout}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_column_type_conflict_is_refused_with_both_types() {
    let k = KustoEmulator::start(KustoOptions {
        databases: vec!["iot".into()],
        ..Default::default()
    })
    .await
    .expect("emulator");
    k.create_table(
        "iot",
        "AuditLog",
        &[("EnqueuedTime", "datetime"), ("Application", "long")],
    );
    let url = k.url().to_string();
    let dead = tempfile::tempdir().unwrap();
    let out = tokio::task::block_in_place(|| {
        iotc_adx(
            &["provision", "--config", "examples/kusto.toml"],
            &url,
            dead.path(),
        )
    });
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("iot.AuditLog")
            && stderr.contains("column Application")
            && stderr.contains("long")
            && stderr.contains("string"),
        "{stderr}"
    );
    assert!(
        k.state().table("iot", "smartvitalspatch").is_none(),
        "nothing is changed when one table conflicts"
    );

    let run = tokio::task::block_in_place(|| {
        iotc_adx(
            &["run", "--config", "examples/kusto.toml"],
            &url,
            dead.path(),
        )
    });
    assert!(!run.status.success());
    assert!(
        text(&run.stderr).contains("iotc-adx provision"),
        "{}",
        text(&run.stderr)
    );
}
