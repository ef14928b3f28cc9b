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
    /// The Event Hub IoT Central exports to.
    Eventhubs(EventHubsSourceConfig),
}

/// `[source] type = "eventhubs"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventHubsSourceConfig {
    /// Fully qualified namespace, `myns.servicebus.windows.net` (signs in with `[auth]`).
    pub namespace: Option<String>,
    /// A connection string with a shared access key, instead of `namespace` and `[auth]`
    /// (prefer `IOTC_ADX__SOURCE__CONNECTION_STRING`).
    pub connection_string: Option<String>,
    /// The event hub; may come from the connection string's `EntityPath`.
    pub event_hub: Option<String>,
    /// Consumer group (default `$Default`).
    pub consumer_group: Option<String>,
    /// Where partitions without a checkpoint start: `earliest` (default), `latest`, or an
    /// RFC 3339 time.
    pub start_position: Option<String>,
    /// Events each partition receiver prefetches (default 300).
    pub prefetch: Option<u32>,
    /// Another address for the namespace's AMQP endpoint (private links, emulators).
    pub custom_endpoint: Option<String>,
    /// `balanced` (default) or `greedy`.
    pub load_balancing: Option<String>,
    /// Blob container URL for ownership and checkpoints (a SAS in the URL, or `[auth]`).
    pub checkpoint_container: String,
    /// Checkpoint a partition at most this often, in milliseconds (default 5000).
    pub checkpoint_every_ms: Option<u64>,
    /// Also checkpoint once this many events of a partition are confirmed, even sooner
    /// (default 0: time only).
    pub checkpoint_every_events: Option<u64>,
    /// How often replicas rebalance partitions, in milliseconds (default 10000); a replica's
    /// ownership expires after six intervals without renewal.
    pub balance_interval_ms: Option<u64>,
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
    /// Ingests into Azure Data Explorer.
    Kusto(KustoSinkConfig),
}

/// `[sink] type = "kusto"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KustoSinkConfig {
    /// The cluster's query/engine URL, such as `https://mycluster.westeurope.kusto.windows.net`.
    pub cluster: String,
    /// The data-management (queued ingestion) URL; derived from `cluster` when absent.
    pub ingest_url: Option<String>,
    /// Batches of one destination in flight at once (default 4).
    pub max_in_flight: Option<usize>,
    /// Per-request timeout in milliseconds (default 60000).
    pub request_timeout_ms: Option<u64>,
    /// Tag queued ingestions so a retried batch is not ingested twice (default true).
    pub dedupe: Option<bool>,
    /// Watch the failed-ingestions queue and dead-letter what queued ingestion refused
    /// (default true).
    pub watch_failures: Option<bool>,
    /// How often that queue is read, in milliseconds (default 10000).
    pub failure_poll_ms: Option<u64>,
    /// How long a report taken from it stays hidden from other replicas while its dead
    /// letter is written, in milliseconds (default 600000).
    pub failure_hold_ms: Option<u64>,
    /// After a shutdown signal, how long deliveries in flight may still take, in
    /// milliseconds (default 25000; Kubernetes allows 30 s before SIGKILL by default).
    pub shutdown_grace_ms: Option<u64>,
    /// Retry timing.
    #[serde(default)]
    pub retry: RetryConfig,
}

/// `[sink.retry]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// First backoff in milliseconds (default 500); doubles per attempt, with jitter.
    pub initial_backoff_ms: Option<u64>,
    /// Longest backoff in milliseconds (default 30000).
    pub max_backoff_ms: Option<u64>,
    /// Streaming attempts before managed mode falls back to queued (default 3).
    pub streaming_attempts: Option<u32>,
}

/// `[auth]`: the identity used towards Azure.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthConfig {
    /// No credentials, for local emulators.
    None(EmptyAuthConfig),
    /// Managed identity.
    ManagedIdentity(ManagedIdentityConfig),
    /// Service principal with a secret or a certificate.
    ServicePrincipal(ServicePrincipalConfig),
    /// AKS workload identity.
    WorkloadIdentity(WorkloadIdentityConfig),
    /// Azure CLI login, for developers.
    AzureCli(AzureCliConfig),
}

/// `[auth] type = "none"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmptyAuthConfig {}

/// `[auth] type = "managed_identity"`; at most one id, none for the system-assigned identity.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagedIdentityConfig {
    /// A user-assigned identity's client id.
    pub client_id: Option<String>,
    /// A user-assigned identity's object id.
    pub object_id: Option<String>,
    /// A user-assigned identity's resource id.
    pub resource_id: Option<String>,
}

/// `[auth] type = "service_principal"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicePrincipalConfig {
    /// Directory (tenant) id.
    pub tenant_id: String,
    /// Application (client) id.
    pub client_id: String,
    /// Client secret (prefer `IOTC_ADX__AUTH__CLIENT_SECRET`).
    pub client_secret: Option<String>,
    /// PEM file with the private key and the certificate.
    pub certificate_path: Option<String>,
    /// Entra ID authority (default `https://login.microsoftonline.com`).
    pub authority_host: Option<String>,
}

/// `[auth] type = "workload_identity"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadIdentityConfig {
    /// Tenant id (default `AZURE_TENANT_ID`).
    pub tenant_id: Option<String>,
    /// Client id (default `AZURE_CLIENT_ID`).
    pub client_id: Option<String>,
    /// Federated token file (default `AZURE_FEDERATED_TOKEN_FILE`).
    pub token_file: Option<String>,
    /// Entra ID authority (default `https://login.microsoftonline.com`).
    pub authority_host: Option<String>,
}

/// `[auth] type = "azure_cli"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureCliConfig {
    /// Tenant (default: the CLI's).
    pub tenant_id: Option<String>,
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
