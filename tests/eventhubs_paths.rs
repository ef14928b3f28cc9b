//! Event Hubs settings and metadata users depend on, through `iotc-adx run` against the
//! stand-ins: a consumer group of its own (read and checkpointed under that group only),
//! `start_position = "latest"` and a time (at or after it, to the millisecond), and
//! application properties and annotations reaching `$meta` from real AMQP messages — sent
//! by the emulator's own producer path and by the official Python producer.

mod support;

use iotc_adx::source::eventhubs::checkpoint_store::{BlobCheckpointStore, ContainerAuth};
use iotc_adx_testkit::eventhubs::AppendEvent;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use support::eventhubs::{wait_until, Process, StandIns, CONTAINER, NAMESPACE};

const HUB: &str = "export";

fn body(device: &str) -> Vec<u8> {
    format!(r#"{{"messageSource":"telemetry","deviceId":"{device}","enqueuedTime":"2026-11-22T10:00:00Z","telemetry":{{}}}}"#).into_bytes()
}

/// The checkpoints' sequence numbers under `group`, by partition, read from the blobs.
async fn checkpoints(s: &StandIns, group: &str) -> BTreeMap<String, String> {
    let prefix = format!("{NAMESPACE}/{HUB}/{}/checkpoint/", group.to_lowercase());
    s.blobs()
        .await
        .into_iter()
        .filter_map(|(name, m)| {
            Some((
                name.strip_prefix(&prefix)?.to_string(),
                m.get("sequencenumber")?.clone(),
            ))
        })
        .collect()
}

/// Waits until the checkpoints under `group` are `want` (partition → sequence number).
async fn wait_checkpoints(s: &StandIns, group: &str, want: &[(&str, i64)], adx: &Process) {
    let want: BTreeMap<String, String> = want
        .iter()
        .map(|(p, n)| (p.to_string(), n.to_string()))
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let got = checkpoints(s, group).await;
        if got == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "checkpoints under {group}: {got:?}, expected {want:?}\n{}",
            adx.output()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The table's first column, sorted.
fn devices(s: &StandIns) -> Vec<String> {
    let mut d: Vec<String> = s
        .rows()
        .iter()
        .map(|r| r[0].as_str().unwrap_or_default().to_string())
        .collect();
    d.sort();
    d
}

const DEVICE_ONLY: (&str, &str) = ("{Device: deviceId}", "Device:string");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_group_of_its_own_reads_and_checkpoints_under_it() {
    let s = StandIns::start(HUB, 2, &["iotc-adx"]).await;
    for p in 0..2 {
        for i in 0..5 {
            s.hub
                .append(HUB, &p.to_string(), &body(&format!("p{p}-{i}")))
                .unwrap();
        }
    }
    // Another consumer of $Default got as far as event 2 of each partition.
    let url = format!(
        "{}/{CONTAINER}?{}",
        s.azurite.blob_endpoint(),
        s.azurite
            .account_sas(chrono::Utc::now() + chrono::Duration::hours(1))
    );
    let store = BlobCheckpointStore::new(url.parse().unwrap(), ContainerAuth::Sas, None).unwrap();
    for p in 0..2 {
        let e = &s.hub.events(HUB, &p.to_string()).unwrap()[2];
        azure_messaging_eventhubs::CheckpointStore::update_checkpoint(
            &store,
            azure_messaging_eventhubs::models::Checkpoint {
                fully_qualified_namespace: NAMESPACE.into(),
                event_hub_name: HUB.into(),
                consumer_group: "$Default".into(),
                partition_id: p.to_string(),
                offset: Some(e.offset.to_string()),
                sequence_number: Some(2),
            },
        )
        .await
        .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let (transform, columns) = DEVICE_ONLY;
    let config = s.config(
        dir.path(),
        HUB,
        "consumer_group = \"iotc-adx\"",
        transform,
        columns,
    );
    let mut adx = Process::iotc_adx(&config);
    wait_checkpoints(&s, "iotc-adx", &[("0", 4), ("1", 4)], &adx).await;
    assert_eq!(
        s.rows().len(),
        10,
        "every event, from the group's own start"
    );
    assert!(adx.stop(true, 40).success(), "{}", adx.output());
    assert_eq!(
        checkpoints(&s, "$Default").await,
        BTreeMap::from([("0".into(), "2".into()), ("1".into(), "2".into())]),
        "$Default's checkpoints untouched"
    );
    let names: Vec<String> = s.blobs().await.into_keys().collect();
    assert_eq!(
        names
            .iter()
            .filter(|n| n.contains("/ownership/"))
            .collect::<Vec<_>>(),
        [
            &format!("{NAMESPACE}/{HUB}/iotc-adx/ownership/0"),
            &format!("{NAMESPACE}/{HUB}/iotc-adx/ownership/1")
        ],
        "ownership under the group's own path only"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_position_latest_reads_only_what_comes_after_the_start() {
    let s = StandIns::start(HUB, 2, &[]).await;
    for p in 0..2 {
        for i in 0..3 {
            s.hub
                .append(HUB, &p.to_string(), &body(&format!("old{p}-{i}")))
                .unwrap();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let (transform, columns) = DEVICE_ONLY;
    let config = s.config(
        dir.path(),
        HUB,
        "start_position = \"latest\"",
        transform,
        columns,
    );
    let mut adx = Process::iotc_adx(&config);
    wait_until(
        "a reader on each partition",
        60,
        || (0..2).all(|p| s.hub.readers(HUB, "$Default", &p.to_string()) == 1),
        || adx.output(),
    )
    .await;
    for p in 0..2 {
        for i in 0..2 {
            s.hub
                .append(HUB, &p.to_string(), &body(&format!("new{p}-{i}")))
                .unwrap();
        }
    }
    wait_checkpoints(&s, "$Default", &[("0", 4), ("1", 4)], &adx).await;
    assert_eq!(devices(&s), ["new0-0", "new0-1", "new1-0", "new1-1"]);
    assert!(adx.stop(true, 40).success(), "{}", adx.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_position_time_reads_from_the_event_enqueued_at_that_time() {
    let s = StandIns::start(HUB, 2, &[]).await;
    // T = 2026-03-04T05:06:07.089Z; events one millisecond on either side of it.
    let t: i64 = 1_772_600_767_089;
    for (p, offsets) in [(0, vec![-1, 0, 1]), (1, vec![-1, 3])] {
        for d in offsets {
            let e = AppendEvent::new(&body(&format!("p{p}{d:+}"))).enqueued_at_ms(t + d);
            s.hub.append_event(HUB, &p.to_string(), e).unwrap();
        }
    }
    assert_eq!(s.hub.events(HUB, "0").unwrap()[1].enqueued_time_ms, t);
    let dir = tempfile::tempdir().unwrap();
    let (transform, columns) = DEVICE_ONLY;
    let config = s.config(
        dir.path(),
        HUB,
        "start_position = \"2026-03-04T05:06:07.089Z\"",
        transform,
        columns,
    );
    let mut adx = Process::iotc_adx(&config);
    wait_checkpoints(&s, "$Default", &[("0", 2), ("1", 1)], &adx).await;
    assert_eq!(
        devices(&s),
        ["p0+0", "p0+1", "p1+3"],
        "the events at or after T, none before"
    );
    assert!(adx.stop(true, 40).success(), "{}", adx.output());
}

/// What a transform reads of `$meta`.
const META_TRANSFORM: &str = r#"{Device: deviceId, DeviceProp: $meta.properties."iotcentral-device-id", App: $meta.properties."iotcentral-application-id", Source: $meta.properties."iotcentral-message-source", Count: $meta.properties.count, Flag: $meta.properties.flag, Key: $meta.partitionKey, Seq: $meta.sequenceNumber, Offset: $meta.offset, Enqueued: $meta.enqueuedTime, Partition: $meta.partition, Annotation: $meta.systemProperties."iothub-connection-device-id"}"#;
const META_COLUMNS: &str = "Device:string, DeviceProp:string, App:string, Source:string, Count:long, Flag:bool, Key:string, Seq:long, Offset:string, Enqueued:string, Partition:string, Annotation:string";

fn properties(device: &str) -> Value {
    json!({
        "iotcentral-device-id": device,
        "iotcentral-application-id": "8d4b6c1e-app",
        "iotcentral-message-source": "telemetry",
        "count": 42,
        "flag": true,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_properties_and_annotations_reach_meta() {
    let s = StandIns::start(HUB, 2, &[]).await;
    // One event through the emulator's API, enqueued at a time of its own...
    let t: i64 = 1_772_600_767_089;
    let mut e = AppendEvent::new(&body("dev-api"))
        .partition_key("dev-api")
        .annotation("iothub-connection-device-id", json!("dev-api"))
        .enqueued_at_ms(t);
    for (k, v) in properties("dev-api").as_object().unwrap() {
        e = e.property(k, v.clone());
    }
    s.hub.append_event(HUB, "1", e).unwrap();
    // ...and one sent by the official Python producer.
    let mut py = Process::python(
        "send_with_properties.py",
        &[
            &s.python_connection_string(HUB),
            &s.python_endpoint(),
            std::str::from_utf8(&body("dev-py")).unwrap(),
            "dev-py",
            &properties("dev-py").to_string(),
        ],
    );
    assert!(py.stop(false, 60).success(), "{}", py.output());

    let dir = tempfile::tempdir().unwrap();
    let config = s.config(dir.path(), HUB, "", META_TRANSFORM, META_COLUMNS);
    let mut adx = Process::iotc_adx(&config);
    wait_until("both rows", 60, || s.rows().len() == 2, || adx.output()).await;
    assert!(adx.stop(true, 40).success(), "{}", adx.output());

    let mut stored = BTreeMap::new();
    for p in ["0", "1"] {
        for ev in s.hub.events(HUB, p).unwrap() {
            let body: Value = serde_json::from_slice(&ev.body_bytes().unwrap()).unwrap();
            let device = body["deviceId"].as_str().unwrap().to_string();
            stored.insert(device, (p.to_string(), ev));
        }
    }
    for row in s.rows() {
        let device = row[0].as_str().unwrap().to_string();
        let (partition, ev) = &stored[&device];
        let enqueued = chrono::DateTime::parse_from_rfc3339(row[9].as_str().unwrap())
            .unwrap()
            .timestamp_millis();
        let annotation = if device == "dev-api" {
            json!("dev-api")
        } else {
            Value::Null
        };
        assert_eq!(
            row,
            vec![
                json!(device),
                json!(device),
                json!("8d4b6c1e-app"),
                json!("telemetry"),
                json!(42),
                json!(true),
                json!(device),
                json!(ev.sequence_number),
                json!(ev.offset.to_string()),
                row[9].clone(),
                json!(partition),
                annotation,
            ],
            "{device}'s row"
        );
        assert_eq!(enqueued, ev.enqueued_time_ms, "{device}'s enqueued time");
    }
    assert_eq!(
        stored["dev-api"].1.enqueued_time_ms, t,
        "the API's own time"
    );
}
