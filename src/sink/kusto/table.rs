//! The destination's table as the cluster has it: its columns (`.show table cslschema`), how
//! they compare with the configured ones, and the sink's start-up check ([`check_table`]): the
//! table must exist with every configured column and the JSON mapping the sink names.
//! `iotc-adx provision` reads tables the same way before it changes them.

use crate::destination::DestinationSettings;
use crate::schema::{quote_name, TableSchema};
use iotc_adx_kusto::{Dataset, KustoClient, KustoError};

/// Why a destination's table cannot be used as configured.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
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

/// The table's current schema, `None` when it does not exist.
pub async fn current_schema(
    client: &KustoClient,
    d: &DestinationSettings,
) -> Result<Option<TableSchema>, TableError> {
    let command = format!(".show table {} cslschema", quote_name(&d.table));
    let data = match client.mgmt(&d.database, &command).await {
        Ok(data) => data,
        Err(e) if is_missing_table(&e) => return Ok(None),
        Err(source) => {
            return Err(TableError::Command {
                database: d.database.clone(),
                command,
                source,
            })
        }
    };
    let unexpected = |detail: &str| TableError::Unexpected {
        database: d.database.clone(),
        table: d.table.clone(),
        detail: detail.into(),
    };
    let table = data.primary().ok_or_else(|| unexpected("no table"))?;
    let column = table
        .columns
        .iter()
        .position(|c| c.name == "Schema")
        .ok_or_else(|| unexpected("no Schema column"))?;
    let Some(row) = table.rows.first() else {
        return Ok(None);
    };
    let text = row
        .get(column)
        .and_then(|v| v.as_str())
        .ok_or_else(|| unexpected("Schema is not a string"))?;
    TableSchema::parse(text)
        .map(Some)
        .map_err(|e| unexpected(&format!("cannot read schema {text:?}: {e}")))
}

fn is_missing_table(e: &KustoError) -> bool {
    let text = e.to_string().to_ascii_lowercase();
    e.status() == Some(404)
        || ((e.status() == Some(400))
            && (text.contains("not found")
                || text.contains("does not exist")
                || text.contains("entitynotfound")))
}

/// Start-up check: the table exists, has every configured column with its type, and has the
/// JSON mapping the sink names (without it every batch would be refused).
pub async fn check_table(client: &KustoClient, d: &DestinationSettings) -> Result<(), TableError> {
    match current_schema(client, d).await? {
        None => {
            return Err(TableError::Missing {
                destination: d.name.clone(),
                database: d.database.clone(),
                table: d.table.clone(),
            })
        }
        Some(existing) => compare(d, &existing, true)?,
    }
    let command = format!(
        ".show table {} ingestion json mappings",
        quote_name(&d.table)
    );
    let data = command_in(client, &d.database, command).await?;
    let found = data.primary().is_some_and(|t| {
        t.column("Name").is_some_and(|i| {
            t.rows
                .iter()
                .any(|r| r.get(i).and_then(|v| v.as_str()) == Some(d.mapping.as_str()))
        })
    });
    if found {
        Ok(())
    } else {
        Err(TableError::MissingMapping {
            destination: d.name.clone(),
            database: d.database.clone(),
            table: d.table.clone(),
            mapping: d.mapping.clone(),
        })
    }
}

/// Runs a read-only management command; a failure names the database and the command.
async fn command_in(
    client: &KustoClient,
    database: &str,
    command: String,
) -> Result<Dataset, TableError> {
    client
        .mgmt(database, &command)
        .await
        .map_err(|source| TableError::Command {
            database: database.to_string(),
            command,
            source,
        })
}

/// Compares the configured columns with the table's; with `require_all`, a configured
/// column missing from the table is an error too.
pub(crate) fn compare(
    d: &DestinationSettings,
    existing: &TableSchema,
    require_all: bool,
) -> Result<(), TableError> {
    for c in d.schema.columns() {
        match existing
            .index_of(&c.name)
            .map(|i| existing.columns()[i].kind)
        {
            Some(kind) if kind == c.kind => {}
            Some(kind) => {
                return Err(TableError::ColumnType {
                    destination: d.name.clone(),
                    database: d.database.clone(),
                    table: d.table.clone(),
                    column: c.name.clone(),
                    existing: kind.name().into(),
                    configured: c.kind.name().into(),
                })
            }
            None if require_all => {
                return Err(TableError::MissingColumn {
                    destination: d.name.clone(),
                    database: d.database.clone(),
                    table: d.table.clone(),
                    column: c.name.clone(),
                })
            }
            None => {}
        }
    }
    Ok(())
}
