//! Checks `[[destination]]` tables into [`DestinationSettings`]: names, the table's columns,
//! the transform file, the filter and batch limits (checked by their stages), the mapping's
//! name, the batching policy and the dedupe view. Every problem is recorded with its key path
//! (`destination[1].batch.max_rows`); none stops the search for the next.

use super::raw::{BatchingPolicyConfig, DedupeViewConfig, DestinationConfig};
use super::settings::{
    default_batch_limits, BatchingPolicy, DedupeView, DestinationSettings, IngestionMode,
    DEFAULT_MAPPING,
};
use crate::batch::BatchLimits;
use crate::route::Filter;
use crate::schema::{KustoType, TableSchema};
use crate::settings_check::Checker;
use crate::transform::Transform;
use serde_json::Value;
use std::collections::HashSet;
use std::time::Duration;

/// Checks the `destination` array of tables; the destinations without problems are returned.
pub(crate) fn destinations(c: &mut Checker, value: Option<Value>) -> Vec<DestinationSettings> {
    let items = match value {
        None => {
            c.problem(
                "destination",
                "no [[destination]] is configured, so nothing would be ingested",
            );
            return Vec::new();
        }
        Some(Value::Array(items)) => items,
        Some(_) => {
            c.problem(
                "destination",
                "must be an array of tables: write each one under [[destination]]",
            );
            return Vec::new();
        }
    };
    let mut names = HashSet::new();
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let key = format!("destination[{i}]");
        let Some(d) = c.section::<DestinationConfig>(&key, item) else {
            continue;
        };
        if !names.insert(d.name.clone()) {
            c.problem(
                format!("{key}.name"),
                format!(
                    "{:?} is used by another destination: names must be unique",
                    d.name
                ),
            );
        }
        if let Some(settings) = destination(c, &key, d) {
            out.push(settings);
        }
    }
    out
}

fn destination(c: &mut Checker, key: &str, d: DestinationConfig) -> Option<DestinationSettings> {
    let before = c.problems_len();
    names(c, key, &d);
    let schema = TableSchema::parse(&d.columns)
        .map_err(|e| {
            c.problem(
                format!("{key}.columns"),
                format!("{e} (expected `Name:type, Name:type`)"),
            )
        })
        .ok();
    let transform_path = c.path(&d.transform);
    let transform = Transform::from_file(&transform_path)
        .map_err(|e| c.problem(format!("{key}.transform"), e.to_string()))
        .ok();
    let filter = Filter::from_config(c, &format!("{key}.filter"), &d.filter);
    let mode = IngestionMode::from(d.ingestion);
    let batch = BatchLimits::from_config(
        c,
        &format!("{key}.batch"),
        &d.batch,
        default_batch_limits(mode),
    );
    let mapping = mapping(c, key, d.mapping.as_deref());
    let batching_policy = d
        .batching_policy
        .as_ref()
        .and_then(|p| batching_policy(c, &format!("{key}.batching_policy"), p));
    let dedupe_view = d.dedupe_view.as_ref().and_then(|v| {
        dedupe_view(
            c,
            &format!("{key}.dedupe_view"),
            v,
            &d.table,
            schema.as_ref(),
        )
    });
    match (schema, transform, filter, batch) {
        (Some(schema), Some(transform), Some(filter), Some(batch))
            if c.problems_len() == before =>
        {
            Some(DestinationSettings {
                name: d.name,
                database: d.database,
                table: d.table,
                schema,
                filter,
                transform,
                ingestion: mode,
                batch,
                mapping,
                batching_policy,
                dedupe_view,
            })
        }
        _ => None,
    }
}

/// The destination's own name, and the database's and table's.
fn names(c: &mut Checker, key: &str, d: &DestinationConfig) {
    let name_ok = !d.name.is_empty()
        && d.name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
    if !name_ok {
        c.problem(
            format!("{key}.name"),
            format!(
                "{:?} must be non-empty and use only letters, digits, '-' and '_'",
                d.name
            ),
        );
    }
    for (field, value) in [("database", &d.database), ("table", &d.table)] {
        if value.trim().is_empty() || value.len() > 1024 {
            c.problem(
                format!("{key}.{field}"),
                "must be a non-empty name of at most 1024 characters",
            );
        }
    }
}

/// The JSON ingestion mapping's name, [`DEFAULT_MAPPING`] when unset.
fn mapping(c: &mut Checker, key: &str, configured: Option<&str>) -> String {
    let mapping = configured.unwrap_or(DEFAULT_MAPPING).to_string();
    if mapping.is_empty()
        || !mapping
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-' || ch == '.')
    {
        c.problem(
            format!("{key}.mapping"),
            format!("{mapping:?} must be non-empty and use only letters, digits, '_', '-' and '.'"),
        );
    }
    mapping
}

/// Checks `[destination.batching_policy]` against the ranges Data Explorer accepts.
fn batching_policy(c: &mut Checker, key: &str, p: &BatchingPolicyConfig) -> Option<BatchingPolicy> {
    let before = c.problems_len();
    let mut range = |field: &str, value: Option<u64>, lo: u64, hi: u64| {
        if let Some(v) = value {
            if !(lo..=hi).contains(&v) {
                c.problem(
                    format!("{key}.{field}"),
                    format!("{v} is out of range: Data Explorer accepts {lo} to {hi}"),
                );
            }
        }
    };
    range("max_time_s", p.max_time_s, 10, 1800);
    range("max_items", p.max_items, 1, 25_000);
    range("max_raw_size_mb", p.max_raw_size_mb, 100, 4096);
    (c.problems_len() == before).then_some(BatchingPolicy {
        max_time: p.max_time_s.map(Duration::from_secs),
        max_items: p.max_items,
        max_raw_size_mb: p.max_raw_size_mb,
    })
}

/// Checks `[destination.dedupe_view]`: a view name that is not the table's, and keys that are
/// distinct, non-dynamic columns of the table (Data Explorer cannot group by dynamic).
fn dedupe_view(
    c: &mut Checker,
    key: &str,
    v: &DedupeViewConfig,
    table: &str,
    schema: Option<&TableSchema>,
) -> Option<DedupeView> {
    let before = c.problems_len();
    if v.name.trim().is_empty() || v.name.len() > 1024 || v.name == table {
        c.problem(
            format!("{key}.name"),
            format!(
                "{:?} must be a non-empty name other than the table's",
                v.name
            ),
        );
    }
    if v.keys.is_empty() {
        c.problem(
            format!("{key}.keys"),
            "must name at least one column (the columns that identify a row)",
        );
    }
    for (i, k) in v.keys.iter().enumerate() {
        let at = format!("{key}.keys[{i}]");
        if v.keys[..i].contains(k) {
            c.problem(at, format!("{k:?} is listed twice"));
            continue;
        }
        let Some(schema) = schema else { continue };
        match schema.index_of(k).map(|i| schema.columns()[i].kind) {
            None => c.problem(at, format!("{k:?} is not one of the destination's columns")),
            Some(KustoType::Dynamic) => c.problem(
                at,
                format!("{k:?} is dynamic; Data Explorer cannot group by a dynamic column"),
            ),
            Some(_) => {}
        }
    }
    (c.problems_len() == before).then(|| DedupeView {
        name: v.name.clone(),
        keys: v.keys.clone(),
    })
}
