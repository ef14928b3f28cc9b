//! Helpers for the engine's tests that build their input in the query (`datatable`, `range`,
//! `print`), so they need no catalog.

use super::*;

/// A catalog without tables.
pub struct NoTables;

impl Catalog for NoTables {
    fn table(&self, _: &str) -> Option<&DataTable> {
        None
    }
}

/// The query's result; panics with the error when it fails.
pub fn run(q: &str) -> DataTable {
    execute(q, &NoTables).unwrap_or_else(|e| panic!("{q}: {}", e.message))
}

/// The query's error message; panics when it succeeds.
pub fn fail(q: &str) -> String {
    match execute(q, &NoTables) {
        Ok(t) => panic!("query {q:?} unexpectedly succeeded: {t:?}"),
        Err(e) => e.message,
    }
}

/// `name:type` of each result column.
pub fn columns(t: &DataTable) -> Vec<String> {
    t.columns
        .iter()
        .map(|c| format!("{}:{}", c.name, c.kind))
        .collect()
}
