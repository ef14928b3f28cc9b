//! Side by side: the same backlog of IoT Central telemetry in the Event Hubs emulator (4
//! partitions) consumed into the Data Explorer emulator by streaming ingestion, once by the
//! `iotc-adx` binary (`examples/eventhubs.toml`'s telemetry destination: one row per
//! capability) and once by a straightforward Python consumer (`benches/python/consumer.py`:
//! azure-eventhub and azure-kusto-ingest's managed streaming, one row per capability).
//! Prints each one's wall time until its rows were all in, its CPU time, and the ratios.
//! The stand-ins' own CPU time during each run is printed too (they run in this process).
//! `cargo bench --bench side_by_side [-- MESSAGES] [--iotc-adx-only]` (default 100,000).

/// The stand-ins run in this process: give them the allocator iotc-adx uses, so that glibc's
/// allocator is not what a figure measures.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod support;

use iotc_adx_testkit::azurite::Azurite;
use iotc_adx_testkit::eventhubs::{EmulatorOptions, EventHubOptions, EventHubsEmulator};
use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KEY_NAME: &str = "bench";
const KEY: &str = "YmVuY2gta2V5LWZvci1pb3RjLWFkeA==";

fn rows(k: &KustoEmulator, table: &str) -> usize {
    k.state()
        .databases
        .get("iot")
        .and_then(|d| d.tables.get(table))
        .map_or(0, |t| t.data.rows.len())
}

/// Waits until `table` holds `n` rows; the times from `from` until its first row and until
/// all were in.
async fn until_rows(
    k: &KustoEmulator,
    table: &str,
    n: usize,
    from: Instant,
) -> (Duration, Duration) {
    let mut first = None;
    loop {
        let now = rows(k, table);
        if now > 0 && first.is_none() {
            first = Some(from.elapsed());
        }
        if now >= n {
            return (first.unwrap_or_default(), from.elapsed());
        }
        assert!(
            from.elapsed() < Duration::from_secs(600),
            "{table}: {} of {n} rows",
            rows(k, table)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn mgmt(k: &KustoEmulator, csl: &str) {
    k.control("iot", csl).await.expect("a control command");
}

#[tokio::main]
async fn main() {
    iotc_adx_testkit::process::no_transparent_huge_pages();
    let total: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let azurite = tokio::task::spawn_blocking(Azurite::start)
        .await
        .unwrap()
        .expect("azurite");
    let k = KustoEmulator::start(KustoOptions {
        databases: vec!["iot".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let hub = EventHubsEmulator::start(
        EmulatorOptions::new("side.servicebus.windows.net")
            .with_event_hub(EventHubOptions::new("iotc-export", 4).with_consumer_group("iotc-adx"))
            .with_sas_key(KEY_NAME, KEY),
    )
    .await
    .unwrap();
    let samples = support::telemetry_bodies();
    let (mut bytes, mut capabilities) = (0usize, 0usize);
    for n in 0..total {
        let body = &samples[n % samples.len()];
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        capabilities += v["telemetry"].as_object().map_or(0, |t| t.len());
        bytes += body.len();
        hub.append("iotc-export", &(n % 4).to_string(), body.as_bytes())
            .unwrap();
    }
    println!(
        "{total} messages ({:.1} MB, {capabilities} capabilities) waiting in 4 partitions",
        bytes as f64 / 1e6
    );

    // iotc-adx, as examples/eventhubs.toml configures it.
    let dir = tempfile::tempdir().unwrap();
    let sas = azurite.account_sas(chrono::Utc::now() + chrono::Duration::hours(2));
    let bin = env!("CARGO_BIN_EXE_iotc-adx");
    let root = env!("CARGO_MANIFEST_DIR");
    let env = [
        (
            "IOTC_ADX__SOURCE__CONNECTION_STRING",
            hub.connection_string(KEY_NAME, "iotc-export").unwrap(),
        ),
        (
            "IOTC_ADX__SOURCE__CUSTOM_ENDPOINT",
            hub.endpoint().to_string(),
        ),
        (
            "IOTC_ADX__SOURCE__CHECKPOINT_CONTAINER",
            format!("{}/checkpoints?{sas}", azurite.blob_endpoint()),
        ),
        ("IOTC_ADX__SINK__CLUSTER", k.url().to_string()),
        (
            "IOTC_ADX__DEAD_LETTER__PATH",
            dir.path().display().to_string(),
        ),
        ("IOTC_ADX__METRICS__LISTEN", "127.0.0.1:0".to_string()),
    ];
    let config = format!("{root}/examples/eventhubs.toml");
    let p = Command::new(bin)
        .args(["provision", "--config", &config])
        .envs(env.clone())
        .current_dir(root)
        .output()
        .unwrap();
    assert!(p.status.success(), "{}", String::from_utf8_lossy(&p.stderr));
    let stand_ins_before = iotc_adx_testkit::process::own_cpu_time();
    let started = Instant::now();
    let mut child = Command::new(bin)
        .args(["run", "--config", &config])
        .envs(env)
        .current_dir(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (rs_first, rs_wall) = until_rows(&k, "smartvitalspatch", capabilities, started).await;
    let rs_cpu = iotc_adx_testkit::process::cpu_time(child.id()).as_secs_f64();
    let rs_stand_ins = (iotc_adx_testkit::process::own_cpu_time() - stand_ins_before).as_secs_f64();
    let _ = child.kill();
    let _ = child.wait();

    let mb = bytes as f64 / 1e6;
    println!(
        "iotc-adx: first row in {:.2} s, all {capabilities} rows in {:.2} s, {rs_cpu:.2} CPU-s ({:.1} MB per CPU-second); the stand-ins meanwhile: {rs_stand_ins:.2} CPU-s",
        rs_first.as_secs_f64(),
        rs_wall.as_secs_f64(),
        mb / rs_cpu
    );
    if std::env::args().any(|a| a == "--iotc-adx-only") {
        return;
    }

    // The Python consumer.
    mgmt(&k, ".create table PyTelemetry (EnqueuedTime:datetime, Device:string, Capability:string, Value:dynamic)").await;
    mgmt(
        &k,
        ".alter table PyTelemetry policy streamingingestion enable",
    )
    .await;
    mgmt(&k, r#".create table PyTelemetry ingestion json mapping 'py' '[{"column":"EnqueuedTime","path":"$.EnqueuedTime"},{"column":"Device","path":"$.Device"},{"column":"Capability","path":"$.Capability"},{"column":"Value","path":"$.Value"}]'"#).await;
    let python = iotc_adx_testkit::python::python().expect("the venv");
    let cs = hub
        .emulator_connection_string(KEY_NAME, "iotc-export")
        .unwrap();
    let url = k.url().to_string();
    let stand_ins_before = iotc_adx_testkit::process::own_cpu_time();
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(format!("{root}/benches/python/consumer.py"))
            .args([cs, url, total.to_string()])
            .output()
            .unwrap()
    });
    let (py_first, py_wall) = until_rows(&k, "PyTelemetry", capabilities, started).await;
    let py_stand_ins = (iotc_adx_testkit::process::own_cpu_time() - stand_ins_before).as_secs_f64();
    let out = out.await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let py_cpu = report["cpu_seconds"].as_f64().unwrap_or(f64::NAN);

    println!(
        "python:   first row in {:.2} s, all {capabilities} rows in {:.2} s, {py_cpu:.2} CPU-s ({:.1} MB per CPU-second); the stand-ins meanwhile: {py_stand_ins:.2} CPU-s",
        py_first.as_secs_f64(),
        py_wall.as_secs_f64(),
        mb / py_cpu
    );
    println!(
        "ratios (python / iotc-adx): wall {:.1}x, CPU {:.1}x",
        py_wall.as_secs_f64() / rs_wall.as_secs_f64(),
        py_cpu / rs_cpu
    );
}
