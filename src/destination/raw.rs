//! `[[destination]]` as written: plain serde types that mirror the TOML and refuse unknown
//! keys; `validate` checks them. The filter's and the batch limits' sub-tables are
//! their stages' ([`crate::route::settings`], [`crate::batch::settings`]).

use super::settings::IngestionMode;
use crate::batch::settings::BatchConfig;
use crate::route::settings::FilterConfig;
use serde::Deserialize;

/// `[[destination]]`: one target table and what feeds it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationConfig {
    /// Unique name: used in logs, metrics, output paths and the `transform` command.
    pub name: String,
    /// Path of the JMESPath transform file.
    pub transform: String,
    /// Data Explorer database.
    pub database: String,
    /// Data Explorer table.
    pub table: String,
    /// The table's columns in cslschema form: `Name:type, Name:type`.
    pub columns: String,
    /// Which messages feed this destination.
    #[serde(default)]
    pub filter: FilterConfig,
    /// `streaming`, `queued` or `managed` (default).
    #[serde(default)]
    pub ingestion: IngestionModeConfig,
    /// When to close a batch.
    #[serde(default)]
    pub batch: BatchConfig,
    /// Name of the table's JSON ingestion mapping (default `iotc_adx`).
    pub mapping: Option<String>,
    /// The table's ingestion batching policy, set by `iotc-adx provision` (queued ingestion).
    pub batching_policy: Option<BatchingPolicyConfig>,
    /// A deduplicating materialized view over the table, created by `iotc-adx provision`.
    pub dedupe_view: Option<DedupeViewConfig>,
}

/// `[destination.dedupe_view]`: a materialized view that holds each row once, however often
/// a replay after a crash ingested it (`Table | summarize take_any(*) by keys`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedupeViewConfig {
    /// The view's name.
    pub name: String,
    /// Columns that together identify a row (e.g. `Partition`, `Sequence` from `$meta`).
    pub keys: Vec<String>,
}

/// `[destination.batching_policy]`: how long Data Explorer gathers queued blobs before it
/// ingests them; unset keys take the service's defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchingPolicyConfig {
    /// `MaximumBatchingTimeSpan` in seconds (10 to 1800; service default 300).
    pub max_time_s: Option<u64>,
    /// `MaximumNumberOfItems` (1 to 25000; service default 500).
    pub max_items: Option<u64>,
    /// `MaximumRawDataSizeMB` (100 to 4096; service default 1024).
    pub max_raw_size_mb: Option<u64>,
}

/// `ingestion = "..."`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestionModeConfig {
    /// Streaming ingestion only.
    Streaming,
    /// Queued ingestion only.
    Queued,
    /// Streaming, falling back to queued.
    #[default]
    Managed,
}

impl From<IngestionModeConfig> for IngestionMode {
    fn from(mode: IngestionModeConfig) -> Self {
        match mode {
            IngestionModeConfig::Streaming => IngestionMode::Streaming,
            IngestionModeConfig::Queued => IngestionMode::Queued,
            IngestionModeConfig::Managed => IngestionMode::Managed,
        }
    }
}
