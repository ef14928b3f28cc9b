//! The read loop never waits on the network (issue 13): a dedupe lookup or a checkpoint write
//! that hangs holds back only what depends on it, while other partitions' deliveries and
//! checkpoints, batch deadlines and a shutdown signal go on.

use super::*;
use crate::dedupe::SeqRange;
use crate::sink::IngestedFuture;
use std::collections::VecDeque;
use tokio::sync::{oneshot, watch};

/// Hands out its chunks one per read (the next one only once `after[i]` batches were
/// delivered, when given), then ends or, with `end == false`, waits forever like a quiet hub.
struct Chunks {
    chunks: VecDeque<Vec<SourceEvent>>,
    end: bool,
    /// Per chunk after the first: how many deliveries must have completed before it is read.
    after: VecDeque<usize>,
    delivered: Arc<Mutex<Vec<(String, String)>>>,
    checkpointer: Option<GatedRecorder>,
}

impl Source for Chunks {
    type Checkpointer = GatedRecorder;
    fn checkpointer(&mut self) -> GatedRecorder {
        self.checkpointer.take().unwrap()
    }
    async fn next_batch(&mut self, _max: usize) -> Result<Option<Vec<SourceEvent>>, SourceError> {
        if let Some(need) = self.after.pop_front() {
            while self.delivered.lock().unwrap().len() < need {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        match self.chunks.pop_front() {
            Some(chunk) => Ok(Some(chunk)),
            None if self.end => Ok(None),
            None => std::future::pending().await,
        }
    }
}

/// Records checkpoints; with a gate, a commit carrying progress waits until the gate opens
/// (a checkpoint store that does not answer).
struct GatedRecorder {
    progress: Arc<Mutex<Vec<Progress>>>,
    gate: Option<watch::Receiver<bool>>,
}

impl Checkpointer for GatedRecorder {
    async fn commit(&mut self, progress: Vec<Progress>) -> Result<(), CheckpointError> {
        if let (Some(gate), false) = (&mut self.gate, progress.is_empty()) {
            let _ = gate.wait_for(|open| *open).await;
        }
        self.progress.lock().unwrap().extend(progress);
        Ok(())
    }
}

/// Accepts every batch, recording (partition, rows) once delivered. When `resumable`, the
/// lookup of partition "0" answers only once `gate` opens (never, while it stays closed),
/// saying the table holds its events 1 and 2; other partitions' lookups answer at once.
#[derive(Clone)]
struct GatedSink {
    resumable: bool,
    gate: watch::Receiver<bool>,
    delivered: Arc<Mutex<Vec<(String, String)>>>,
    /// The partitions asked about, in order.
    asked: Arc<Mutex<Vec<String>>>,
}

impl Sink for GatedSink {
    fn deliver(&self, batch: Batch) -> DeliveryFuture {
        let delivered = self.delivered.clone();
        Box::pin(async move {
            let partition = batch.origin.first().map(|s| s.partition.clone());
            let rows = String::from_utf8_lossy(&batch.payload).into_owned();
            delivered
                .lock()
                .unwrap()
                .push((partition.unwrap_or_default(), rows));
            Ok(Outcome::Accepted(Delivery {
                target: "t".into(),
                bytes: batch.payload.len() as u64,
            }))
        })
    }
    fn resumable(&self, _destination: usize) -> bool {
        self.resumable
    }
    fn ingested(&self, _destination: usize, partition: &str) -> IngestedFuture {
        self.asked.lock().unwrap().push(partition.to_string());
        if partition != "0" {
            return Box::pin(async { Ok(Vec::new()) });
        }
        let mut gate = self.gate.clone();
        Box::pin(async move {
            if gate.wait_for(|open| *open).await.is_err() {
                std::future::pending::<()>().await;
            }
            Ok(vec![SeqRange::new(1, 2)])
        })
    }
}

/// Everything a test drives: the pipeline's parts and the handles to watch and open gates.
struct Rig {
    dir: tempfile::TempDir,
    sink: GatedSink,
    open_lookup: watch::Sender<bool>,
    progress: Arc<Mutex<Vec<Progress>>>,
}

fn rig(resumable: bool) -> Rig {
    let (open_lookup, gate) = watch::channel(false);
    Rig {
        dir: tempfile::tempdir().unwrap(),
        sink: GatedSink {
            resumable,
            gate,
            delivered: Arc::default(),
            asked: Arc::default(),
        },
        open_lookup,
        progress: Arc::default(),
    }
}

impl Rig {
    fn pipeline(&self, max_rows: usize) -> Pipeline<GatedSink> {
        let s = settings(self.dir.path(), max_rows);
        let dead = Box::new(LocalDirStore::new(&self.dir.path().join("dl"), 1 << 20));
        Pipeline::new(s.destinations, self.sink.clone(), dead)
    }

    fn source(&self, chunks: Vec<Vec<SourceEvent>>, end: bool) -> Chunks {
        Chunks {
            chunks: chunks.into(),
            end,
            after: VecDeque::new(),
            delivered: self.sink.delivered.clone(),
            checkpointer: Some(GatedRecorder {
                progress: self.progress.clone(),
                gate: None,
            }),
        }
    }

    /// The last checkpoint of `partition`.
    fn checkpoint(&self, partition: &str) -> Option<i64> {
        let progress = self.progress.lock().unwrap();
        let seqs = progress.iter().filter(|p| p.partition == partition);
        seqs.map(|p| p.sequence_number).next_back()
    }

    /// The rows delivered from `partition`, batch by batch.
    fn rows(&self, partition: &str) -> Vec<String> {
        let delivered = self.sink.delivered.lock().unwrap();
        let of = delivered.iter().filter(|(p, _)| p == partition);
        of.map(|(_, rows)| rows.clone()).collect()
    }
}

/// Events `seqs` of `partition`, from devices named `p<partition>-<seq>`.
fn events(partition: &str, seqs: std::ops::RangeInclusive<i64>) -> Vec<SourceEvent> {
    seqs.map(|i| event(partition, i, &format!("p{partition}-{i}")))
        .collect()
}

/// Waits until `done` holds, for at most `within` (test time); whether it came to hold.
async fn until(within: Duration, done: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while !done() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

#[tokio::test(start_paused = true)]
async fn shutdown_is_seen_while_a_lookup_hangs() {
    let rig = rig(true);
    let source = rig.source(vec![events("0", 1..=3)], false);
    let run = rig
        .pipeline(2)
        .run(source, tokio::time::sleep(Duration::from_secs(1)));
    let summary = tokio::time::timeout(Duration::from_secs(5), run)
        .await
        .expect("the run stops promptly on a signal while partition 0's lookup hangs")
        .unwrap();
    assert!(summary.interrupted);
    assert_eq!(summary.acknowledged, 0);
    assert!(
        rig.progress.lock().unwrap().is_empty(),
        "nothing checkpointed"
    );
}

#[tokio::test(start_paused = true)]
async fn other_partitions_deliver_and_checkpoint_while_a_lookup_hangs() {
    let rig = rig(true);
    let chunk = [events("0", 1..=3), events("1", 1..=4)].concat();
    let source = rig.source(vec![chunk], false);
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(rig.pipeline(2).run(source, async {
        let _ = stopped.await;
    }));
    let reached = until(Duration::from_secs(10), || rig.checkpoint("1") == Some(4)).await;
    assert!(
        reached,
        "partition 1's batches are delivered and checkpointed while partition 0's lookup hangs"
    );
    assert_eq!(rig.rows("1").len(), 2, "two batches of two rows");
    assert!(rig.rows("0").is_empty() && rig.checkpoint("0").is_none());

    stop.send(()).unwrap();
    let summary = tokio::time::timeout(Duration::from_secs(2), run)
        .await
        .expect("the run stops promptly on a signal")
        .unwrap()
        .unwrap();
    assert!(summary.interrupted);
    assert_eq!(summary.acknowledged, 4, "partition 1's events only");
    assert_eq!(
        rig.checkpoint("0"),
        None,
        "events waiting are never checkpointed"
    );
}

#[tokio::test(start_paused = true)]
async fn events_waiting_for_a_lookup_go_on_in_order_once_it_answers() {
    let rig = rig(true);
    let chunks = vec![
        events("0", 1..=3),
        [events("0", 4..=6), events("1", 1..=2)].concat(),
    ];
    let source = rig.source(chunks, true);
    let run = tokio::spawn(rig.pipeline(2).run(source, std::future::pending()));
    let went_on = until(Duration::from_secs(10), || rig.checkpoint("1") == Some(2)).await;
    assert!(
        went_on,
        "partition 1 is not held back by partition 0's lookup"
    );
    assert!(rig.rows("0").is_empty(), "partition 0 waits for its lookup");

    rig.open_lookup.send(true).unwrap();
    let summary = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("the run ends once the source is exhausted and the lookup answered")
        .unwrap()
        .unwrap();
    // Events 1 and 2 are in the table already; the rest follow in order.
    let rows = rig.rows("0").concat();
    let devices: Vec<&str> = rows
        .lines()
        .map(|l| {
            l.trim_start_matches("{\"Device\":\"")
                .trim_end_matches("\"}")
        })
        .collect();
    assert_eq!(devices, ["p0-3", "p0-4", "p0-5", "p0-6"]);
    assert_eq!(summary.destinations[0].skipped, 2);
    assert_eq!(summary.acknowledged, 8);
    let p0: Vec<i64> = (rig.progress.lock().unwrap().iter())
        .filter(|p| p.partition == "0")
        .map(|p| p.sequence_number)
        .collect();
    assert!(p0.windows(2).all(|w| w[0] < w[1]), "{p0:?}");
    assert_eq!(p0.last(), Some(&6));
}

#[tokio::test(start_paused = true)]
async fn a_partition_read_again_while_it_waits_is_looked_up_again_after_what_came_before() {
    let rig = rig(true);
    // Partition 0 is read again from 2 (a new reader) while its first lookup is under way.
    let source = rig.source(vec![events("0", 1..=3), events("0", 2..=4)], true);
    let run = tokio::spawn(rig.pipeline(10).run(source, std::future::pending()));
    let waiting = until(Duration::from_secs(10), || {
        rig.sink.asked.lock().unwrap().len() == 1 && rig.rows("0").is_empty()
    });
    assert!(waiting.await);
    rig.open_lookup.send(true).unwrap();
    let summary = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("the run ends")
        .unwrap()
        .unwrap();
    assert_eq!(*rig.sink.asked.lock().unwrap(), ["0", "0"]);
    // 1 and 2 are in the table; 3 was taken before the partition was read again.
    assert_eq!(
        rig.rows("0").concat().lines().count(),
        2,
        "{:?}",
        rig.rows("0")
    );
    assert_eq!(summary.destinations[0].skipped, 4);
    assert_eq!(summary.acknowledged, 6);
}

#[tokio::test(start_paused = true)]
async fn a_checkpoint_write_that_hangs_does_not_stall_deliveries() {
    let rig = rig(false);
    let (open, gate) = watch::channel(false);
    let mut source = rig.source(vec![events("0", 1..=2), events("0", 3..=4)], true);
    // The second chunk comes only after the first batch was delivered, so its checkpoint
    // write is already under way (and hanging) when the second batch needs the loop.
    source.after = VecDeque::from([0, 1]);
    source.checkpointer.as_mut().unwrap().gate = Some(gate);
    let run = tokio::spawn(rig.pipeline(2).run(source, std::future::pending()));
    let delivered = until(Duration::from_secs(10), || rig.rows("0").len() == 2).await;
    assert!(delivered, "deliveries go on while a checkpoint write hangs");
    assert!(
        rig.progress.lock().unwrap().is_empty(),
        "the write still hangs"
    );

    open.send(true).unwrap();
    let summary = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("the run ends once the write answered")
        .unwrap()
        .unwrap();
    assert_eq!(summary.acknowledged, 4);
    assert_eq!(rig.checkpoint("0"), Some(4), "what waited is written");
}

#[tokio::test(start_paused = true)]
async fn events_waiting_for_a_lookup_that_hangs_stop_reading_at_a_bound() {
    let rig = rig(true);
    let read = Arc::new(AtomicUsize::new(0));
    let source = Counting(read.clone(), rig.progress.clone());
    let summary = rig
        .pipeline(100)
        .run(source, tokio::time::sleep(Duration::from_secs(5)))
        .await
        .unwrap();
    // The events held (at most one hand-over past the limit), then the channel and the
    // reader's hand-over fill up: a fixed bound, whatever the time.
    let bound = MAX_WAITING_EVENTS + (CHANNEL_DEPTH + 2) * READ_BATCH;
    let read = read.load(Ordering::SeqCst);
    assert!(read <= bound, "read {read} events, bound {bound}");
    assert!(
        read >= MAX_WAITING_EVENTS,
        "read {read}: reading went on up to the bound"
    );
    assert_eq!((summary.messages, summary.acknowledged), (0, 0));
}
