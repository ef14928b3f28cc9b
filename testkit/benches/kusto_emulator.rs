//! The Data Explorer emulator's own throughput, so that an end-to-end figure can say whether
//! the emulator was the limit: streaming ingestion (rows per second of wall time and per
//! CPU-second of this process, which hosts the emulator and the HTTP client), and how long
//! `T | count`, `T | summarize count() by Device` and a `where` filter take as the table grows.
//!
//! `cargo bench -p iotc-adx-testkit --bench kusto_emulator [-- ROWS [narrow|telemetry]]`
//! (default 1,000,000 rows of both shapes, one after the other): `narrow` rows have 5 columns,
//! `telemetry` rows the 10 columns of the product's telemetry tables
//! (`transforms/smartvitalspatch`), with a dynamic `Value` that is a number, a string or an
//! object.

use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions};

/// The allocator iotc-adx itself uses: the emulator allocates a JSON value per cell.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::{Duration, Instant};

const ROWS_PER_REQUEST: usize = 5_000;
const CLIENTS: usize = 2;
/// Table sizes at which the queries are timed.
const CHECKPOINTS: [usize; 4] = [100_000, 1_000_000, 3_000_000, 10_000_000];

/// The shape of the rows ingested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// 5 columns: datetime, 2 strings, real, string.
    Narrow,
    /// The product's 10 telemetry columns.
    Telemetry,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Narrow => "narrow",
            Shape::Telemetry => "telemetry",
        }
    }

    fn columns(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Shape::Narrow => &[
                ("EnqueuedTime", "datetime"),
                ("Device", "string"),
                ("Capability", "string"),
                ("Value", "real"),
                ("Site", "string"),
            ],
            Shape::Telemetry => &[
                ("EnqueuedTime", "datetime"),
                ("Message", "string"),
                ("Application", "string"),
                ("Device", "string"),
                ("Simulated", "bool"),
                ("Template", "string"),
                ("Module", "string"),
                ("Component", "string"),
                ("Capability", "string"),
                ("Value", "dynamic"),
            ],
        }
    }

    /// Row `n` as one line of multijson.
    fn row(self, n: usize, out: &mut String) {
        use std::fmt::Write;
        let time = format!(
            "2026-12-03T{:02}:{:02}:{:02}.{:03}Z",
            (n / 36_000) % 24,
            (n / 600) % 60,
            (n / 10) % 60,
            n % 1000
        );
        let _ = match self {
            Shape::Narrow => writeln!(
                out,
                "{{\"EnqueuedTime\":\"{time}\",\"Device\":\"dev-{:03}\",\"Capability\":\"HeartRate\",\"Value\":{},\"Site\":\"site-{}\"}}",
                n % 500, 60 + n % 50, n % 7
            ),
            Shape::Telemetry => {
                // A message of 5 rows: one per capability of one device.
                let message = n / 5;
                let message_id = match message % 2 {
                    0 => "null".to_string(),
                    _ => format!("\"{message:08x}-3f1e-4b7a-9c2d-5e6f7a8b9c0d\""),
                };
                let (capability, value) = match n % 5 {
                    0 => ("HeartRate", format!("{}", 60 + n % 50)),
                    1 => ("BodyTemperature", format!("{}.{}", 97 + n % 3, n % 10)),
                    2 => ("Activity", "\"running\"".to_string()),
                    3 => ("BloodPressure", format!("{{\"Diastolic\":{},\"Systolic\":{}}}", 70 + n % 20, 110 + n % 30)),
                    _ => ("BatteryLevel", format!("{}", n % 100)),
                };
                writeln!(
                    out,
                    "{{\"EnqueuedTime\":\"{time}\",\"Message\":{message_id},\"Application\":\"1dffa667-9bee-4f16-b243-25ad4151475e\",\"Device\":\"dev-{:03}\",\"Simulated\":{},\"Template\":\"urn:continuousPatientMonitoringTemplate:Smart_Vitals_Patch_{}:1\",\"Module\":\"VitalsModule\",\"Component\":\"DeviceComponent\",\"Capability\":\"{capability}\",\"Value\":{value}}}",
                    message % 500,
                    message.is_multiple_of(3),
                    message % 500 % 4
                )
            }
        };
    }

    /// A request body of [`ROWS_PER_REQUEST`] rows.
    fn body(self, request: usize) -> Vec<u8> {
        let mut out = String::new();
        for i in 0..ROWS_PER_REQUEST {
            self.row(request * ROWS_PER_REQUEST + i, &mut out);
        }
        out.into_bytes()
    }

    /// `.create table` and the JSON mapping of every column from the same-named field.
    fn commands(self) -> Vec<String> {
        let columns = self.columns();
        let schema: Vec<String> = columns.iter().map(|(n, k)| format!("{n}:{k}")).collect();
        let mapping: Vec<String> = columns
            .iter()
            .map(|(n, _)| format!(r#"{{"column":"{n}","path":"$.{n}"}}"#))
            .collect();
        vec![
            format!(".create table T ({})", schema.join(", ")),
            ".alter table T policy streamingingestion enable".into(),
            format!(
                ".create table T ingestion json mapping 'm' '[{}]'",
                mapping.join(",")
            ),
        ]
    }
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
        assert!(
            r.status().is_success(),
            "{csl}: {}",
            r.text().await.unwrap()
        );
        r.bytes().await.unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    times[1]
}

/// Times the queries at `rows` rows and prints them.
async fn queries(http: &reqwest::Client, url: &str, rows: usize) {
    let count = query_ms(http, url, "T | count").await;
    let by = query_ms(http, url, "T | summarize count() by Device").await;
    let filter = query_ms(http, url, "T | where Device == 'dev-007' | count").await;
    println!(
        "  at {rows:>10} rows: T | count {count:>7.1} ms, summarize count() by Device {by:>8.1} ms, where Device == 'dev-007' | count {filter:>8.1} ms"
    );
}

/// Ingests `total` rows of `shape` into a new table T and times the queries on the way.
async fn run(k: &KustoEmulator, http: &reqwest::Client, shape: Shape, total: usize) {
    let url = k.url().to_string();
    for c in shape.commands() {
        k.control("iot", &c).await.expect("a control command");
    }
    let requests = total.div_ceil(ROWS_PER_REQUEST);
    let bodies: Vec<Vec<u8>> = (0..requests.min(20)).map(|r| shape.body(r)).collect();
    let mb = bodies[0].len() as f64 * requests as f64 / 1e6;
    let columns = shape.columns().len();
    println!(
        "{} rows ({columns} columns): streaming ingestion, {requests} requests of {ROWS_PER_REQUEST} rows ({mb:.1} MB), {CLIENTS} at a time",
        shape.name()
    );
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
        if CHECKPOINTS.contains(&rows) || next >= requests {
            let (qc, qw) = (iotc_adx_testkit::process::own_cpu_time(), Instant::now());
            queries(http, &url, rows).await;
            query_cpu += iotc_adx_testkit::process::own_cpu_time() - qc;
            query_wall += qw.elapsed();
        }
    }
    // The queries' time is left out: these figures are ingestion's (emulator and client).
    let cpu1 = (iotc_adx_testkit::process::own_cpu_time() - cpu0).saturating_sub(query_cpu);
    let wall1 = wall0.elapsed().saturating_sub(query_wall);
    let rows = requests * ROWS_PER_REQUEST;
    println!(
        "  ingested {rows} rows in {:.2} s wall ({:.0} rows/s), {:.2} CPU-s of this process ({:.0} rows per CPU-second)",
        wall1.as_secs_f64(),
        rows as f64 / wall1.as_secs_f64(),
        cpu1.as_secs_f64(),
        rows as f64 / cpu1.as_secs_f64().max(0.001)
    );
    assert_eq!(k.state().databases["iot"].tables["T"].data.rows.len(), rows);
    k.control("iot", ".drop table T")
        .await
        .expect("a control command");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    iotc_adx_testkit::process::no_transparent_huge_pages();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let total: usize = args
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let shapes: Vec<Shape> = [Shape::Narrow, Shape::Telemetry]
        .into_iter()
        .filter(|s| {
            args.iter().any(|a| a == s.name())
                || !args.iter().any(|a| a == "narrow" || a == "telemetry")
        })
        .collect();
    let k = KustoEmulator::start(KustoOptions {
        databases: vec!["iot".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    for shape in shapes {
        run(&k, &http, shape, total).await;
    }
}
