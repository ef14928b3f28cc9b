//! End to end: IoT Central telemetry in the Event Hubs emulator → the `iotc-adx` binary (a
//! separate process, release build) → the Data Explorer emulator, streaming ingestion.
//!
//! Prints, for the binary: throughput at full speed (messages/s, MB/s of event bodies),
//! enqueue→visible latency percentiles at half that rate, and the process's peak RSS after a
//! phase in which Data Explorer throttles every request for a while (429 with Retry-After).
//! Run with `cargo bench --bench end_to_end`; record the figures in benches/README.md.

/// The stand-ins run in this process: give them the allocator iotc-adx uses, so that glibc's
/// allocator is not what a figure measures.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod support;

use iotc_adx_testkit::azurite::Azurite;
use iotc_adx_testkit::eventhubs::{EmulatorOptions, EventHubOptions, EventHubsEmulator};
use iotc_adx_testkit::kusto::{Fault, FaultKind, KustoEmulator, KustoOptions, RouteClass};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KEY_NAME: &str = "bench";
const KEY: &str = "YmVuY2gta2V5LWZvci1pb3RjLWFkeA==";
const PARTITIONS: u32 = 8;
const FULL_SPEED_MESSAGES: usize = 100_000;

fn binary() -> PathBuf {
    // Cargo builds the binary (in the bench profile) for benches, as for integration tests.
    PathBuf::from(env!("CARGO_BIN_EXE_iotc-adx"))
}

fn message(bodies: &[String], n: usize) -> Vec<u8> {
    let body = &bodies[n % bodies.len()];
    body.replacen("\"deviceId\":\"", &format!("\"deviceId\":\"b{n:07}-"), 1)
        .into_bytes()
}

fn config(
    dir: &Path,
    hub: &EventHubsEmulator,
    kusto: &KustoEmulator,
    azurite: &Azurite,
) -> PathBuf {
    std::fs::write(
        dir.join("t.jmespath"),
        "{Enqueued: $meta.enqueuedTime, Device: deviceId, Telemetry: telemetry}",
    )
    .expect("transform");
    let sas = azurite.account_sas(chrono::Utc::now() + chrono::Duration::hours(2));
    let text = format!(
        "[source]\ntype = \"eventhubs\"\nconnection_string = \"{cs}\"\ncustom_endpoint = \"{ep}\"\n\
         checkpoint_container = \"{blob}/checkpoints?{sas}\"\nbalance_interval_ms = 500\nprefetch = 1000\n\
         [sink]\ntype = \"kusto\"\ncluster = \"{k}\"\n[sink.retry]\nmax_backoff_ms = 2000\n[auth]\ntype = \"none\"\n\
         [dead_letter]\npath = \"dl\"\n[log]\nlevel = \"error\"\n\
         [[destination]]\nname = \"telemetry\"\ntransform = \"t.jmespath\"\ndatabase = \"iot\"\ntable = \"Telemetry\"\n\
         columns = \"Enqueued:datetime, Device:string, Telemetry:dynamic\"\ningestion = \"streaming\"\n\
         [destination.batch]\nmax_age_ms = 200\n",
        cs = hub.connection_string(KEY_NAME, "export").expect("connection string"),
        ep = hub.endpoint(),
        blob = azurite.blob_endpoint(),
        k = kusto.url(),
    );
    let path = dir.join("bench.toml");
    std::fs::write(&path, text).expect("config");
    path
}

fn peak_rss_mb(child: &Child) -> f64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

async fn wait_rows(kusto: &KustoEmulator, n: usize, limit: Duration) -> Duration {
    let started = Instant::now();
    while kusto.rows("iot", "Telemetry").len() < n {
        assert!(
            started.elapsed() < limit,
            "only {} of {n} rows after {limit:?}",
            kusto.rows("iot", "Telemetry").len()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    started.elapsed()
}

/// Appends `count` messages at `rate` per second (0: as fast as possible), round robin over
/// the partitions; returns the bytes appended.
async fn produce(
    hub: &EventHubsEmulator,
    bodies: &[String],
    first: usize,
    count: usize,
    rate: f64,
) -> usize {
    let started = Instant::now();
    let mut bytes = 0;
    for i in 0..count {
        if rate > 0.0 {
            let due = started + Duration::from_secs_f64(i as f64 / rate);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                tokio::time::sleep(wait).await;
            }
        }
        let body = message(bodies, first + i);
        bytes += body.len();
        hub.append(
            "export",
            &((first + i) as u32 % PARTITIONS).to_string(),
            &body,
        )
        .expect("append");
    }
    bytes
}

/// Latency of each row that appeared after `from_row`: time it became visible minus its
/// enqueued time, sampled every 5 ms.
async fn latencies(kusto: &KustoEmulator, from_row: usize, until_rows: usize) -> Vec<f64> {
    let mut seen = from_row;
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while seen < until_rows && Instant::now() < deadline {
        let rows = kusto.rows("iot", "Telemetry");
        let now = chrono::Utc::now();
        for row in rows.iter().skip(seen) {
            if let Some(t) = row[0]
                .as_str()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            {
                out.push((now - t.to_utc()).num_microseconds().unwrap_or(0) as f64 / 1e6);
            }
        }
        seen = rows.len();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn run() {
    let hub = EventHubsEmulator::start(
        EmulatorOptions::new("bench.servicebus.windows.net")
            .with_event_hub(EventHubOptions::new("export", PARTITIONS))
            .with_sas_key(KEY_NAME, KEY),
    )
    .await
    .expect("event hubs emulator");
    let kusto = KustoEmulator::start(KustoOptions {
        databases: vec!["iot".into()],
        ..Default::default()
    })
    .await
    .expect("kusto emulator");
    let azurite = tokio::task::spawn_blocking(Azurite::start)
        .await
        .expect("join")
        .expect("azurite");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config(dir.path(), &hub, &kusto, &azurite);
    let bin = binary();
    let provision = Command::new(&bin)
        .args(["provision", "--config"])
        .arg(&config)
        .output()
        .expect("provision");
    assert!(
        provision.status.success(),
        "{}",
        String::from_utf8_lossy(&provision.stderr)
    );
    let mut child = Command::new(&bin)
        .env("IOTC_ADX__METRICS__LISTEN", "127.0.0.1:0")
        .args(["run", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run");
    let bodies = support::telemetry_bodies();

    // Warm up: the processor claims the partitions, the first batches go through.
    produce(&hub, &bodies, 0, 1000, 0.0).await;
    wait_rows(&kusto, 1000, Duration::from_secs(60)).await;

    // Full speed: a backlog of messages, timed until every row is visible.
    let pid = child.id();
    let cpu_seconds = |pid: u32| iotc_adx_testkit::process::cpu_time(pid).as_secs_f64();
    let (cpu_binary, cpu_stand_ins) = (cpu_seconds(pid), cpu_seconds(std::process::id()));
    let started = Instant::now();
    let bytes = produce(&hub, &bodies, 1000, FULL_SPEED_MESSAGES, 0.0).await;
    wait_rows(&kusto, 1000 + FULL_SPEED_MESSAGES, Duration::from_secs(600)).await;
    let secs = started.elapsed().as_secs_f64();
    let rate = FULL_SPEED_MESSAGES as f64 / secs;
    let cpu_binary = cpu_seconds(pid) - cpu_binary;
    let cpu_stand_ins = cpu_seconds(std::process::id()) - cpu_stand_ins;
    println!(
        "full speed: {FULL_SPEED_MESSAGES} messages ({:.1} MB) in {secs:.2} s: {rate:.0} messages/s, {:.1} MB/s",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs
    );
    // On a shared machine the wall-clock figure is bounded by the stand-ins' CPU too; the
    // binary's own cost per byte says what it would do with the cores to itself.
    println!(
        "  CPU: iotc-adx {cpu_binary:.2} s ({:.1} MB per CPU-second), stand-ins in this process {cpu_stand_ins:.2} s (Azurite not counted)",
        bytes as f64 / 1e6 / cpu_binary
    );

    // Half speed for 10 s: latency from enqueue to visible in Data Explorer.
    let half = rate / 2.0;
    let count = (half * 10.0) as usize;
    let before = kusto.rows("iot", "Telemetry").len();
    let first = 1000 + FULL_SPEED_MESSAGES;
    let (_, mut lat) = tokio::join!(
        produce(&hub, &bodies, first, count, half),
        latencies(&kusto, before, before + count)
    );
    lat.sort_by(f64::total_cmp);
    println!(
        "half speed: {count} messages at {half:.0}/s: enqueue→visible p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} rows timed)",
        percentile(&lat, 0.5) * 1e3,
        percentile(&lat, 0.99) * 1e3,
        percentile(&lat, 1.0) * 1e3,
        lat.len()
    );

    // Throttled: every streaming request answers 429 (Retry-After 1 s) for about 10 s while
    // messages keep coming at half speed; then everything must still arrive.
    let before_rss = peak_rss_mb(&child);
    kusto.inject(Fault {
        class: RouteClass::Ingest,
        kind: FaultKind::Throttle {
            retry_after_secs: 1,
        },
        count: 40,
    });
    let first = first + count;
    produce(&hub, &bodies, first, count, half).await;
    let total = first + count;
    let drained = wait_rows(&kusto, total, Duration::from_secs(600)).await;
    println!(
        "throttled: {count} messages at {half:.0}/s under 429s, all rows in {:.1} s after the last was sent; peak RSS {:.0} MB (before throttling {:.0} MB)",
        drained.as_secs_f64(),
        peak_rss_mb(&child),
        before_rss
    );
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
}

fn main() {
    iotc_adx_testkit::process::no_transparent_huge_pages();
    // `cargo bench` passes --bench; nothing else to parse.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}
