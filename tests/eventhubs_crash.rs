//! `kill -9` of the running binary mid-stream, then a restart: every event's row is in Data
//! Explorer (nothing lost), and the duplicates the crash caused (rows accepted but not yet
//! checkpointed) are counted. With streaming ingestion some come twice; with queued ingestion
//! and dedupe, none does: the restarted binary reads the `ingest-by:` tags of the table's
//! extents and skips the events whose rows are already there, and says so in its summary.
//! Many kills of two replicas under injected faults: `tests/chaos.rs`.

mod support;

use iotc_adx_testkit::azurite::Azurite;
use iotc_adx_testkit::eventhubs::{EmulatorOptions, EventHubOptions, EventHubsEmulator};
use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions, StorageMode};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEY_NAME: &str = "listen";
const KEY: &str = "aW90Yy1hZHgtdGVzdC1rZXk=";
const PARTITIONS: u32 = 4;

/// How the run ingests, and how often it checkpoints.
struct Mode {
    ingestion: &'static str,
    checkpoint_every_ms: u64,
}

fn config(
    dir: &Path,
    hub: &EventHubsEmulator,
    kusto: &KustoEmulator,
    azurite: &Azurite,
    mode: &Mode,
) -> std::path::PathBuf {
    std::fs::write(
        dir.join("t.jmespath"),
        "{EnqueuedTime: enqueuedTime, Device: deviceId}",
    )
    .unwrap();
    let sas = azurite.account_sas(chrono::Utc::now() + chrono::Duration::hours(2));
    let text = format!(
        "[source]\ntype = \"eventhubs\"\nconnection_string = \"{cs}\"\ncustom_endpoint = \"{ep}\"\n\
         checkpoint_container = \"{blob}/checkpoints?{sas}\"\ncheckpoint_every_ms = {every}\nbalance_interval_ms = 500\n\
         [sink]\ntype = \"kusto\"\ncluster = \"{k}\"\n[auth]\ntype = \"none\"\n[dead_letter]\npath = \"dl\"\n[log]\nlevel = \"warn\"\n\
         [[destination]]\nname = \"devices\"\ntransform = \"t.jmespath\"\ndatabase = \"iot\"\ntable = \"Devices\"\n\
         columns = \"EnqueuedTime:datetime, Device:string\"\ningestion = \"{ingestion}\"\n[destination.batch]\nmax_rows = 20\nmax_age_ms = 50\n{policy}",
        cs = hub.connection_string(KEY_NAME, "export").unwrap(),
        ep = hub.endpoint(),
        blob = azurite.blob_endpoint(),
        k = kusto.url(),
        every = mode.checkpoint_every_ms,
        ingestion = mode.ingestion,
        // The table's batching policy as provisioned (the service's minimum, 10 s): a
        // restarted binary waits that long (plus a margin) before it reads a partition the
        // dead one owned, so that the batches it queued are committed and seen by dedupe.
        policy = if mode.ingestion == "queued" {
            "[destination.batching_policy]\nmax_time_s = 10\n"
        } else {
            ""
        },
    );
    let path = dir.join("iotc-adx.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Starts `iotc-adx run`, serving /metrics on `listen`.
fn start(config: &Path, listen: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_iotc-adx"))
        .env("IOTC_ADX__METRICS__LISTEN", listen)
        .args(["run", "--config"])
        .arg(config)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

fn send(hub: &EventHubsEmulator, from: usize, to: usize) {
    for i in from..to {
        let body = format!(
            r#"{{"messageSource":"telemetry","deviceId":"dev-{i:05}","enqueuedTime":"2026-11-22T10:00:00Z","telemetry":{{}}}}"#
        );
        hub.append(
            "export",
            &(i as u32 % PARTITIONS).to_string(),
            body.as_bytes(),
        )
        .unwrap();
    }
}

/// Rows per device.
fn counts(kusto: &KustoEmulator) -> BTreeMap<String, usize> {
    let mut map = BTreeMap::new();
    for row in kusto.rows("iot", "Devices") {
        *map.entry(row[1].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    map
}

async fn wait_for(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs the scenario; returns (rows at the kill, duplicate rows, the second run's summary).
async fn kill_and_restart(mode: Mode) -> (usize, usize, String) {
    let hub = EventHubsEmulator::start(
        EmulatorOptions::new("iotc.servicebus.windows.net")
            .with_event_hub(EventHubOptions::new("export", PARTITIONS))
            .with_sas_key(KEY_NAME, KEY),
    )
    .await
    .unwrap();
    let azurite = Arc::new(
        tokio::task::spawn_blocking(Azurite::start)
            .await
            .unwrap()
            .unwrap(),
    );
    let kusto = KustoEmulator::start(KustoOptions {
        databases: vec!["iot".into()],
        storage: StorageMode::Shared(azurite.clone()),
        queued_batching_time: Some(Duration::from_millis(300)),
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &hub, &kusto, &azurite, &mode);
    let provision = Command::new(env!("CARGO_BIN_EXE_iotc-adx"))
        // Every run serves /metrics: let each pick a free port.
        .env("IOTC_ADX__METRICS__LISTEN", "127.0.0.1:0")
        .args(["provision", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        provision.status.success(),
        "{}",
        String::from_utf8_lossy(&provision.stderr)
    );

    send(&hub, 0, 2000);
    let mut first = start(&config, "127.0.0.1:0");
    wait_for("the first rows", 60, || {
        kusto.rows("iot", "Devices").len() >= 200
    })
    .await;
    first.kill().expect("SIGKILL");
    let _ = first.wait();
    // Rows at the kill: what the dead instance queued is committed within the emulator's
    // batching time; under a loaded machine the emulator can lag, so wait until the table
    // stops growing rather than trusting the clock. (The restarted binary does not rely on
    // this: it waits out the provisioned batching time itself before reading a partition
    // the dead one owned.)
    let mut stable = (kusto.rows("iot", "Devices").len(), Instant::now());
    while stable.1.elapsed() < Duration::from_millis(1500) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = kusto.rows("iot", "Devices").len();
        if now != stable.0 {
            stable = (now, Instant::now());
        }
    }
    let at_kill = stable.0;

    send(&hub, 2000, 2400);
    let listen = {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        free.local_addr().unwrap().to_string()
    };
    let mut second = start(&config, &listen);
    wait_for("every device's row", 90, || counts(&kusto).len() == 2400).await;
    // Caught up: the replica owns every partition, and once the last checkpoints are written
    // (by time, on quiet partitions too) the lag it measures is 0 everywhere.
    let caught_up = |text: &str| {
        text.contains(&format!("iotc_adx_owned_partitions {PARTITIONS}"))
            && (0..PARTITIONS).all(|p| {
                text.contains(&format!(
                    "iotc_adx_partition_lag_events{{partition=\"{p}\"}} 0\n"
                ))
            })
    };
    let started = Instant::now();
    loop {
        let text = tokio::task::spawn_blocking({
            let listen = listen.clone();
            move || support::running::http_get(&listen, "/metrics").1
        })
        .await
        .unwrap();
        if caught_up(&text) {
            assert!(
                text.contains("iotc_adx_ingestion_request_duration_seconds_count{destination=\"devices\",mode=\""),
                "{text}"
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the metrics never showed every partition owned and caught up:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(second.id().to_string())
        .status();
    let status = second.wait().unwrap();
    let mut summary = String::new();
    second
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut summary)
        .unwrap();
    assert!(status.success(), "a clean stop after SIGTERM: {status:?}");
    // Queued rows arrive a batching time after they were accepted: wait until the table
    // stops growing (a duplicate arriving late would show).
    let mut last = (kusto.rows("iot", "Devices").len(), Instant::now());
    while last.1.elapsed() < Duration::from_millis(1500) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = kusto.rows("iot", "Devices").len();
        if now != last.0 {
            last = (now, Instant::now());
        }
    }

    let counts = counts(&kusto);
    assert_eq!(counts.len(), 2400, "no event lost");
    let duplicates: usize = counts.values().map(|n| n - 1).sum();
    println!(
        "{} ingestion, kill -9 after {at_kill} rows: {duplicates} duplicate rows after the restart",
        mode.ingestion
    );
    (at_kill, duplicates, summary)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_stream_then_restart_loses_nothing() {
    let (at_kill, duplicates, _) = kill_and_restart(Mode {
        ingestion: "streaming",
        checkpoint_every_ms: 100,
    })
    .await;
    assert!(
        at_kill < 2000,
        "the kill came before the first 2,000 events were all in: {at_kill} rows"
    );
    // Only events accepted but not yet checkpointed when the process died can come twice:
    // with checkpoints every 100 ms, far fewer than the rows at the kill.
    assert!(
        duplicates < at_kill,
        "{duplicates} duplicates, {at_kill} rows at the kill"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_with_queued_dedupe_gives_no_duplicates() {
    // Checkpoints only every 2 s: many events are read again after the restart.
    let (_, duplicates, summary) = kill_and_restart(Mode {
        ingestion: "queued",
        checkpoint_every_ms: 2000,
    })
    .await;
    println!("{summary}");
    assert_eq!(
        duplicates, 0,
        "queued ingestion with dedupe ingests nothing twice"
    );
    assert!(
        summary.contains("already in the table"),
        "the restart skipped events the table held: {summary}"
    );
}
