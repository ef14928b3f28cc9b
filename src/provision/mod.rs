//! Provisioning: makes each destination's table ready for ingestion, idempotently.
//!
//! For every destination: `.create-merge table` with the configured columns (adds what is
//! missing, never drops), the JSON ingestion mapping the sink names in its requests (one
//! column per configured column, read from the row's key of the same name), the streaming
//! policy for streaming and managed destinations, the batching policy when configured, and
//! the deduplicating materialized view when configured ([`view`]).
//! A column whose type in the cluster differs from the configuration is an error naming the
//! table, the column and both types: Data Explorer would refuse the merge, and the data would
//! not fit anyway.
//!
//! [`check_table`] is the sink's start-up check: the table must exist with the columns.

use crate::destination::{BatchingPolicy, DestinationSettings, IngestionMode};
use crate::kusto::{KustoClient, KustoError};
use crate::schema::{kql_string, quote_name, TableSchema};
use serde_json::json;

mod error;
mod step;

pub use error::ProvisionError;
pub use step::Step;

/// The commands that provision destination `d`, given the table's current schema (`None`
/// when it does not exist). Fails on a column type conflict.
pub fn plan(
    d: &DestinationSettings,
    existing: Option<&TableSchema>,
) -> Result<Vec<Step>, ProvisionError> {
    if let Some(existing) = existing {
        compare(d, existing, false)?;
    }
    let table = quote_name(&d.table);
    let step = |csl: String| Step {
        database: d.database.clone(),
        csl,
    };
    let mut steps = vec![step(format!(
        ".create-merge table {table} ({})",
        d.schema.to_csl()
    ))];
    steps.push(step(format!(
        ".create-or-alter table {table} ingestion json mapping {} {}",
        kql_string(&d.mapping),
        kql_string(&mapping_json(&d.schema))
    )));
    if d.ingestion != IngestionMode::Queued {
        steps.push(step(format!(
            ".alter table {table} policy streamingingestion enable"
        )));
    }
    if let Some(policy) = &d.batching_policy {
        steps.push(step(format!(
            ".alter table {table} policy ingestionbatching {}",
            kql_string(&batching_json(policy))
        )));
    }
    if let Some(v) = &d.dedupe_view {
        steps.push(view::step(d, v));
    }
    Ok(steps)
}

/// The JSON mapping: each column from the row's key of the same name.
pub fn mapping_json(schema: &TableSchema) -> String {
    let columns: Vec<serde_json::Value> = schema
        .columns()
        .iter()
        .map(|c| {
            let path = format!("$['{}']", c.name.replace('\\', "\\\\").replace('\'', "\\'"));
            json!({"column": c.name, "datatype": c.kind.name(), "Properties": {"Path": path}})
        })
        .collect();
    serde_json::Value::Array(columns).to_string()
}

fn batching_json(p: &BatchingPolicy) -> String {
    let mut policy = serde_json::Map::new();
    if let Some(t) = p.max_time {
        let s = t.as_secs();
        policy.insert(
            "MaximumBatchingTimeSpan".into(),
            json!(format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)),
        );
    }
    if let Some(n) = p.max_items {
        policy.insert("MaximumNumberOfItems".into(), json!(n));
    }
    if let Some(mb) = p.max_raw_size_mb {
        policy.insert("MaximumRawDataSizeMB".into(), json!(mb));
    }
    serde_json::Value::Object(policy).to_string()
}

/// A KQL string literal: single quotes, with backslash and quote escaped.
/// The table's current schema, `None` when it does not exist.
pub async fn current_schema(
    client: &KustoClient,
    d: &DestinationSettings,
) -> Result<Option<TableSchema>, ProvisionError> {
    let command = format!(".show table {} cslschema", quote_name(&d.table));
    let data = match client.mgmt(&d.database, &command).await {
        Ok(data) => data,
        Err(e) if is_missing_table(&e) => return Ok(None),
        Err(source) => {
            return Err(ProvisionError::Command {
                database: d.database.clone(),
                command,
                source,
            })
        }
    };
    let unexpected = |detail: &str| ProvisionError::Unexpected {
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
pub async fn check_table(
    client: &KustoClient,
    d: &DestinationSettings,
) -> Result<(), ProvisionError> {
    match current_schema(client, d).await? {
        None => {
            return Err(ProvisionError::Missing {
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
        Err(ProvisionError::MissingMapping {
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
) -> Result<crate::kusto::Dataset, ProvisionError> {
    client
        .mgmt(database, &command)
        .await
        .map_err(|source| ProvisionError::Command {
            database: database.to_string(),
            command,
            source,
        })
}

/// Compares the configured columns with the table's; with `require_all`, a configured
/// column missing from the table is an error too.
fn compare(
    d: &DestinationSettings,
    existing: &TableSchema,
    require_all: bool,
) -> Result<(), ProvisionError> {
    for c in d.schema.columns() {
        match existing
            .index_of(&c.name)
            .map(|i| existing.columns()[i].kind)
        {
            Some(kind) if kind == c.kind => {}
            Some(kind) => {
                return Err(ProvisionError::ColumnType {
                    destination: d.name.clone(),
                    database: d.database.clone(),
                    table: d.table.clone(),
                    column: c.name.clone(),
                    existing: kind.name().into(),
                    configured: c.kind.name().into(),
                })
            }
            None if require_all => {
                return Err(ProvisionError::MissingColumn {
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

/// Runs the plan for every destination (or only prints it with `dry_run`), calling `report`
/// with each step before it runs.
pub async fn provision(
    client: &KustoClient,
    destinations: &[DestinationSettings],
    dry_run: bool,
    mut report: impl FnMut(&DestinationSettings, &Step),
) -> Result<usize, ProvisionError> {
    let mut plans = Vec::new();
    // Check every table before changing any, so a conflict leaves the cluster untouched.
    for d in destinations {
        let existing = current_schema(client, d).await?;
        view::check(client, d).await?;
        plans.push((d, plan(d, existing.as_ref())?));
    }
    let mut ran = 0;
    for (d, steps) in plans {
        for step in steps {
            report(d, &step);
            if !dry_run {
                client
                    .mgmt(&step.database, &step.csl)
                    .await
                    .map_err(|source| ProvisionError::Command {
                        database: step.database.clone(),
                        command: step
                            .csl
                            .lines()
                            .next()
                            .unwrap_or_default()
                            .chars()
                            .take(120)
                            .collect(),
                        source,
                    })?;
                ran += 1;
            }
        }
    }
    Ok(ran)
}

pub mod view;

#[cfg(test)]
mod tests;
