//! Pipeline tests with a scripted sink: deliveries completing out of order, refused batches,
//! backpressure, and checkpoints that never pass an unconfirmed event.

use super::*;
use crate::batch::Batch;
use crate::checkpoint::Progress;
use crate::checkpoint::{CheckpointError, Checkpointer};
use crate::config::{load_str, Settings};
use crate::deadletter::{LocalDirStore, Stage};
use crate::event::EventMeta;
use crate::sink::{Delivery, DeliveryFuture, Outcome};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

fn settings(dir: &std::path::Path, max_rows: usize) -> Settings {
    std::fs::write(dir.join("t.jmespath"), "{Device: deviceId}\n").unwrap();
    std::fs::write(dir.join("in.jsonl"), "").unwrap();
    let text = format!(
        r#"
[source]
type = "file"
path = "in.jsonl"
[sink]
type = "file"
path = "out"
[[destination]]
name = "devices"
transform = "t.jmespath"
database = "iot"
table = "Devices"
columns = "Device:string"
[destination.batch]
max_rows = {max_rows}
max_age_ms = 3600000
"#
    );
    load_str(&text, dir).unwrap()
}

fn event(partition: &str, sequence_number: i64, device: &str) -> SourceEvent {
    let body = format!(
        r#"{{"messageSource":"telemetry","deviceId":"{device}","enqueuedTime":"2026-01-01T00:00:00Z","telemetry":{{}}}}"#
    );
    SourceEvent {
        body: body.into_bytes(),
        meta: EventMeta {
            partition: partition.into(),
            sequence_number,
            offset: sequence_number.to_string(),
            enqueued_time: chrono::Utc::now(),
            partition_key: None,
            properties: Default::default(),
            system_properties: Default::default(),
            origin: None,
        },
    }
}

/// Hands out fixed events, then ends; records checkpoints.
struct VecSource {
    events: Option<Vec<SourceEvent>>,
    progress: Arc<Mutex<Vec<Progress>>>,
    check: Option<CheckpointCheck>,
}

struct Recorder(Arc<Mutex<Vec<Progress>>>, Option<CheckpointCheck>);

/// Called with each checkpoint as it is committed: panics if it passes an event whose batch
/// the sink has not finished with.
type CheckpointCheck = Arc<dyn Fn(&Progress) + Send + Sync>;

impl Checkpointer for Recorder {
    async fn commit(&mut self, progress: Vec<Progress>) -> Result<(), CheckpointError> {
        if let Some(check) = &self.1 {
            progress.iter().for_each(|p| check(p));
        }
        self.0.lock().unwrap().extend(progress);
        Ok(())
    }
}

impl Source for VecSource {
    type Checkpointer = Recorder;
    fn checkpointer(&mut self) -> Recorder {
        Recorder(self.progress.clone(), self.check.clone())
    }
    async fn next_batch(&mut self, _max: usize) -> Result<Option<Vec<SourceEvent>>, SourceError> {
        Ok(self.events.take())
    }
}

/// Completes batch N after a delay that shrinks with N (so later batches finish first),
/// refuses batches holding device "bad", and records the highest concurrency it saw.
#[derive(Clone, Default)]
struct ScriptedSink {
    calls: Arc<AtomicUsize>,
    running: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    /// The payloads of the batches it has finished with (accepted or refused).
    finished: Arc<Mutex<Vec<String>>>,
}

impl Sink for ScriptedSink {
    fn deliver(&self, batch: Batch) -> DeliveryFuture {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let (running, peak) = (self.running.clone(), self.peak.clone());
        let finished = self.finished.clone();
        Box::pin(async move {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(60u64.saturating_sub(n as u64 * 20))).await;
            running.fetch_sub(1, Ordering::SeqCst);
            finished
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&batch.payload).into_owned());
            if String::from_utf8_lossy(&batch.payload).contains("bad") {
                return Ok(Outcome::Rejected {
                    reason: "column Device: bad value".into(),
                    payload: batch.payload,
                });
            }
            Ok(Outcome::Accepted(Delivery {
                target: "test".into(),
                bytes: batch.payload.len() as u64,
            }))
        })
    }
    fn max_in_flight(&self) -> usize {
        2
    }
}

#[tokio::test]
async fn checkpoints_follow_confirmed_deliveries_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path(), 2);
    let events = vec![
        event("0", 1, "a"),
        event("0", 2, "b"),
        event("0", 3, "bad"),
        event("0", 4, "c"),
        event("0", 5, "d"),
        event("1", 9, "e"),
    ];
    let progress = Arc::new(Mutex::new(Vec::new()));
    let sink = ScriptedSink::default();
    // Each checkpoint may only pass events whose batch the sink has finished with.
    let devices: Vec<(String, i64, String)> = events
        .iter()
        .map(|e| {
            let body: serde_json::Value = serde_json::from_slice(&e.body).unwrap();
            let device = body["deviceId"].as_str().unwrap().to_string();
            (e.meta.partition.clone(), e.meta.sequence_number, device)
        })
        .collect();
    let finished = sink.finished.clone();
    let checked = Arc::new(AtomicUsize::new(0));
    let check: CheckpointCheck = Arc::new({
        let checked = checked.clone();
        move |p: &Progress| {
            let done = finished.lock().unwrap();
            for (partition, seq, device) in &devices {
                if *partition == p.partition && *seq <= p.sequence_number {
                    let quoted = format!("\"{device}\"");
                    assert!(
                        done.iter().any(|b| b.contains(&quoted)),
                        "checkpoint {}:{} passed event {seq} ({device}) before its batch finished",
                        p.partition,
                        p.sequence_number
                    );
                }
            }
            checked.fetch_add(1, Ordering::SeqCst);
        }
    });
    let dead = Box::new(LocalDirStore::new(&dir.path().join("dl"), 1 << 20));
    let pipeline = Pipeline::new(s.destinations, sink.clone(), dead);
    let source = VecSource {
        events: Some(events),
        progress: progress.clone(),
        check: Some(check),
    };
    let summary = pipeline.run(source, std::future::pending()).await.unwrap();
    assert!(
        checked.load(Ordering::SeqCst) >= 2,
        "checkpoints were checked"
    );

    assert_eq!(summary.acknowledged, 6);
    assert_eq!(summary.destinations[0].rows, 4);
    assert_eq!(
        summary.dead_letters.get(&Stage::Ingest),
        Some(&2),
        "the refused batch held two events"
    );
    assert_eq!(
        sink.peak.load(Ordering::SeqCst),
        2,
        "deliveries overlapped, never more than max_in_flight at once"
    );
    // Partition 0 advances monotonically and ends at 5, partition 1 at 9.
    let progress = progress.lock().unwrap();
    let p0: Vec<i64> = progress
        .iter()
        .filter(|p| p.partition == "0")
        .map(|p| p.sequence_number)
        .collect();
    assert!(p0.windows(2).all(|w| w[0] < w[1]), "{p0:?}");
    assert_eq!(p0.last(), Some(&5));
    assert_eq!(
        progress
            .iter()
            .filter(|p| p.partition == "1")
            .map(|p| p.sequence_number)
            .next_back(),
        Some(9)
    );

    let letters: Vec<serde_json::Value> = std::fs::read_dir(dir.path().join("dl"))
        .unwrap()
        .flat_map(|f| {
            std::fs::read_to_string(f.unwrap().path())
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0]["stage"], "ingest");
    assert_eq!(letters[0]["reason"], "column Device: bad value");
    assert_eq!(letters[0]["events"][0]["first"], 3);
    assert_eq!(letters[0]["events"][0]["last"], 4);
    assert!(letters[0]["rows"].as_str().unwrap().contains("\"bad\""));
}

/// A sink that never completes: the run must still stop after a signal, and the events it
/// holds must not be checkpointed.
struct StuckSink;

impl Sink for StuckSink {
    fn deliver(&self, _batch: Batch) -> DeliveryFuture {
        Box::pin(std::future::pending())
    }
}

#[tokio::test(start_paused = true)]
async fn a_stuck_sink_holds_checkpoints_back_and_shutdown_still_ends() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path(), 1);
    let progress = Arc::new(Mutex::new(Vec::new()));
    let dead = Box::new(LocalDirStore::new(&dir.path().join("dl"), 1 << 20));
    let pipeline = Pipeline::new(s.destinations, StuckSink, dead);
    let source = VecSource {
        events: Some(vec![event("0", 1, "a"), event("0", 2, "b")]),
        progress: progress.clone(),
        check: None,
    };
    let summary = pipeline
        .run(source, tokio::time::sleep(Duration::from_secs(1)))
        .await
        .unwrap();
    assert!(summary.interrupted);
    assert_eq!(summary.acknowledged, 0);
    // What decides `iotc-adx run`'s exit code 3: two one-row batches never confirmed.
    assert_eq!(summary.unconfirmed_batches, 2);
    assert!(progress.lock().unwrap().is_empty());
}

/// Accepts everything, reports failures later through its late channel, and records which
/// receipts the pipeline confirmed as stored.
struct LateSink(
    std::sync::Mutex<Option<tokio::sync::mpsc::Receiver<crate::sink::LateRejection>>>,
    Arc<Mutex<Vec<u64>>>,
);

impl Sink for LateSink {
    fn deliver(&self, batch: Batch) -> DeliveryFuture {
        Box::pin(async move {
            Ok(Outcome::Accepted(Delivery {
                target: "t".into(),
                bytes: batch.payload.len() as u64,
            }))
        })
    }
    fn late_rejections(
        &mut self,
    ) -> Option<tokio::sync::mpsc::Receiver<crate::sink::LateRejection>> {
        self.0.lock().unwrap().take()
    }
    fn late_rejection_stored(&self, receipt: u64) {
        self.1.lock().unwrap().push(receipt);
    }
}

#[tokio::test]
async fn late_rejections_become_dead_letters() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path(), 1);
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let events = crate::checkpoint::Span {
        partition: "0".into(),
        first: 1,
        last: 1,
        events: 1,
    };
    let late = crate::sink::LateRejection {
        destination: "devices".into(),
        reason: "bad data".into(),
        events: vec![events],
        blob: Some("https://b/x".into()),
        rows: Some(b"{\"a\":1}\n".to_vec()),
        receipt: Some(7),
    };
    tx.send(late).await.unwrap();
    let dead = Box::new(LocalDirStore::new(&dir.path().join("dl"), 1 << 20));
    let stored = Arc::new(Mutex::new(Vec::new()));
    let pipeline = Pipeline::new(
        s.destinations,
        LateSink(std::sync::Mutex::new(Some(rx)), stored.clone()),
        dead,
    );
    let progress = Arc::new(Mutex::new(Vec::new()));
    // The source never ends; the run stops on the signal after the rejection arrived.
    struct Endless(Arc<Mutex<Vec<Progress>>>);
    impl Source for Endless {
        type Checkpointer = Recorder;
        fn checkpointer(&mut self) -> Recorder {
            Recorder(self.0.clone(), None)
        }
        async fn next_batch(
            &mut self,
            _max: usize,
        ) -> Result<Option<Vec<SourceEvent>>, SourceError> {
            std::future::pending().await
        }
    }
    // Stop once the sink has heard the letter is stored (at most 10 s).
    let heard = stored.clone();
    let stop = async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while heard.lock().unwrap().is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let summary = pipeline.run(Endless(progress), stop).await.unwrap();
    assert_eq!(summary.dead_letters.get(&Stage::Ingest), Some(&1));
    let text = std::fs::read_dir(dir.path().join("dl"))
        .unwrap()
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .collect::<String>();
    let letter: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(
        (
            letter["reason"].as_str(),
            letter["blob"].as_str(),
            letter["destination"].as_str()
        ),
        (Some("bad data"), Some("https://b/x"), Some("devices"))
    );
    assert_eq!(letter["rows"], "{\"a\":1}\n", "the rows read from the blob");
    assert_eq!(letter["kind"], "failed_after_queueing");
    assert_eq!(
        *stored.lock().unwrap(),
        vec![7],
        "the sink hears the letter is stored"
    );
}

/// Counts the events it hands out; never ends.
struct Counting(Arc<AtomicUsize>, Arc<Mutex<Vec<Progress>>>);

impl Source for Counting {
    type Checkpointer = Recorder;
    fn checkpointer(&mut self) -> Recorder {
        Recorder(self.1.clone(), None)
    }
    async fn next_batch(&mut self, max: usize) -> Result<Option<Vec<SourceEvent>>, SourceError> {
        let start = self.0.fetch_add(max, Ordering::SeqCst);
        Ok(Some(
            (start..start + max)
                .map(|i| event("0", i as i64, "d"))
                .collect(),
        ))
    }
}

#[tokio::test(start_paused = true)]
async fn a_stuck_sink_stops_reading_instead_of_buffering() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path(), 100);
    let read = Arc::new(AtomicUsize::new(0));
    let dead = Box::new(LocalDirStore::new(&dir.path().join("dl"), 1 << 20));
    let pipeline = Pipeline::new(s.destinations, StuckSink, dead);
    let source = Counting(read.clone(), Arc::new(Mutex::new(Vec::new())));
    let summary = pipeline
        .run(source, tokio::time::sleep(Duration::from_secs(5)))
        .await
        .unwrap();
    // One batch in flight (stuck), one waiting for its slot, then the channel and the reader's
    // hand-over fill up: a fixed bound, whatever the time.
    let bound = (CHANNEL_DEPTH + 2) * READ_BATCH + 2 * 100;
    assert!(
        read.load(Ordering::SeqCst) <= bound,
        "read {} events, bound {bound}",
        read.load(Ordering::SeqCst)
    );
    assert!(
        summary.messages <= 200 + READ_BATCH as u64,
        "processed {}",
        summary.messages
    );
    assert_eq!(summary.acknowledged, 0);
}

/// Hands out fixed chunks of events, one per read, then ends.
struct ChunkSource(VecDeque<Vec<SourceEvent>>);

impl Source for ChunkSource {
    type Checkpointer = crate::checkpoint::NoCheckpoints;
    fn checkpointer(&mut self) -> crate::checkpoint::NoCheckpoints {
        crate::checkpoint::NoCheckpoints
    }
    async fn next_batch(&mut self, _max: usize) -> Result<Option<Vec<SourceEvent>>, SourceError> {
        Ok(self.0.pop_front())
    }
}

/// A resumable sink whose table already holds events 1..=3 of partition "0"; records each
/// delivered batch's (partition, first, last) and each lookup.
#[derive(Clone, Default)]
struct HoldingSink {
    delivered: Arc<Mutex<Vec<(String, i64, i64)>>>,
    lookups: Arc<Mutex<Vec<String>>>,
}

impl Sink for HoldingSink {
    fn deliver(&self, batch: Batch) -> DeliveryFuture {
        assert_eq!(batch.origin.len(), 1, "one partition per batch");
        let span = &batch.origin[0];
        self.delivered
            .lock()
            .unwrap()
            .push((span.partition.clone(), span.first, span.last));
        Box::pin(async move {
            Ok(Outcome::Accepted(Delivery {
                target: "test".into(),
                bytes: batch.payload.len() as u64,
            }))
        })
    }
    fn resumable(&self, _destination: usize) -> bool {
        true
    }
    fn ingested(&self, _destination: usize, partition: &str) -> crate::sink::IngestedFuture {
        self.lookups.lock().unwrap().push(partition.to_string());
        let held = if partition == "0" {
            vec![crate::dedupe::SeqRange::new(1, 3)]
        } else {
            Vec::new()
        };
        Box::pin(async move { Ok(held) })
    }
}

#[tokio::test]
async fn events_the_table_holds_or_read_again_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path(), 2);
    let first: Vec<SourceEvent> = (1..=6)
        .map(|i| event("0", i, "a"))
        .chain((1..=3).map(|i| event("1", i, "b")))
        .collect();
    // Partition 0 read again from an older position (a new reader after a lost link).
    let again: Vec<SourceEvent> = (4..=6).map(|i| event("0", i, "a")).collect();
    let sink = HoldingSink::default();
    let dead = Box::new(LocalDirStore::new(&dir.path().join("dl"), 1 << 20));
    let pipeline = Pipeline::new(s.destinations, sink.clone(), dead);
    let summary = pipeline
        .run(
            ChunkSource(VecDeque::from([first, again])),
            std::future::pending(),
        )
        .await
        .unwrap();

    let mut delivered = sink.delivered.lock().unwrap().clone();
    delivered.sort();
    // Events 1..=3 of "0" were in the table already.
    let expected =
        [("0", 4, 5), ("0", 6, 6), ("1", 1, 2), ("1", 3, 3)].map(|(p, a, b)| (p.to_string(), a, b));
    assert_eq!(delivered, expected.to_vec());
    assert_eq!(summary.destinations[0].rows, 6);
    assert_eq!(
        summary.destinations[0].skipped, 6,
        "3 held by the table, 3 read again"
    );
    assert_eq!(summary.acknowledged, 12);
    assert_eq!(
        *sink.lookups.lock().unwrap(),
        vec!["0", "1", "0"],
        "asked on first sight and when read again"
    );
}

mod network;
