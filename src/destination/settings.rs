//! What one `[[destination]]` is once validated: the table, its columns, filter, transform,
//! batch limits and ingestion mode, and the Data Explorer policies `provision` sets on it.

use crate::batch::BatchLimits;
use crate::route::Filter;
use crate::schema::TableSchema;
use crate::transform::Transform;
use std::fmt;
use std::time::Duration;

/// One validated destination, with its transform and filter compiled.
#[derive(Debug, Clone)]
pub struct DestinationSettings {
    /// Unique name.
    pub name: String,
    /// Data Explorer database.
    pub database: String,
    /// Data Explorer table.
    pub table: String,
    /// The table's columns.
    pub schema: TableSchema,
    /// Which messages feed it.
    pub filter: Filter,
    /// How messages become rows.
    pub transform: Transform,
    /// How batches are ingested.
    pub ingestion: IngestionMode,
    /// When batches close.
    pub batch: BatchLimits,
    /// Name of the table's JSON ingestion mapping.
    pub mapping: String,
    /// The table's ingestion batching policy, when configured.
    pub batching_policy: Option<BatchingPolicy>,
    /// The deduplicating materialized view `provision` creates, when configured.
    pub dedupe_view: Option<DedupeView>,
}

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

/// A table's ingestion batching policy, as `iotc-adx provision` sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchingPolicy {
    /// `MaximumBatchingTimeSpan`.
    pub max_time: Option<Duration>,
    /// `MaximumNumberOfItems`.
    pub max_items: Option<u64>,
    /// `MaximumRawDataSizeMB`.
    pub max_raw_size_mb: Option<u64>,
}

/// Validated `[destination.dedupe_view]`: a materialized view of the table that keeps one row
/// per key, so that rows a crash made the service ingest twice are read once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DedupeView {
    /// The view's name.
    pub name: String,
    /// Columns of the table that together identify a row.
    pub keys: Vec<String>,
}

/// The JSON ingestion mapping's name when a destination does not set one.
pub const DEFAULT_MAPPING: &str = "iotc_adx";

/// Default batch limits per ingestion mode, documented in docs/configuration.md.
pub fn default_batch_limits(mode: IngestionMode) -> BatchLimits {
    match mode {
        // Streaming requests are capped at 4 MB; gzip shrinks multijson 5-20x, so 16 MiB
        // uncompressed stays well below the cap for typical telemetry.
        IngestionMode::Streaming | IngestionMode::Managed => BatchLimits {
            max_rows: 20_000,
            max_bytes: 16 * 1024 * 1024,
            max_age: Duration::from_secs(1),
        },
        // Queued ingestion favours fewer, larger blobs.
        IngestionMode::Queued => BatchLimits {
            max_rows: 500_000,
            max_bytes: 256 * 1024 * 1024,
            max_age: Duration::from_secs(30),
        },
    }
}
