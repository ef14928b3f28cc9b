//! Why a table cannot be provisioned: its own file, so that the steps of a plan (tables,
//! views) can fail with it without importing the module that gathers them. What concerns
//! reading the table and comparing its columns is the sink's [`TableError`], which the
//! start-up check shares.

use crate::sink::kusto::TableError;
use iotc_adx_kusto::KustoError;

/// Why a destination's table cannot be provisioned.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The table cannot be read, or its columns conflict with the configuration.
    #[error(transparent)]
    Table(#[from] TableError),
    /// The dedupe view exists with another query than the configured one.
    #[error("materialized view {database}.{view} (destination {destination:?}) exists with the query `{existing}`, not the configured `{configured}`: drop it (`.drop materialized-view {view}`) or give `dedupe_view.name` another name, then provision again")]
    ViewDiffers {
        /// The destination.
        destination: String,
        /// Database.
        database: String,
        /// The view.
        view: String,
        /// Its query in the cluster.
        existing: String,
        /// The query the configuration makes.
        configured: String,
    },
    /// A command failed.
    #[error("{database}: `{command}` failed: {source}")]
    Command {
        /// Database.
        database: String,
        /// The command's first line.
        command: String,
        /// The service's error.
        #[source]
        source: KustoError,
    },
}
