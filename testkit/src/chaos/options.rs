//! What a chaos run is asked to do: events, partitions, replicas, kills, ingestion and faults.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// How the destination ingests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingestion {
    /// Streaming ingestion: duplicates possible after a kill, bounded by the checkpoints.
    Streaming,
    /// Queued ingestion with dedupe: no duplicates expected.
    Queued,
}

impl fmt::Display for Ingestion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ingestion::Streaming => "streaming",
            Ingestion::Queued => "queued",
        })
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct ChaosOptions {
    /// The iotc-adx binary.
    pub binary: PathBuf,
    /// Where configurations and the replicas' logs go.
    pub work_dir: PathBuf,
    /// Events waiting in the hub at the start.
    pub events: usize,
    /// Partitions of the hub.
    pub partitions: u32,
    /// Replicas running at once.
    pub replicas: usize,
    /// SIGKILLs (each followed by a restart of that replica).
    pub kills: usize,
    /// The destination's ingestion.
    pub ingestion: Ingestion,
    /// The emulator's queued batching time (Data Explorer's default is 300 s).
    pub queued_batching_time: Duration,
    /// `checkpoint_every_ms` of the source.
    pub checkpoint_every_ms: u64,
    /// Inject the stand-ins' faults while running.
    pub faults: bool,
    /// Seed of the random choices (kill times, victims, faults).
    pub seed: u64,
    /// Give up after this long.
    pub timeout: Duration,
}
