//! The Data Explorer emulator's own throughput, so that an end-to-end figure can say whether
//! the emulator was the limit: streaming ingestion (rows per second of wall time and per
//! CPU-second of this process, which hosts the emulator and the HTTP client), and how long
//! `T | count` and `T | summarize count() by Device` take as the table grows.
//!
//! `cargo bench -p iotc-adx-testkit --bench kusto_emulator [-- ROWS]` (default 1,000,000 rows).

use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions};

/// The allocator iotc-adx itself uses: the emulator allocates a JSON value per cell.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::{Duration, Instant};

const ROWS_PER_REQUEST: usize = 5_000;
const CLIENTS: usize = 2;

/// A request body: telemetry rows shaped like the pipeline's (multijson).
fn body(request: usize) -> Vec<u8> {
    let mut out = String::new();
    for i in 0..ROWS_PER_REQUEST {
        let n = request * ROWS_PER_REQUEST + i;
        out.push_str(&format!(
            "{{\"EnqueuedTime\":\"2026-12-03T{:02}:{:02}:{:02}.000Z\",\"Device\":\"dev-{:03}\",\"Capability\":\"HeartRate\",\"Value\":{},\"Site\":\"site-{}\"}}\n",
            (n / 3600) % 24, (n / 60) % 60, n % 60, n % 500, 60 + n % 50, n % 7
        ));
    }
    out.into_bytes()
}

async fn mgmt(http: &reqwest::Client, url: &str, csl: &str) {
    let r = http
        .post(format!("{url}/v1/rest/mgmt"))
        .json(&serde_json::json!({"db": "iot", "csl": csl}))
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success(),
        "{csl}: {}",
        r.text().await.unwrap()
    );
}

async fn query_ms(http: &reqwest::Client, url: &str, csl: &str) -> f64 {
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let r = http
            .post(format!("{url}/v2/rest/query"))
            .json(&serde_json::json!({"db": "iot", "csl": csl}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        r.bytes().await.unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    times[1]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let k = KustoEmulator::start(KustoOptions {
        databases: vec!["iot".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let url = k.url().to_string();
    let http = reqwest::Client::new();
    mgmt(&http, &url, ".create table T (EnqueuedTime:datetime, Device:string, Capability:string, Value:real, Site:string)").await;
    mgmt(
        &http,
        &url,
        ".alter table T policy streamingingestion enable",
    )
    .await;
    mgmt(&http, &url, r#".create table T ingestion json mapping 'm' '[{"column":"EnqueuedTime","path":"$.EnqueuedTime"},{"column":"Device","path":"$.Device"},{"column":"Capability","path":"$.Capability"},{"column":"Value","path":"$.Value"},{"column":"Site","path":"$.Site"}]'"#).await;
    let requests = total.div_ceil(ROWS_PER_REQUEST);
    let bodies: Vec<Vec<u8>> = (0..requests.min(20)).map(body).collect();
    let mb = bodies[0].len() as f64 * requests as f64 / 1e6;
    println!("streaming ingestion: {requests} requests of {ROWS_PER_REQUEST} rows ({mb:.1} MB), {CLIENTS} at a time");
    let ingest = format!("{url}/v1/rest/ingest/iot/T?streamFormat=multijson&mappingName=m");
    let (mut query_cpu, mut query_wall) = (Duration::ZERO, Duration::ZERO);
    let (cpu0, wall0) = (iotc_adx_testkit::process::own_cpu_time(), Instant::now());
    let mut next = 0;
    while next < requests {
        let batch: Vec<_> = (next..(next + CLIENTS).min(requests))
            .map(|i| {
                let http = http.clone();
                let ingest = ingest.clone();
                let b = bodies[i % bodies.len()].clone();
                tokio::spawn(async move {
                    let r = http.post(&ingest).body(b).send().await.unwrap();
                    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
                })
            })
            .collect();
        for t in batch {
            t.await.unwrap();
        }
        next += CLIENTS;
        let rows = (next.min(requests)) * ROWS_PER_REQUEST;
        if [100_000, 1_000_000, 3_000_000, 10_000_000].contains(&rows) || next >= requests {
            let (qc, qw) = (iotc_adx_testkit::process::own_cpu_time(), Instant::now());
            let count = query_ms(&http, &url, "T | count").await;
            let by = query_ms(&http, &url, "T | summarize count() by Device").await;
            println!("  at {rows:>9} rows: T | count {count:>8.1} ms, summarize count() by Device {by:>8.1} ms");
            query_cpu += iotc_adx_testkit::process::own_cpu_time() - qc;
            query_wall += qw.elapsed();
        }
    }
    // The queries' time is left out: these figures are ingestion's (emulator and client).
    let cpu1 = (iotc_adx_testkit::process::own_cpu_time() - cpu0).saturating_sub(query_cpu);
    let wall1 = wall0.elapsed().saturating_sub(query_wall);
    let rows = requests * ROWS_PER_REQUEST;
    println!(
        "ingested {rows} rows in {:.2} s wall ({:.0} rows/s), {:.2} CPU-s of this process ({:.0} rows per CPU-second)",
        wall1.as_secs_f64(),
        rows as f64 / wall1.as_secs_f64(),
        cpu1.as_secs_f64(),
        rows as f64 / cpu1.as_secs_f64().max(0.001)
    );
    assert_eq!(k.state().databases["iot"].tables["T"].data.rows.len(), rows);
}
