//! The configuration file as written: plain serde types that mirror the TOML, with every
//! unknown key refused. Nothing here is checked beyond its shape; [`super::validate`] turns
//! these into [`super::Settings`].
//!
//! Units are in the key names (`max_bytes`, `max_age_ms`). Every key is documented in
//! `docs/configuration.md`.

use serde::Deserialize;

/// `[source]`: where events come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SourceConfig {
    /// JSON Lines files of exported messages (or standard input).
    File(FileSourceConfig),
}

/// `[source] type = "file"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSourceConfig {
    /// A `.jsonl` file, a directory of them, or `-` for standard input.
    pub path: String,
}

/// `[sink]`: where batches go.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SinkConfig {
    /// Writes each batch's multijson payload to a file, per destination.
    File(FileSinkConfig),
}

/// `[sink] type = "file"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSinkConfig {
    /// Directory for the payload files (one sub-directory per destination).
    pub path: String,
    /// Write `.multijson.gz` files, as the ingestion request would carry them.
    #[serde(default)]
    pub gzip: bool,
}

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

/// `[destination.filter]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// Accepted `messageSource` values.
    #[serde(default)]
    pub message_sources: Vec<String>,
    /// Accepted `messageType` values.
    #[serde(default)]
    pub message_types: Vec<String>,
    /// Glob patterns over `templateId`.
    #[serde(default)]
    pub template_ids: Vec<String>,
    /// Glob patterns over `deviceId`.
    #[serde(default)]
    pub device_ids: Vec<String>,
    /// A JMESPath expression; the message feeds the destination when it is truthy.
    pub predicate: Option<String>,
}

/// `[destination.batch]`; unset keys take the ingestion mode's defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchConfig {
    /// Rows per batch.
    pub max_rows: Option<usize>,
    /// Uncompressed bytes per batch.
    pub max_bytes: Option<usize>,
    /// Milliseconds the oldest row may wait.
    pub max_age_ms: Option<u64>,
}

/// `[dead_letter]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterConfig {
    /// Store kind; only `directory` for now.
    #[serde(rename = "type", default)]
    pub kind: DeadLetterKind,
    /// Directory for the JSONL files (default `dead-letter`).
    pub path: Option<String>,
    /// Start a new file past this size (default 64 MiB).
    pub max_file_bytes: Option<u64>,
}

/// `[dead_letter] type = "..."`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterKind {
    /// JSON Lines files in a local directory.
    #[default]
    Directory,
}

/// `[metrics]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address of the Prometheus endpoint (default `0.0.0.0:9464`).
    pub listen: Option<String>,
}

/// `[log]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `error`, `warn`, `info` (default), `debug`, `trace`, or a full filter such as
    /// `info,iotc_adx::sink=debug`. `RUST_LOG` overrides it.
    pub level: Option<String>,
    /// `human` (default) or `json`.
    #[serde(default)]
    pub format: LogFormat,
}

/// `[log] format = "..."`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Readable lines for a terminal.
    #[default]
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}
