//! The configuration file as written: plain serde types that mirror the TOML, with every
//! unknown key refused. Nothing here is checked beyond its shape; `validate` hands
//! each section to its stage, which turns it into settings.
//!
//! The `[source]` and `[sink]` sections are tagged by `type`, and the tag picks the stage;
//! every other type is the stage's own, re-exported here so the whole file reads in one
//! place. Units are in the key names (`max_bytes`, `max_age_ms`). Every key is documented in
//! `docs/configuration.md`.

use serde::Deserialize;

pub use crate::auth::settings::{
    AuthConfig, AzureCliConfig, EmptyAuthConfig, ManagedIdentityConfig, ServicePrincipalConfig,
    WorkloadIdentityConfig,
};
pub use crate::batch::settings::BatchConfig;
pub use crate::deadletter::settings::{DeadLetterConfig, DeadLetterKind};
pub use crate::destination::raw::{
    BatchingPolicyConfig, DedupeViewConfig, DestinationConfig, IngestionModeConfig,
};
pub use crate::route::settings::FilterConfig;
pub use crate::sink::file::settings::FileSinkConfig;
pub use crate::sink::kusto::settings::{KustoSinkConfig, RetryConfig};
pub use crate::source::eventhubs::settings::EventHubsSourceConfig;
pub use crate::source::file::settings::FileSourceConfig;
pub use crate::telemetry::settings::{LogConfig, LogFormat, MetricsConfig};

/// `[source]`: where events come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SourceConfig {
    /// JSON Lines files of exported messages (or standard input).
    File(FileSourceConfig),
    /// The Event Hub IoT Central exports to.
    Eventhubs(EventHubsSourceConfig),
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
