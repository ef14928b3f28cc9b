//! Sink stage: delivers closed batches to their destination table.
//!
//! [`kusto::KustoSink`] ingests into Azure Data Explorer (streaming, queued or managed);
//! [`file::FileSink`] writes the exact multijson payload each ingestion request would carry,
//! for trying the service without an Azure account.

pub mod file;
pub mod gzip;
pub mod kusto;

mod contract;

pub use contract::{
    Delivery, DeliveryFuture, IngestedFuture, LateRejection, Outcome, Sink, SinkError,
};

pub use crate::destination::IngestionMode;

/// Validated `[sink]`: where batches go, with the sink's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkSettings {
    /// Multijson payload files ([`file::settings`]).
    File {
        /// Output directory.
        dir: std::path::PathBuf,
        /// Gzip each payload.
        gzip: bool,
    },
    /// Azure Data Explorer.
    Kusto(kusto::KustoSinkSettings),
}
