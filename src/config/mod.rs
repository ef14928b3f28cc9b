//! Configuration: one TOML file, with environment overrides, validated once at start-up into
//! typed [`Settings`].
//!
//! Loading happens in two phases. [`raw`] holds plain serde types that mirror the file and
//! refuse unknown keys; [`validate`] checks values, compiles transforms, predicates and
//! patterns, and resolves relative paths against the configuration file's directory. Every
//! problem is reported at once, each with the key path it concerns.
//!
//! Environment variables `IOTC_ADX__<SECTION>__<KEY>` override keys of the table sections
//! (`[source]`, `[sink]`, `[auth]`, `[dead_letter]`, `[metrics]`, `[log]`), for secrets and
//! per-host settings: `IOTC_ADX__LOG__LEVEL=debug`, `IOTC_ADX__AUTH__CLIENT_SECRET=...`.

mod azure;
mod checker;
pub mod raw;
mod validate;

pub use raw::LogFormat;
pub use validate::{default_batch_limits, DEFAULT_MAPPING};

use crate::auth::AuthSettings;
use crate::batch::BatchLimits;
use crate::retry::RetryPolicy;
use crate::route::Filter;
use crate::schema::TableSchema;
use crate::sink::IngestionMode;
use crate::transform::Transform;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Prefix of environment overrides.
pub const ENV_PREFIX: &str = "IOTC_ADX";

/// The validated configuration the service runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where events come from.
    pub source: SourceSettings,
    /// Where batches go.
    pub sink: SinkSettings,
    /// The identity used towards Azure.
    pub auth: AuthSettings,
    /// The destinations, in configuration order.
    pub destinations: Vec<DestinationSettings>,
    /// Where failed messages go.
    pub dead_letter: DeadLetterSettings,
    /// The metrics endpoint.
    pub metrics: MetricsSettings,
    /// Logging.
    pub log: LogSettings,
}

/// Validated `[source]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSettings {
    /// JSON Lines files of exported messages.
    File {
        /// What to read.
        input: FileInput,
    },
    /// The Event Hub IoT Central exports to.
    EventHubs(EventHubsSourceSettings),
}

/// Validated `[source] type = "eventhubs"`.
#[derive(Clone, PartialEq, Eq)]
pub struct EventHubsSourceSettings {
    /// Fully qualified namespace.
    pub namespace: String,
    /// The connection string, when signing in with a shared access key.
    pub connection_string: Option<String>,
    /// The event hub.
    pub event_hub: String,
    /// Consumer group.
    pub consumer_group: String,
    /// Where partitions without a checkpoint start.
    pub start: StartAt,
    /// Prefetch per partition.
    pub prefetch: u32,
    /// Another AMQP address for the namespace.
    pub custom_endpoint: Option<url::Url>,
    /// Take partitions greedily (all at once) rather than a fair share at a time.
    pub greedy: bool,
    /// Container for ownership and checkpoint blobs.
    pub checkpoint_container: url::Url,
    /// Least time between two checkpoints of one partition.
    pub checkpoint_every: std::time::Duration,
    /// Confirmed events of a partition that trigger a checkpoint sooner (0: time only).
    pub checkpoint_every_events: u64,
    /// How often replicas rebalance partitions.
    pub balance_interval: std::time::Duration,
}

impl fmt::Debug for EventHubsSourceSettings {
    // Hand-written so that the connection string's key and a SAS never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut container = self.checkpoint_container.clone();
        container.set_query(None);
        f.debug_struct("EventHubsSourceSettings")
            .field("namespace", &self.namespace)
            .field("event_hub", &self.event_hub)
            .field("consumer_group", &self.consumer_group)
            .field("start", &self.start)
            .field("checkpoint_container", &container.as_str())
            .finish_non_exhaustive()
    }
}

/// Where a partition without a checkpoint starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    /// The oldest retained event.
    Earliest,
    /// Only events enqueued from now on.
    Latest,
    /// Events enqueued at or after this time.
    Time(chrono::DateTime<chrono::Utc>),
}

/// What the file source reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileInput {
    /// Standard input.
    Stdin,
    /// A file, or every `.jsonl`/`.ndjson`/`.json` file of a directory, in name order.
    Path(PathBuf),
}

/// Validated `[sink]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkSettings {
    /// Multijson payload files.
    File {
        /// Output directory.
        dir: PathBuf,
        /// Gzip each payload.
        gzip: bool,
    },
    /// Azure Data Explorer.
    Kusto(KustoSinkSettings),
}

/// Validated `[sink] type = "kusto"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KustoSinkSettings {
    /// Engine URL (queries, management, streaming ingestion).
    pub cluster: url::Url,
    /// Data-management URL for queued ingestion; `None` derives it from `cluster`.
    pub ingest_url: Option<url::Url>,
    /// Batches of one destination in flight at once.
    pub max_in_flight: usize,
    /// Per-request timeout.
    pub request_timeout: std::time::Duration,
    /// Tag queued ingestions so a retried batch is not ingested twice.
    pub dedupe: bool,
    /// Dead-letter what queued ingestion reports as failed.
    pub watch_failures: bool,
    /// How often the failed-ingestions queue is read.
    pub failure_poll: std::time::Duration,
    /// How long a taken failure report stays hidden from other readers until its dead
    /// letter is stored; past it (this process died) another replica takes it.
    pub failure_hold: std::time::Duration,
    /// After a shutdown signal, how long deliveries in flight may still take.
    pub shutdown_grace: std::time::Duration,
    /// Retry timing.
    pub retry: RetryPolicy,
}

/// A table's ingestion batching policy, as `iotc-adx provision` sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchingPolicy {
    /// `MaximumBatchingTimeSpan`.
    pub max_time: Option<std::time::Duration>,
    /// `MaximumNumberOfItems`.
    pub max_items: Option<u64>,
    /// `MaximumRawDataSizeMB`.
    pub max_raw_size_mb: Option<u64>,
}

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

/// Validated `[destination.dedupe_view]`: a materialized view of the table that keeps one row
/// per key, so that rows a crash made the service ingest twice are read once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DedupeView {
    /// The view's name.
    pub name: String,
    /// Columns of the table that together identify a row.
    pub keys: Vec<String>,
}

/// Validated `[dead_letter]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterSettings {
    /// Directory of the JSONL files.
    pub dir: PathBuf,
    /// A new file starts past this size.
    pub max_file_bytes: u64,
}

/// Validated `[metrics]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    /// Listen address of the Prometheus endpoint.
    pub listen: SocketAddr,
}

/// Validated `[log]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// A `tracing` filter directive (`info`, `info,iotc_adx=debug`, ...).
    pub filter: String,
    /// Output format.
    pub format: LogFormat,
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Key path, such as `destination[1].batch.max_rows`.
    pub key: String,
    /// What is wrong and what was expected.
    pub message: String,
}

/// Everything wrong with a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file (or description of the text) that was loaded.
    pub origin: String,
    /// Every problem found.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "configuration {} has {n} problem{}:",
            self.origin,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            // Multi-line messages (a transform's caret snippet) stay indented under their key.
            write!(f, "\n  - {}: {}", p.key, p.message.replace('\n', "\n    "))?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    fn single(origin: &str, key: &str, message: String) -> Self {
        ConfigError {
            origin: origin.to_string(),
            problems: vec![Problem {
                key: key.to_string(),
                message,
            }],
        }
    }
}

/// Loads a configuration file with overrides from the process environment.
pub fn load(path: &Path) -> Result<Settings, ConfigError> {
    load_with_env(path, std::env::vars())
}

/// Loads a configuration file with overrides from the given environment (for tests).
pub fn load_with_env(
    path: &Path,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Settings, ConfigError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::single(&origin, "(file)", format!("cannot read {origin}: {e}"))
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    load_text(&text, base, &origin, env)
}

/// Loads configuration text; relative paths resolve against `base_dir`.
pub fn load_str(text: &str, base_dir: &Path) -> Result<Settings, ConfigError> {
    load_text(text, base_dir, "(text)", std::iter::empty())
}

fn load_text(
    text: &str,
    base_dir: &Path,
    origin: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Settings, ConfigError> {
    let prefix = format!("{ENV_PREFIX}__");
    let overrides: config::Map<String, String> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with(&prefix))
        .collect();
    let merged = config::Config::builder()
        .add_source(config::File::from_str(text, config::FileFormat::Toml))
        .add_source(
            config::Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(Some(overrides)),
        )
        .build()
        .map_err(|e| ConfigError::single(origin, "(syntax)", e.to_string()))?;
    let tree: serde_json::Value = merged
        .try_deserialize()
        .map_err(|e| ConfigError::single(origin, "(syntax)", e.to_string()))?;
    validate::validate(tree, base_dir).map_err(|problems| ConfigError {
        origin: origin.to_string(),
        problems,
    })
}

/// Resolves a configured path: absolute stays, relative is taken from `base_dir`.
pub fn resolve(base_dir: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base_dir.join(p)
    }
}

#[cfg(test)]
mod tests;
