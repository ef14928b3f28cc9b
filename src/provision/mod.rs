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
//! Tables are read the way the sink's start-up check reads them
//! ([`crate::sink::kusto::table`]).

use crate::destination::{BatchingPolicy, DestinationSettings, IngestionMode};
use crate::schema::{kql_string, quote_name, TableSchema};
use crate::sink::kusto::table::{compare, current_schema};
use iotc_adx_kusto::KustoClient;
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
