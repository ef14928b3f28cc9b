//! What every sink promises the pipeline: the [`Sink`] trait, what becomes of a batch
//! ([`Outcome`], [`LateRejection`]) and why a sink cannot go on ([`SinkError`]). Apart from
//! the folder's `mod.rs` so that the sinks implement it without importing the module that
//! gathers them.

use crate::batch::Batch;
use crate::dedupe::SeqRange;
use std::fmt;

/// The sink cannot go on: the pipeline stops, and nothing after the last checkpoint is lost.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Writing to the local file system failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The service refused the credentials or reported another problem that retrying cannot
    /// fix and that concerns every batch, not this one.
    #[error("cannot deliver to {target}: {source}")]
    Service {
        /// What was being written to (`database.table`).
        target: String,
        /// What the service said.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A delivery task ended without an outcome (it panicked or was cancelled).
    #[error("a delivery to destination #{destination} ended abnormally: {source}")]
    Aborted {
        /// Index of the destination.
        destination: usize,
        /// What the runtime reported.
        #[source]
        source: tokio::task::JoinError,
    },
}

/// Where a delivered batch went, for the run summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// A human description: a file path, or the table and the ingestion mode used.
    pub target: String,
    /// Bytes sent (after compression, if any).
    pub bytes: u64,
}

/// What became of one batch.
#[derive(Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Durably accepted.
    Accepted(Delivery),
    /// Refused for good (bad data, schema mismatch): the rows go to the dead-letter store
    /// with the service's reason, and the pipeline goes on.
    Rejected {
        /// The service's error, in words.
        reason: String,
        /// The rows that were refused (uncompressed multijson).
        payload: Vec<u8>,
    },
}

/// A batch that was accepted but later reported as failed (queued ingestion fails
/// asynchronously); its events are already checkpointed, so the pipeline dead-letters it.
/// It may have been sent by another replica or before a restart: it names its destination
/// rather than an index of this configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LateRejection {
    /// The destination's name (or `database.table` when the batch's blob could not be read).
    pub destination: String,
    /// The service's error, in words.
    pub reason: String,
    /// The events whose rows failed (empty when unknown).
    pub events: Vec<crate::checkpoint::Span>,
    /// The blob holding the rows (URL without its SAS).
    pub blob: Option<String>,
    /// The rows (uncompressed multijson), read from the blob.
    pub rows: Option<Vec<u8>>,
    /// Given back through [`Sink::late_rejection_stored`] once the dead letter is durable.
    pub receipt: Option<u64>,
}

impl fmt::Debug for Outcome {
    // The payload can be megabytes: show its size, not its bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Accepted(d) => f.debug_tuple("Accepted").field(d).finish(),
            Outcome::Rejected { reason, payload } => f
                .debug_struct("Rejected")
                .field("reason", reason)
                .field("payload_bytes", &payload.len())
                .finish(),
        }
    }
}

/// The future a delivery runs as; it owns everything it needs, so the pipeline can run several
/// at once on the runtime's threads.
pub type DeliveryFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Outcome, SinkError>> + Send>>;

/// The future of [`Sink::ingested`].
pub type IngestedFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<SeqRange>, SinkError>> + Send>>;

/// A batch consumer.
pub trait Sink: Send + Sync + 'static {
    /// Starts delivering one batch; the future completes once the batch is durably accepted
    /// or rejected for good. Transient failures are retried inside (with backoff), so a slow
    /// or throttled service holds the future, and with it the pipeline, back.
    fn deliver(&self, batch: Batch) -> DeliveryFuture;

    /// How many batches of one destination may be in flight at once.
    fn max_in_flight(&self) -> usize {
        1
    }

    /// The dead letter of the rejection with `receipt` is durable: the sink may forget the
    /// report (until then it must be able to hand it over again, to this or another process).
    fn late_rejection_stored(&self, receipt: u64) {
        let _ = receipt;
    }

    /// Failures reported after acceptance, if this sink learns of any; taken once by the
    /// pipeline as it starts.
    fn late_rejections(&mut self) -> Option<tokio::sync::mpsc::Receiver<LateRejection>> {
        None
    }

    /// Whether this sink can tell which events a destination already holds
    /// ([`Sink::ingested`]); the pipeline then gives each of its batches one partition's
    /// events and skips events read again whose rows are already there.
    fn resumable(&self, _destination: usize) -> bool {
        false
    }

    /// The ranges of `partition`'s sequence numbers whose rows `destination` already holds
    /// (only asked when [`Sink::resumable`] says so).
    fn ingested(&self, _destination: usize, _partition: &str) -> IngestedFuture {
        Box::pin(async { Ok(Vec::new()) })
    }
}
