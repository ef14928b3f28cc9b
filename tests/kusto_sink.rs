//! The Data Explorer sink against the Data Explorer emulator (with Azurite for queued
//! ingestion, and the token endpoints for auth): every ingestion mode end to end, fallbacks,
//! retries with `Retry-After`, permanent errors dead-lettered, short-lived tokens, expired
//! SAS tokens, and dedupe of a batch sent twice.

mod support;

use iotc_adx::batch::Batch;
use iotc_adx::checkpoint::Span;
use iotc_adx::config::{load_str, KustoSinkSettings, Settings, SinkSettings};
use iotc_adx::deadletter::LocalDirStore;
use iotc_adx::pipeline::{Pipeline, Summary};
use iotc_adx::sink::kusto::KustoSink;
use iotc_adx::sink::{Outcome, Sink};
use iotc_adx::source::file::FileSource;
use iotc_adx_testkit::kusto::{
    Fault, FaultKind, KustoEmulator, KustoOptions, RouteClass, StorageMode,
};
use std::path::Path;
use std::time::{Duration, Instant};

const COLUMNS: &str = "EnqueuedTime:datetime, Device:string, HeartRate:real";
const TRANSFORM: &str =
    "{EnqueuedTime: enqueuedTime, Device: deviceId, HeartRate: telemetry.HeartRate}\n";

async fn emulator(storage: bool) -> KustoEmulator {
    let storage = if storage {
        StorageMode::Own
    } else {
        StorageMode::None
    };
    let options = KustoOptions {
        storage,
        databases: vec!["iot".into()],
        ..Default::default()
    };
    KustoEmulator::start(options).await.expect("emulator")
}

/// Creates the destinations' tables, mappings and policies as `iotc-adx provision` does.
async fn provision(s: &Settings) {
    let client = iotc_adx::sink::kusto::client(kusto_settings(s), None).unwrap();
    iotc_adx::provision::provision(&client, &s.destinations, false, |_, _| {})
        .await
        .expect("provision");
}

/// A configuration with one destination into iot.Vitals, fed from `messages.jsonl`.
fn settings(dir: &Path, k: &KustoEmulator, ingestion: &str, extra_sink: &str) -> Settings {
    settings_with(dir, k, ingestion, extra_sink, COLUMNS, TRANSFORM)
}

fn settings_with(
    dir: &Path,
    k: &KustoEmulator,
    ingestion: &str,
    extra_sink: &str,
    columns: &str,
    transform: &str,
) -> Settings {
    std::fs::write(dir.join("t.jmespath"), transform).unwrap();
    let text = format!(
        "[source]\ntype = \"file\"\npath = \"messages.jsonl\"\n\
         [sink]\ntype = \"kusto\"\ncluster = \"{url}\"\n{extra_sink}\n\
         [sink.retry]\ninitial_backoff_ms = 50\nmax_backoff_ms = 400\n\
         [auth]\ntype = \"none\"\n\
         [dead_letter]\npath = \"dl\"\n\
         [[destination]]\nname = \"vitals\"\ntransform = \"t.jmespath\"\ndatabase = \"iot\"\ntable = \"Vitals\"\n\
         columns = \"{columns}\"\ningestion = \"{ingestion}\"\n[destination.batch]\nmax_rows = 50\nmax_age_ms = 200\n",
        url = k.url()
    );
    load_str(&text, dir).expect("configuration")
}

/// An emulator with iot.Vitals provisioned for `ingestion`, and a sink without start-up checks.
async fn rig(ingestion: &str) -> (tempfile::TempDir, KustoEmulator, Settings, KustoSink) {
    let dir = tempfile::tempdir().unwrap();
    let k = emulator(true).await;
    let s = settings(dir.path(), &k, ingestion, "");
    provision(&s).await;
    let client = iotc_adx::sink::kusto::client(kusto_settings(&s), None).unwrap();
    let sink = KustoSink::new(client, kusto_settings(&s), &s.destinations);
    (dir, k, s, sink)
}

fn kusto_settings(s: &Settings) -> &KustoSinkSettings {
    match &s.sink {
        Some(SinkSettings::Kusto(k)) => k,
        other => panic!("not a kusto sink: {other:?}"),
    }
}

fn write_messages(dir: &Path, n: usize, heart_rate: impl Fn(usize) -> String) {
    let lines: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"messageSource":"telemetry","deviceId":"dev-{i}","enqueuedTime":"2026-11-22T10:00:{:02}.000Z","telemetry":{{"HeartRate":{}}}}}"#,
                i % 60,
                heart_rate(i)
            )
        })
        .collect();
    std::fs::write(dir.join("messages.jsonl"), lines.join("\n") + "\n").unwrap();
}

async fn run(dir: &Path, s: &Settings, sink: KustoSink) -> Summary {
    let source = FileSource::open(&iotc_adx::config::FileInput::Path(
        dir.join("messages.jsonl"),
    ))
    .unwrap();
    let dead = Box::new(LocalDirStore::new(&s.dead_letter.dir, 1 << 20));
    let pipeline = Pipeline::new(s.destinations.clone(), sink, dead);
    tokio::time::timeout(
        Duration::from_secs(60),
        pipeline.run(source, std::future::pending()),
    )
    .await
    .expect("the run ends")
    .expect("the run succeeds")
}

async fn connect(s: &Settings) -> KustoSink {
    let k = kusto_settings(s);
    let client = iotc_adx::sink::kusto::client(k, None).unwrap();
    KustoSink::connect(client, k, &s.destinations)
        .await
        .expect("connect")
}

/// Waits until the table holds `n` rows (queued ingestion is asynchronous).
async fn wait_rows(k: &KustoEmulator, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while k.rows("iot", "Vitals").len() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(k.rows("iot", "Vitals").len(), n, "rows in iot.Vitals");
}

fn ingest_requests(k: &KustoEmulator) -> Vec<iotc_adx_testkit::kusto::LoggedRequest> {
    k.requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v1/rest/ingest/"))
        .collect()
}

fn dead_letters(dir: &Path) -> Vec<serde_json::Value> {
    let Ok(files) = std::fs::read_dir(dir.join("dl")) else {
        return Vec::new();
    };
    files
        .flat_map(|f| {
            let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn streaming_rows_are_visible_through_a_query() {
    let dir = tempfile::tempdir().unwrap();
    let k = emulator(false).await;
    let s = settings(dir.path(), &k, "streaming", "");
    provision(&s).await;
    write_messages(dir.path(), 120, |i| format!("{}.5", 60 + i % 40));
    let summary = run(dir.path(), &s, connect(&s).await).await;
    assert_eq!(
        (summary.destinations[0].rows, summary.acknowledged),
        (120, 120),
        "{summary:?} {:?}",
        dead_letters(dir.path()).first()
    );
    assert!(summary.destinations[0]
        .last_target
        .as_deref()
        .unwrap()
        .contains("iot.Vitals (streaming)"));

    let client = iotc_adx::sink::kusto::client(kusto_settings(&s), None).unwrap();
    let data = client.query("iot", "Vitals | count").await.unwrap();
    assert_eq!(data.primary().unwrap().rows[0][0], 120);
    assert!(ingest_requests(&k).iter().all(|r| r.status == 200));
}

#[tokio::test]
async fn queued_rows_arrive_through_blobs_and_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let k = emulator(true).await;
    let s = settings(dir.path(), &k, "queued", "");
    provision(&s).await;
    write_messages(dir.path(), 80, |_| "72".into());
    let summary = run(dir.path(), &s, connect(&s).await).await;
    assert_eq!(summary.destinations[0].rows, 80);
    assert!(summary.destinations[0]
        .last_target
        .as_deref()
        .unwrap()
        .contains("(queued)"));
    wait_rows(&k, 80).await;
    assert!(ingest_requests(&k).is_empty(), "queued mode never streams");
}

#[tokio::test]
async fn managed_falls_back_to_queued_when_the_streaming_policy_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let k = emulator(true).await;
    let s = settings(dir.path(), &k, "managed", "");
    provision(&s).await;
    k.set_table_streaming("iot", "Vitals", false);
    write_messages(dir.path(), 120, |_| "70".into());
    let summary = run(dir.path(), &s, connect(&s).await).await;
    assert_eq!(summary.destinations[0].rows, 120);
    wait_rows(&k, 120).await;
    // Streaming was tried once, then remembered as off: later batches go straight to queued.
    let streamed = ingest_requests(&k);
    // Batches already in flight each learn it once; none retries streaming.
    assert!(
        !streamed.is_empty() && streamed.len() <= 3,
        "{} streaming attempts",
        streamed.len()
    );
    assert!(streamed.iter().all(|r| r.status == 400));
}

/// A 9 MiB batch of rows with random, distinct devices: about 5.5 MB gzipped, over the 4 MiB
/// streaming limit and under twice it. Returns it and its row count.
fn over_the_streaming_limit() -> (Batch, usize) {
    let mut payload = Vec::new();
    let mut rows = 0;
    while payload.len() < 9 * 1024 * 1024 {
        let device: String = (0..200).map(|_| fastrand::alphanumeric()).collect();
        payload.extend_from_slice(format!("{{\"EnqueuedTime\":\"2026-11-22T10:00:00Z\",\"Device\":\"d{rows}-{device}\",\"HeartRate\":1.5}}\n").as_bytes());
        rows += 1;
    }
    let batch = Batch {
        destination: 0,
        payload,
        rows,
        tickets: Vec::new(),
        origin: Vec::new(),
    };
    (batch, rows)
}

#[tokio::test]
async fn managed_sends_batches_over_the_streaming_limit_queued() {
    let (_dir, k, _s, sink) = rig("managed").await;
    let (batch, rows) = over_the_streaming_limit();
    let outcome = sink.deliver(batch).await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Accepted(d) if d.target.contains("(queued)")),
        "{outcome:?}"
    );
    assert!(ingest_requests(&k).is_empty(), "never streamed");
    wait_rows(&k, rows).await;
}

#[tokio::test]
async fn streaming_splits_batches_over_the_limit_on_the_wire() {
    let (_dir, k, _s, sink) = rig("streaming").await;
    let (batch, rows) = over_the_streaming_limit();
    let outcome = sink.deliver(batch).await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Accepted(d) if d.target.contains("(streaming)")),
        "{outcome:?}"
    );
    let sent: Vec<(u16, usize)> = ingest_requests(&k)
        .iter()
        .map(|r| {
            let length = r.headers.get("content-length").and_then(|v| v.parse().ok());
            (r.status, length.expect("a content length"))
        })
        .collect();
    assert_eq!(sent.len(), 2, "split in two halves: {sent:?}");
    for (status, length) in &sent {
        assert_eq!(*status, 200);
        assert!(*length <= 4 * 1024 * 1024, "{length} bytes in one request");
    }
    // Every row once, in the table.
    let stored = k.rows("iot", "Vitals");
    assert_eq!(stored.len(), rows);
    let distinct: std::collections::BTreeSet<&str> =
        stored.iter().filter_map(|r| r[1].as_str()).collect();
    assert_eq!(distinct.len(), rows);
}

#[tokio::test]
async fn throttling_is_retried_after_the_retry_after_delay() {
    let dir = tempfile::tempdir().unwrap();
    let k = emulator(false).await;
    let s = settings(dir.path(), &k, "streaming", "");
    provision(&s).await;
    write_messages(dir.path(), 10, |_| "70".into());
    let sink = connect(&s).await;
    k.inject(Fault {
        class: RouteClass::Ingest,
        kind: FaultKind::Throttle {
            retry_after_secs: 2,
        },
        count: 1,
    });
    let summary = run(dir.path(), &s, sink).await;
    assert_eq!(summary.destinations[0].rows, 10);
    let tries = ingest_requests(&k);
    assert_eq!(
        tries.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![429, 200]
    );
    let gap = tries[1].at.duration_since(tries[0].at);
    // The backoff policy alone would wait at most 400 ms: the 2 s came from Retry-After.
    assert!(
        gap >= Duration::from_millis(1900) && gap < Duration::from_secs(5),
        "retried after {gap:?}"
    );
}

#[tokio::test]
async fn server_errors_are_retried_until_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let k = emulator(false).await;
    let s = settings(dir.path(), &k, "streaming", "");
    provision(&s).await;
    write_messages(dir.path(), 10, |_| "70".into());
    let sink = connect(&s).await;
    k.inject(Fault {
        class: RouteClass::Ingest,
        kind: FaultKind::Status(503),
        count: 2,
    });
    k.inject(Fault {
        class: RouteClass::Ingest,
        kind: FaultKind::Reset,
        count: 1,
    });
    let summary = run(dir.path(), &s, sink).await;
    assert_eq!(summary.destinations[0].rows, 10);
    assert_eq!(k.rows("iot", "Vitals").len(), 10);
    let statuses: Vec<u16> = ingest_requests(&k).iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses.len() >= 3, "{statuses:?}");
}

#[tokio::test]
async fn a_permanent_error_dead_letters_the_rows_with_the_service_error() {
    let dir = tempfile::tempdir().unwrap();
    let k = emulator(false).await;
    // The cluster's HeartRate is a long; the configuration says string: "fast" passes our
    // checks and is refused by the service.
    provision(&settings_with(
        dir.path(),
        &k,
        "streaming",
        "",
        "EnqueuedTime:datetime, Device:string, HeartRate:long",
        TRANSFORM,
    ))
    .await;
    let transform = "{EnqueuedTime: enqueuedTime, Device: deviceId, HeartRate: 'fast'}";
    let s = settings_with(
        dir.path(),
        &k,
        "streaming",
        "",
        "EnqueuedTime:datetime, Device:string, HeartRate:string",
        transform,
    );
    write_messages(dir.path(), 5, |_| "1".into());
    let client = iotc_adx::sink::kusto::client(kusto_settings(&s), None).unwrap();
    // Without start-up checks (they would refuse the type mismatch first).
    let sink = KustoSink::new(client, kusto_settings(&s), &s.destinations);
    let summary = run(dir.path(), &s, sink).await;
    assert_eq!(summary.destinations[0].rows, 0);
    assert_eq!(
        summary.acknowledged, 5,
        "dead-lettered events count as handled"
    );
    let letters = dead_letters(dir.path());
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0]["stage"], "ingest");
    assert!(
        letters[0]["reason"].as_str().unwrap().contains("400"),
        "{}",
        letters[0]["reason"]
    );
    assert_eq!(letters[0]["rows"].as_str().unwrap().lines().count(), 5);
    assert_eq!(
        ingest_requests(&k).len(),
        1,
        "a permanent error is not retried"
    );
}

#[tokio::test]
async fn connect_refuses_a_missing_table_or_a_type_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let k = emulator(false).await;
    let s = settings(dir.path(), &k, "streaming", "");
    let client = iotc_adx::sink::kusto::client(kusto_settings(&s), None).unwrap();
    let connect = || async {
        KustoSink::connect(client.clone(), kusto_settings(&s), &s.destinations)
            .await
            .err()
            .unwrap()
            .to_string()
    };
    let e = connect().await;
    assert!(
        e.contains("iot.Vitals") && e.contains("iotc-adx provision"),
        "{e}"
    );
    k.create_table(
        "iot",
        "Vitals",
        &[
            ("EnqueuedTime", "datetime"),
            ("Device", "string"),
            ("HeartRate", "real"),
        ],
    );
    let e = connect().await;
    assert!(
        e.contains("mapping \"iotc_adx\"") && e.contains("iotc-adx provision"),
        "{e}"
    );
    k.create_table(
        "iot",
        "Vitals",
        &[
            ("EnqueuedTime", "datetime"),
            ("Device", "string"),
            ("HeartRate", "long"),
        ],
    );
    let e = connect().await;
    assert!(
        e.contains("column HeartRate") && e.contains("long") && e.contains("real"),
        "{e}"
    );
}

#[tokio::test]
async fn expired_sas_tokens_are_refreshed() {
    let dir = tempfile::tempdir().unwrap();
    let k = emulator(true).await;
    // Long enough for the emulator to fetch the first blob under load, short enough to wait out.
    k.set_sas_lifetime(Some(Duration::from_secs(4)));
    let s = settings(dir.path(), &k, "queued", "");
    provision(&s).await;
    let client = iotc_adx::sink::kusto::client(kusto_settings(&s), None).unwrap();
    let sink = KustoSink::new(client, kusto_settings(&s), &s.destinations);
    let row = |i: usize| {
        format!(
            "{{\"EnqueuedTime\":\"2026-11-22T10:00:00Z\",\"Device\":\"d{i}\",\"HeartRate\":1}}\n"
        )
        .into_bytes()
    };
    let first = sink
        .deliver(Batch {
            destination: 0,
            payload: row(1),
            rows: 1,
            tickets: Vec::new(),
            origin: Vec::new(),
        })
        .await
        .unwrap();
    assert!(matches!(first, Outcome::Accepted(_)));
    wait_rows(&k, 1).await;
    // A SAS handed out now, as the sink got its own: once it has expired, the storage refuses
    // it, so the second batch can only arrive if the sink fetched fresh resources.
    let stale = temp_storage_sas(k.url()).await;
    tokio::time::sleep(Duration::from_millis(4100)).await;
    let refused = reqwest::Client::new()
        .put(stale.replacen('?', "/expired-probe.txt?", 1))
        .header("x-ms-blob-type", "BlockBlob")
        .body("probe")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(
        refused.as_u16(),
        403,
        "the expired SAS is refused by the storage"
    );
    let second = tokio::time::timeout(
        Duration::from_secs(60),
        sink.deliver(Batch {
            destination: 0,
            payload: row(2),
            rows: 1,
            tickets: Vec::new(),
            origin: Vec::new(),
        }),
    )
    .await
    .expect("the second batch is delivered with fresh resources, not retried forever")
    .unwrap();
    assert!(matches!(second, Outcome::Accepted(_)), "{second:?}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while k.rows("iot", "Vitals").len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        k.rows("iot", "Vitals").len(),
        2,
        "failures: {:?}",
        k.state().failures
    );
}

/// The first `TempStorage` container URL (with its SAS) of `.get ingestion resources`.
async fn temp_storage_sas(cluster: &str) -> String {
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("{cluster}/v1/rest/mgmt"))
        .json(&serde_json::json!({"db": "iot", "csl": ".get ingestion resources"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["Tables"][0]["Rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[0] == "TempStorage")
        .and_then(|r| r[1].as_str())
        .expect("a TempStorage resource")
        .to_string()
}

#[tokio::test]
async fn a_batch_sent_twice_is_ingested_once_with_dedupe() {
    let (_dir, k, _s, sink) = rig("queued").await;
    let origin = vec![Span {
        partition: "3".into(),
        first: 1200,
        last: 1202,
        events: 3,
    }];
    let payload = b"{\"Device\":\"a\"}\n{\"Device\":\"b\"}\n{\"Device\":\"c\"}\n".to_vec();
    let batch = Batch {
        destination: 0,
        payload,
        rows: 3,
        tickets: Vec::new(),
        origin,
    };
    assert!(matches!(
        sink.deliver(batch.clone()).await.unwrap(),
        Outcome::Accepted(_)
    ));
    wait_rows(&k, 3).await;
    // As after a crash between ingestion and checkpoint: the same events, batched the same way.
    assert!(matches!(
        sink.deliver(batch).await.unwrap(),
        Outcome::Accepted(_)
    ));
    let skipped = || {
        k.state()
            .failures
            .iter()
            .any(|f| f.error_code == "Skipped_IngestByTagAlreadyExists")
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !skipped() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(skipped(), "the service skipped the second copy by its tag");
    assert_eq!(k.rows("iot", "Vitals").len(), 3);
}

/// The cluster's FailedIngestionsQueue URL (with SAS), from `.get ingestion resources`.
async fn failed_queue(s: &Settings) -> String {
    let client = iotc_adx::sink::kusto::client(kusto_settings(s), None).unwrap();
    let data = client
        .mgmt("NetDefaultDB", ".get ingestion resources")
        .await
        .unwrap();
    let table = data.primary().unwrap();
    table
        .rows
        .iter()
        .find(|r| r[0] == "FailedIngestionsQueue")
        .and_then(|r| r[1].as_str())
        .unwrap()
        .to_string()
}

/// The texts of the messages waiting in a queue (peeked: nothing is hidden or taken).
async fn peek(queue: &str) -> Vec<String> {
    let (base, sas) = queue.split_once('?').unwrap();
    let url = format!("{base}/messages?{sas}&peekonly=true&numofmessages=32");
    let xml = reqwest::Client::new()
        .get(url)
        .header("x-ms-version", "2021-08-06")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    xml.split("<MessageText>")
        .skip(1)
        .filter_map(|m| m.split("</MessageText>").next())
        .map(str::to_string)
        .collect()
}

/// A failure report of another tool on the same cluster.
async fn post_foreign_report(queue: &str) -> String {
    use base64::Engine;
    let report = serde_json::json!({
        "OperationId": "00000000-0000-0000-0000-000000000001", "Database": "iot", "Table": "Vitals",
        "IngestionSourceId": "00000000-0000-0000-0000-0000000000aa",
        "IngestionSourcePath": "https://other.blob.core.windows.net/c/from-another-tool.csv.gz",
        "ErrorCode": "BadRequest_InvalidData", "FailureStatus": "Permanent", "Details": "theirs",
    });
    let text = base64::engine::general_purpose::STANDARD.encode(report.to_string());
    let (base, sas) = queue.split_once('?').unwrap();
    let status = reqwest::Client::new()
        .post(format!("{base}/messages?{sas}"))
        .header("x-ms-version", "2021-08-06")
        .body(format!(
            "<QueueMessage><MessageText>{text}</MessageText></QueueMessage>"
        ))
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "{status}");
    text
}

/// Queued batches sent by one instance that then stops (a restart: it never reads their
/// failure reports) fail later; two other replicas watch the shared failed-ingestions queue.
/// Every failure reaches exactly one of them, once, with its destination, events and rows
/// from the blob; another tool's report in the same queue is left there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_failures_reach_one_replica_once_across_restarts_and_others_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let k = emulator(true).await;
    let columns_ok = "EnqueuedTime:datetime, Device:string, HeartRate:long";
    provision(&settings_with(
        dir.path(),
        &k,
        "queued",
        "",
        columns_ok,
        TRANSFORM,
    ))
    .await;
    let columns_wrong = "EnqueuedTime:datetime, Device:string, HeartRate:string";
    let sender = settings_with(
        dir.path(),
        &k,
        "queued",
        "failure_poll_ms = 600000",
        columns_wrong,
        TRANSFORM,
    );
    let queue = failed_queue(&sender).await;
    let foreign = post_foreign_report(&queue).await;

    let client = iotc_adx::sink::kusto::client(kusto_settings(&sender), None).unwrap();
    let first = KustoSink::new(client, kusto_settings(&sender), &sender.destinations);
    let mut sent = Vec::new();
    for i in 0..6i64 {
        let origin = vec![Span {
            partition: i.to_string(),
            first: i * 10,
            last: i * 10 + 1,
            events: 2,
        }];
        let payload = format!("{{\"Device\":\"d{i}a\",\"HeartRate\":\"fast\"}}\n{{\"Device\":\"d{i}b\",\"HeartRate\":\"slow\"}}\n");
        let batch = Batch {
            destination: 0,
            payload: payload.clone().into_bytes(),
            rows: 2,
            tickets: Vec::new(),
            origin: origin.clone(),
        };
        assert!(matches!(
            first.deliver(batch).await.unwrap(),
            Outcome::Accepted(_)
        ));
        sent.push((origin, payload));
    }
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(30);
    while k.state().failures.len() < 6 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        k.state().failures.len(),
        6,
        "the service reported every batch"
    );

    // The replicas hold a taken report for 1 s: should one die before its letter is stored,
    // the other takes the report after that.
    let watcher = settings_with(
        dir.path(),
        &k,
        "queued",
        "failure_poll_ms = 100\nfailure_hold_ms = 1000",
        columns_wrong,
        TRANSFORM,
    );
    let replica = || {
        let client = iotc_adx::sink::kusto::client(kusto_settings(&watcher), None).unwrap();
        let mut sink = KustoSink::new(client, kusto_settings(&watcher), &watcher.destinations);
        let late = sink.late_rejections().expect("failures are watched");
        (sink, late)
    };
    // A replica that dies holding the first report it takes, before storing its letter.
    let (dying, mut late_dying) = replica();
    let lost = tokio::time::timeout(Duration::from_secs(30), late_dying.recv())
        .await
        .expect("a report in time")
        .expect("a rejection");
    drop((dying, late_dying));
    let (b, mut late_b) = replica();
    let (c, mut late_c) = replica();
    let mut received = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.len() < 6 && Instant::now() < deadline {
        tokio::select! {
            Some(r) = late_b.recv() => { b.late_rejection_stored(r.receipt.unwrap()); received.push(("b", r)); }
            Some(r) = late_c.recv() => { c.late_rejection_stored(r.receipt.unwrap()); received.push(("c", r)); }
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
    assert!(
        received.iter().any(|(_, r)| r.events == lost.events),
        "the dead replica's report came back to another"
    );
    // Both replicas keep polling past the hold: nothing else may arrive (the stored reports
    // are deleted, not only hidden).
    let quiet = Instant::now() + Duration::from_secs(3);
    while Instant::now() < quiet {
        tokio::select! {
            Some(r) = late_b.recv() => received.push(("b", r)),
            Some(r) = late_c.recv() => received.push(("c", r)),
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
    assert_eq!(received.len(), 6, "each failure once: {received:#?}");
    let mut got: Vec<(Vec<Span>, String)> = received
        .iter()
        .map(|(_, r)| {
            assert_eq!(r.destination, "vitals");
            assert!(
                r.reason.contains("iot.Vitals") && r.reason.contains("permanent"),
                "{}",
                r.reason
            );
            assert!(r
                .blob
                .as_deref()
                .is_some_and(|b| b.ends_with("__iotc-adx.multijson.gz") && !b.contains("sig=")));
            (
                r.events.clone(),
                String::from_utf8(r.rows.clone().unwrap()).unwrap(),
            )
        })
        .collect();
    got.sort_by_key(|(events, _)| events[0].first);
    assert_eq!(got, sent, "the events and rows of every batch");
    let waiting = peek(&queue).await;
    assert_eq!(
        waiting,
        vec![foreign],
        "only the other tool's report is left, untouched"
    );
}

#[tokio::test]
async fn managed_falls_back_to_queued_when_throttling_persists() {
    let (_dir, k, _s, sink) = rig("managed").await;
    k.inject(Fault {
        class: RouteClass::Ingest,
        kind: FaultKind::Throttle {
            retry_after_secs: 0,
        },
        count: 3,
    });
    let payload = b"{\"Device\":\"a\"}\n".to_vec();
    let origin = vec![Span {
        partition: "0".into(),
        first: 1,
        last: 1,
        events: 1,
    }];
    let outcome = sink
        .deliver(Batch {
            destination: 0,
            payload,
            rows: 1,
            tickets: Vec::new(),
            origin,
        })
        .await
        .unwrap();
    assert!(
        matches!(&outcome, Outcome::Accepted(d) if d.target.contains("(queued)")),
        "{outcome:?}"
    );
    let statuses: Vec<u16> = ingest_requests(&k).iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        vec![429, 429, 429],
        "streaming_attempts (3) throttled attempts, then queued"
    );
    wait_rows(&k, 1).await;
}

#[tokio::test]
async fn requests_retries_throttling_and_fallbacks_are_counted() {
    use iotc_adx::telemetry::metrics::metrics;
    let (_dir, k, mut s, _) = rig("managed").await;
    // A name of its own: other tests in this process count under "vitals".
    s.destinations[0].name = "metered".into();
    let client = iotc_adx::sink::kusto::client(kusto_settings(&s), None).unwrap();
    let sink = KustoSink::new(client, kusto_settings(&s), &s.destinations);
    k.inject(Fault {
        class: RouteClass::Ingest,
        kind: FaultKind::Throttle {
            retry_after_secs: 0,
        },
        count: 3,
    });
    let outcome = sink
        .deliver(Batch {
            destination: 0,
            payload: b"{\"Device\":\"a\"}\n".to_vec(),
            rows: 1,
            tickets: Vec::new(),
            origin: Vec::new(),
        })
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Accepted(_)), "{outcome:?}");
    let m = &metrics().kusto_sink;
    let requests = |mode: &str, outcome: &str| {
        m.ingestion_request_seconds
            .with_label_values(&["metered", mode, outcome])
            .get_sample_count()
    };
    assert_eq!(requests("streaming", "throttled"), 3);
    assert_eq!(requests("queued", "accepted"), 1);
    assert_eq!(
        m.throttled_responses
            .with_label_values(&["metered", "streaming"])
            .get(),
        3
    );
    assert_eq!(
        m.ingestion_retries
            .with_label_values(&["metered", "streaming"])
            .get(),
        2,
        "the third throttled attempt falls back instead of retrying"
    );
    assert_eq!(
        m.queued_fallbacks
            .with_label_values(&["metered", "streaming_failing"])
            .get(),
        1
    );
}
