//! Checkpoints and ownership shared with the official Python checkpoint store
//! (`azure-eventhub-checkpointstoreblob` 1.2.0 under `azure-eventhub` 5.15.1) on one Azurite
//! container, through `iotc-adx run`: a Python consumer checkpoints part of the hub and
//! iotc-adx goes on from there; iotc-adx checkpoints and a Python consumer goes on from
//! there; and a running Python consumer and iotc-adx split the partitions between them. The
//! hub and consumer group have capitals (`Export`, `Iotc-ADX`): both stores lowercase them.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use support::eventhubs::{wait_until, Process, StandIns};

const HUB: &str = "Export";
const GROUP: &str = "Iotc-ADX";
/// The blob names' common prefix, as the Python store writes it.
const PREFIX: &str = "iotc.servicebus.windows.net/export/iotc-adx";

fn body(partition: u32, i: i64) -> Vec<u8> {
    format!(r#"{{"messageSource":"telemetry","deviceId":"p{partition}-{i}","enqueuedTime":"2026-11-22T10:00:00Z","telemetry":{{}}}}"#).into_bytes()
}

/// Appends events `from..to` to both partitions.
fn send(s: &StandIns, from: i64, to: i64) {
    for p in 0..2 {
        for i in from..to {
            let seq = s.hub.append(HUB, &p.to_string(), &body(p, i)).unwrap();
            assert_eq!(seq, i);
        }
    }
}

fn python(s: &StandIns, checkpoint_below: Option<Value>) -> Process {
    let mut cfg = serde_json::json!({
        "conn": s.python_connection_string(HUB),
        "endpoint": s.python_endpoint(),
        "storage": s.storage_connection_string(),
        "container": support::eventhubs::CONTAINER,
        "group": GROUP,
        "balance_s": 1,
    });
    if let Some(below) = checkpoint_below {
        cfg["checkpoint_below"] = below;
    }
    Process::python("checkpoint_consumer.py", &[&cfg.to_string()])
}

/// The events a Python consumer printed: (partition, sequence number, checkpointed).
fn python_events(p: &Process) -> Vec<(String, i64, bool)> {
    p.json_lines()
        .iter()
        .filter_map(|l| l.get("event"))
        .map(|e| {
            (
                e["partition"].as_str().unwrap_or_default().to_string(),
                e["sequence_number"].as_i64().unwrap_or(-1),
                e["checkpointed"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

/// The table's devices.
fn devices(s: &StandIns) -> BTreeSet<String> {
    s.rows()
        .iter()
        .map(|r| r[0].as_str().unwrap_or_default().to_string())
        .collect()
}

fn expected(ranges: &[(u32, std::ops::Range<i64>)]) -> BTreeSet<String> {
    ranges
        .iter()
        .flat_map(|(p, r)| r.clone().map(move |i| format!("p{p}-{i}")))
        .collect()
}

/// Checkpoint blobs' sequence numbers and offsets, by partition.
async fn checkpoints(s: &StandIns) -> BTreeMap<String, (String, String)> {
    s.blobs()
        .await
        .into_iter()
        .filter_map(|(name, m)| {
            let p = name
                .strip_prefix(&format!("{PREFIX}/checkpoint/"))?
                .to_string();
            Some((
                p,
                (m.get("sequencenumber")?.clone(), m.get("offset")?.clone()),
            ))
        })
        .collect()
}

/// Ownership blobs' owners, by partition.
async fn owners(s: &StandIns) -> BTreeMap<String, String> {
    s.blobs()
        .await
        .into_iter()
        .filter_map(|(name, m)| {
            let p = name
                .strip_prefix(&format!("{PREFIX}/ownership/"))?
                .to_string();
            Some((p, m.get("ownerid").cloned().unwrap_or_default()))
        })
        .collect()
}

/// What the emulator stored as `partition`'s event `seq`: its offset, as a checkpoint has it.
fn offset(s: &StandIns, partition: u32, seq: i64) -> String {
    s.hub.events(HUB, &partition.to_string()).unwrap()[seq as usize]
        .offset
        .to_string()
}

/// Waits until the checkpoints are at `seqs` (partition 0, partition 1), with the offsets of
/// those events.
async fn wait_checkpoints(s: &StandIns, seqs: [i64; 2], who: &Process) {
    let want: BTreeMap<String, (String, String)> = (0..2)
        .map(|p| {
            (
                p.to_string(),
                (seqs[p as usize].to_string(), offset(s, p, seqs[p as usize])),
            )
        })
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let got = checkpoints(s).await;
        if got == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "checkpoints {got:?}, expected {want:?}\n{}",
            who.output()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_and_iotc_adx_take_over_each_others_checkpoints_and_partitions() {
    let s = StandIns::start(HUB, 2, &[GROUP]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = s.config(
        dir.path(),
        HUB,
        &format!("consumer_group = \"{GROUP}\""),
        "{Device: deviceId, Partition: $meta.partition, Seq: $meta.sequenceNumber}",
        "Device:string, Partition:string, Seq:long",
    );
    send(&s, 0, 10);

    // 1. Python checkpoints events 0..3 of partition 0 and 0..7 of partition 1, then stops
    // (releasing its partitions).
    let mut py = python(&s, Some(serde_json::json!({"0": 3, "1": 7})));
    wait_until(
        "Python's checkpoints",
        60,
        || {
            let e = python_events(&py);
            e.contains(&("0".into(), 2, true)) && e.contains(&("1".into(), 6, true))
        },
        || py.output(),
    )
    .await;
    assert!(py.stop(false, 30).success(), "{}", py.output());
    wait_checkpoints(&s, [2, 6], &py).await;
    let names: Vec<String> = s.blobs().await.into_keys().collect();
    assert_eq!(
        names,
        [
            format!("{PREFIX}/checkpoint/0"),
            format!("{PREFIX}/checkpoint/1"),
            format!("{PREFIX}/ownership/0"),
            format!("{PREFIX}/ownership/1"),
        ],
        "the Python store's layout"
    );

    // iotc-adx goes on from Python's checkpoints: exactly the other events reach the table.
    let mut adx = Process::iotc_adx(&config);
    wait_checkpoints(&s, [9, 9], &adx).await;
    assert_eq!(devices(&s), expected(&[(0, 3..10), (1, 7..10)]));
    assert_eq!(s.rows().len(), 10, "none read twice:\n{}", adx.output());
    let o = owners(&s).await;
    assert!(
        o.len() == 2 && o.values().all(|id| id.starts_with("iotc-adx-")),
        "iotc-adx owns both partitions, under the Python store's blob names: {o:?}"
    );
    assert!(adx.stop(true, 40).success(), "{}", adx.output());
    assert_eq!(
        s.blobs().await.len(),
        4,
        "iotc-adx wrote no blob under other names"
    );

    // 2. Python goes on from iotc-adx's checkpoints: exactly the new events.
    send(&s, 10, 14);
    let mut py = python(&s, None);
    wait_until(
        "Python's events",
        60,
        || python_events(&py).len() >= 8,
        || py.output(),
    )
    .await;
    let mut got: Vec<(String, i64)> = python_events(&py)
        .into_iter()
        .map(|(p, seq, _)| (p, seq))
        .collect();
    got.sort();
    let want: Vec<(String, i64)> = (0..2)
        .flat_map(|p| (10..14).map(move |i| (p.to_string(), i)))
        .collect();
    assert_eq!(
        got, want,
        "Python read none of what iotc-adx had checkpointed"
    );
    wait_checkpoints(&s, [13, 13], &py).await;

    // 3. With Python still running (owning both partitions), iotc-adx takes its fair share:
    // one partition, read from Python's checkpoint; Python keeps the other.
    let python_owner = owners(&s).await["0"].clone();
    assert!(!python_owner.is_empty() && !python_owner.starts_with("iotc-adx-"));
    let mut adx = Process::iotc_adx(&config);
    let split = |o: &BTreeMap<String, String>| {
        o.len() == 2
            && o.values().filter(|id| id.starts_with("iotc-adx-")).count() == 1
            && o.values().filter(|id| **id == python_owner).count() == 1
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let theirs = loop {
        let o = owners(&s).await;
        let closed: Vec<String> = py
            .json_lines()
            .iter()
            .filter_map(|l| l.get("closed").and_then(Value::as_str).map(str::to_string))
            .collect();
        // Python saw the partition go: it closed its reader there.
        if split(&o) && closed.len() == 1 {
            let (p, _) = o
                .iter()
                .find(|(_, id)| id.starts_with("iotc-adx-"))
                .unwrap();
            assert_eq!(&closed[0], p, "Python closed the partition iotc-adx took");
            break p.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no split of the partitions: {o:?}\n{}\n{}",
            py.output(),
            adx.output()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    send(&s, 14, 15);
    let mine: u32 = theirs.parse().unwrap();
    let ours = 1 - mine;
    wait_until(
        "the new event in each partition",
        60,
        || {
            devices(&s).contains(&format!("p{mine}-14"))
                && python_events(&py).contains(&(ours.to_string(), 14, true))
        },
        || format!("{}\n{}", py.output(), adx.output()),
    )
    .await;
    wait_checkpoints(&s, [14, 14], &adx).await;
    assert_eq!(
        devices(&s),
        expected(&[(0, 3..10), (1, 7..10), (mine, 14..15)]),
        "iotc-adx started its partition at Python's checkpoint"
    );
    assert_eq!(s.rows().len(), 11);
    assert!(adx.stop(true, 40).success(), "{}", adx.output());
    assert!(py.stop(false, 30).success(), "{}", py.output());
}
