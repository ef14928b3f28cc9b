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

/// A catalog of `tables` that also offers a column store of each, so that the engine's
/// tests run every query through the columnar scans as well as over decoded rows.
pub struct WithStores<'a> {
    tables: &'a std::collections::HashMap<String, DataTable>,
    stores: std::collections::HashMap<String, ColumnStore>,
}

impl<'a> WithStores<'a> {
    /// Builds the stores of `tables`.
    pub fn new(tables: &'a std::collections::HashMap<String, DataTable>) -> Self {
        let stores = tables
            .iter()
            .map(|(name, t)| {
                let mut s = ColumnStore::new(&t.columns);
                s.sync(t);
                (name.clone(), s)
            })
            .collect();
        WithStores { tables, stores }
    }
}

impl Catalog for WithStores<'_> {
    fn table(&self, name: &str) -> Option<&DataTable> {
        self.tables.get(name)
    }

    fn store(&self, name: &str) -> Option<&ColumnStore> {
        let (t, s) = (self.tables.get(name)?, self.stores.get(name)?);
        s.in_sync(t).then_some(s)
    }
}

/// Runs `q` over `tables` with and without their column stores, checks that both give the
/// same answer (or the same error), and returns it.
pub fn both(
    tables: &std::collections::HashMap<String, DataTable>,
    run: impl Fn(&dyn Catalog) -> Result<QueryOutput, KqlError>,
) -> Result<QueryOutput, KqlError> {
    struct Plain<'a>(&'a std::collections::HashMap<String, DataTable>);
    impl Catalog for Plain<'_> {
        fn table(&self, name: &str) -> Option<&DataTable> {
            self.0.get(name)
        }
    }
    let rows = run(&Plain(tables));
    let stored = run(&WithStores::new(tables));
    let text = |r: &Result<QueryOutput, KqlError>| match r {
        Ok(o) => format!("{o:?}"),
        Err(e) => format!("error {} at {}", e.message, e.position),
    };
    assert_eq!(
        text(&rows),
        text(&stored),
        "decoded rows and column stores disagree"
    );
    rows
}
