//! Why a table cannot be used or provisioned: its own file, so that the steps of a plan
//! (tables, views) can fail with it without importing the module that gathers them.

use crate::kusto::KustoError;

/// Why a table cannot be used or provisioned.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The table does not exist.
    #[error("table {database}.{table} (destination {destination:?}) does not exist: create it with `iotc-adx provision --config <file>`")]
    Missing {
        /// The destination.
        destination: String,
        /// Database.
        database: String,
        /// Table.
        table: String,
    },
    /// A configured column is missing from the table (start-up check only).
    #[error("table {database}.{table} has no column {column} (destination {destination:?}): add it with `iotc-adx provision --config <file>`")]
    MissingColumn {
        /// The destination.
        destination: String,
        /// Database.
        database: String,
        /// Table.
        table: String,
        /// The column.
        column: String,
    },
    /// The table has no JSON mapping of the configured name (start-up check only).
    #[error("table {database}.{table} has no JSON ingestion mapping {mapping:?} (destination {destination:?}): create it with `iotc-adx provision --config <file>`")]
    MissingMapping {
        /// The destination.
        destination: String,
        /// Database.
        database: String,
        /// Table.
        table: String,
        /// The mapping's name.
        mapping: String,
    },
    /// A column's type in the cluster differs from the configuration.
    #[error("table {database}.{table}, column {column}: the cluster has type {existing} but destination {destination:?} configures {configured}; change `columns` in the configuration or the table")]
    ColumnType {
        /// The destination.
        destination: String,
        /// Database.
        database: String,
        /// Table.
        table: String,
        /// The column.
        column: String,
        /// Its type in the cluster.
        existing: String,
        /// Its type in the configuration.
        configured: String,
    },
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
    /// The cluster's answer could not be understood.
    #[error("table {database}.{table}: unexpected answer to `.show table cslschema`: {detail}")]
    Unexpected {
        /// Database.
        database: String,
        /// Table.
        table: String,
        /// What was wrong.
        detail: String,
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
