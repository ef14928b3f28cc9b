//! Ingestion throughput of the Data Explorer sink into the local Data Explorer emulator:
//! streaming and queued (through Azurite), rows/s and MB/s, several batches in flight.
//!
//! Run with `cargo bench --bench ingest`; the figures are printed (and recorded by hand in
//! benches/README.md). They measure the sink and the client (gzip, HTTP, retries off the
//! happy path) plus the emulator's own parsing, all on this machine: an upper bound on what
//! one process sends, not a promise about a real cluster.

/// The stand-ins run in this process: give them the allocator iotc-adx uses, so that glibc's
/// allocator is not what a figure measures.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use iotc_adx::batch::Batch;
use iotc_adx::config::KustoSinkSettings;
use iotc_adx::sink::kusto::KustoSink;
use iotc_adx::sink::{IngestionMode, Outcome, Sink};
use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions, StorageMode};
use std::time::{Duration, Instant};

const ROWS_PER_BATCH: usize = 5_000;
const BATCHES: usize = 40;
const IN_FLIGHT: usize = 4;

fn payload(batch: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(ROWS_PER_BATCH * 200);
    for i in 0..ROWS_PER_BATCH {
        let n = batch * ROWS_PER_BATCH + i;
        out.extend_from_slice(
            format!(
                "{{\"EnqueuedTime\":\"2026-11-22T10:{:02}:{:02}.{:03}Z\",\"Device\":\"device-{:05}\",\"Capability\":\"HeartRate\",\"Value\":{}}}\n",
                n / 60_000 % 60,
                n / 1000 % 60,
                n % 1000,
                n % 5000,
                60.0 + (n % 400) as f64 / 10.0
            )
            .as_bytes(),
        );
    }
    out
}

fn destinations(mode: &str) -> Vec<iotc_adx::config::DestinationSettings> {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("t.jmespath"), "@").expect("transform");
    let text = format!(
        "[source]\ntype = \"file\"\npath = \"-\"\n[sink]\ntype = \"file\"\npath = \"out\"\n\
         [[destination]]\nname = \"bench\"\ntransform = \"t.jmespath\"\ndatabase = \"iot\"\ntable = \"Telemetry\"\n\
         columns = \"EnqueuedTime:datetime, Device:string, Capability:string, Value:dynamic\"\ningestion = \"{mode}\"\n"
    );
    iotc_adx::config::load_str(&text, dir.path())
        .expect("configuration")
        .destinations
}

async fn measure(mode: IngestionMode) {
    let storage = if mode == IngestionMode::Queued {
        StorageMode::Own
    } else {
        StorageMode::None
    };
    let options = KustoOptions {
        storage,
        databases: vec!["iot".into()],
        queued_batching_time: Some(Duration::from_millis(100)),
        ..Default::default()
    };
    let k = KustoEmulator::start(options).await.expect("emulator");
    let settings = KustoSinkSettings {
        cluster: k.url().parse().expect("url"),
        ingest_url: None,
        max_in_flight: IN_FLIGHT,
        request_timeout: Duration::from_secs(60),
        dedupe: true,
        watch_failures: false,
        failure_poll: Duration::from_secs(10),
        failure_hold: Duration::from_secs(600),
        shutdown_grace: Duration::from_secs(25),
        retry: Default::default(),
    };
    let client = iotc_adx::sink::kusto::client(&settings, None).expect("client");
    let destinations = destinations(&mode.to_string());
    iotc_adx::provision::provision(&client, &destinations, false, |_, _| {})
        .await
        .expect("provision");
    let sink = KustoSink::new(client, &settings, &destinations);
    let payloads: Vec<Vec<u8>> = (0..BATCHES).map(payload).collect();
    let raw: usize = payloads.iter().map(Vec::len).sum();

    let started = Instant::now();
    let mut sent = 0u64;
    let mut tasks = tokio::task::JoinSet::new();
    for (i, p) in payloads.into_iter().enumerate() {
        while tasks.len() >= IN_FLIGHT {
            sent += bytes_of(tasks.join_next().await);
        }
        let origin = vec![iotc_adx::checkpoint::Span {
            partition: "0".into(),
            first: i as i64,
            last: i as i64,
            events: 1,
        }];
        tasks.spawn(sink.deliver(Batch {
            destination: 0,
            payload: p,
            rows: ROWS_PER_BATCH,
            tickets: Vec::new(),
            origin,
        }));
    }
    while let Some(done) = tasks.join_next().await {
        sent += bytes_of(Some(done));
    }
    let accepted = started.elapsed();
    let rows = ROWS_PER_BATCH * BATCHES;
    // Queued ingestion is asynchronous: also time until the rows are in the table.
    while k.rows("iot", "Telemetry").len() < rows {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let visible = started.elapsed();
    let secs = accepted.as_secs_f64();
    println!(
        "{mode:>9}: {rows} rows in {BATCHES} batches, {:.1} MB raw, {:.1} MB gzipped; accepted in {:.2} s: {:.0} rows/s, {:.1} MB/s raw, {:.1} MB/s sent; all rows in the table after {:.2} s",
        raw as f64 / 1e6,
        sent as f64 / 1e6,
        secs,
        rows as f64 / secs,
        raw as f64 / 1e6 / secs,
        sent as f64 / 1e6 / secs,
        visible.as_secs_f64()
    );
}

fn bytes_of(
    done: Option<Result<Result<Outcome, iotc_adx::sink::SinkError>, tokio::task::JoinError>>,
) -> u64 {
    match done {
        Some(Ok(Ok(Outcome::Accepted(d)))) => d.bytes,
        other => panic!("delivery failed: {other:?}"),
    }
}

fn main() {
    iotc_adx_testkit::process::no_transparent_huge_pages();
    // `cargo bench` passes `--bench`; a name filter may follow.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for mode in [IngestionMode::Streaming, IngestionMode::Queued] {
        if filter
            .as_deref()
            .is_none_or(|f| mode.to_string().contains(f))
        {
            runtime.block_on(measure(mode));
        }
    }
}
