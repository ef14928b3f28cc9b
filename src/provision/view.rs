//! The deduplicating materialized view of `[destination.dedupe_view]`: created by
//! `provision` when missing, and never changed behind the user's back. Streaming ingestion can
//! ingest rows twice after a crash (rows accepted but not yet checkpointed are read again);
//! the view `Table | summarize take_any(*) by keys` answers each row once, keyed on columns
//! that identify a row, such as the event's partition and sequence number from `$meta`.

use super::error::ProvisionError;
use super::step::Step;
use crate::destination::{DedupeView, DestinationSettings};
use crate::schema::quote_name;
use iotc_adx_kusto::KustoClient;

/// The view's query for destination `d`.
pub fn query(d: &DestinationSettings, view: &DedupeView) -> String {
    let keys: Vec<String> = view.keys.iter().map(|k| quote_name(k)).collect();
    format!(
        "{} | summarize take_any(*) by {}",
        quote_name(&d.table),
        keys.join(", ")
    )
}

/// The command that creates the view when it does not exist (and backfills it from the
/// table's rows).
pub fn step(d: &DestinationSettings, view: &DedupeView) -> Step {
    Step {
        database: d.database.clone(),
        csl: format!(
            ".create ifnotexists materialized-view with (backfill=true) {} on table {} {{ {} }}",
            quote_name(&view.name),
            quote_name(&d.table),
            query(d, view)
        ),
    }
}

/// Fails when the view exists with another query: `provision` would leave it as it is, and
/// the user would read a view that does not deduplicate on the configured keys.
pub async fn check(client: &KustoClient, d: &DestinationSettings) -> Result<(), ProvisionError> {
    let Some(view) = &d.dedupe_view else {
        return Ok(());
    };
    let command = ".show materialized-views".to_string();
    let data =
        client
            .mgmt(&d.database, &command)
            .await
            .map_err(|source| ProvisionError::Command {
                database: d.database.clone(),
                command,
                source,
            })?;
    let existing = data.primary().and_then(|t| {
        let (name, query) = (t.column("Name")?, t.column("Query")?);
        t.rows
            .iter()
            .find(|r| r.get(name).and_then(|v| v.as_str()) == Some(view.name.as_str()))
            .and_then(|r| r.get(query).and_then(|v| v.as_str()).map(str::to_string))
    });
    let configured = query(d, view);
    let same = |a: &str, b: &str| a.split_whitespace().eq(b.split_whitespace());
    match existing {
        Some(existing) if !same(&existing, &configured) => Err(ProvisionError::ViewDiffers {
            destination: d.name.clone(),
            database: d.database.clone(),
            view: view.name.clone(),
            existing,
            configured,
        }),
        _ => Ok(()),
    }
}
