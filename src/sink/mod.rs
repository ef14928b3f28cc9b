//! Sink stage: delivers closed batches to their destination table.
//!
//! Today the only sink is [`file::FileSink`], which writes the exact multijson payload each
//! ingestion request would carry. The Data Explorer sink (streaming, queued and managed
//! ingestion) implements the same trait.

pub mod file;

use crate::batch::Batch;
use std::fmt;

/// How a destination's batches reach Data Explorer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IngestionMode {
    /// Streaming ingestion: low latency, 4 MB per request.
    Streaming,
    /// Queued ingestion: blobs plus a queue message; minutes of latency, no size limit.
    Queued,
    /// Streaming first, queued when a batch is too large, streaming is off or throttled.
    Managed,
}

impl fmt::Display for IngestionMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IngestionMode::Streaming => "streaming",
            IngestionMode::Queued => "queued",
            IngestionMode::Managed => "managed",
        })
    }
}

/// A batch could not be delivered.
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
}

/// Where a delivered batch went, for the run summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// A human description: a file path, or the table and the ingestion mode used.
    pub target: String,
    /// Bytes sent (after compression, if any).
    pub bytes: u64,
}

/// A batch consumer. Implementations deliver batches in the order given.
pub trait Sink: Send {
    /// Delivers one batch; returns only once it is durably accepted.
    fn deliver(&mut self, batch: Batch) -> impl std::future::Future<Output = Result<Delivery, SinkError>> + Send;
}
