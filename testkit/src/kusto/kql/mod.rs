//! A small, strict interpreter for a subset of the Kusto Query Language (KQL).
//!
//! The Data Explorer emulator stores tables as rows of wire-form JSON values, plus the same
//! rows in typed columns ([`ColumnStore`]) that leading `where`, `summarize`, `count` and
//! `take` operators scan without decoding JSON, and calls [`execute`] to answer queries. Anything outside the supported subset is refused with a
//! [`KqlError`] (message in the spirit of Kusto's, 0-based character position), never
//! answered wrongly. The module depends only on serde_json, thiserror and chrono.
//!
//! Supported (each with tests; `testkit/tests/kql_conformance/cases.json` holds documented
//! behaviours checked against the v2 endpoint and the official Python client):
//! - statements: `declare query_parameters(...)` bound to the request's parameters
//!   (`params`), `let` scalars, tables, and functions with scalar or tabular bodies
//!   (`bind`);
//! - sources: a table (or `['quoted name']`), `print`, `datatable(...)[...]`, `range`,
//!   `union`;
//! - operators: `where`/`filter`, `project`, `project-away` (names, `prefix*`),
//!   `project-rename`, `extend`, `summarize` (count, countif, sum, sumif, avg, avgif, min,
//!   minif, max, maxif, dcount, dcountif, percentile, percentiles, make_list, make_set,
//!   make_bag and their `_if` forms, arg_max, arg_min, `take_any(*)`; `by`
//!   columns/expressions), `order by`/`sort by` (asc/desc, nulls
//!   first/last), `take`/`limit`, `top`, `count`, `distinct`, `join` (every kind), `lookup`,
//!   `union`, `mv-expand`, `evaluate bag_unpack` (prefix, `columnsConflict`,
//!   `ignoredProperties`, output schema), and `render` as the last operator (its
//!   visualization in [`QueryOutput`]);
//! - scalars: literals (long, real, string, bool, `datetime(..)` in ISO, RFC 822/850 and
//!   sortable GMT forms, `time(..)`/`timespan(..)`, `1d 2h 30m 10s 100ms`, `guid(..)`,
//!   `dynamic(..)`, `int(..)`, `long(null)`...), arithmetic with Kusto's typing (int and long
//!   make long, a real operand real, modulo never negative), comparisons, string operators
//!   (`contains`, `has`, `startswith`, `endswith`, `_cs` and `!` forms, `in`, `in~`,
//!   `has_any`, `has_all`, `matches regex`, `between`), `and`/`or` (a null bool counts as
//!   false), `not()`, dynamic access (`.x`, `['x']`, `[0]`), and the functions now, ago, bin,
//!   bin_at, floor, round, abs, tostring, toint, tolong, todouble/toreal, todatetime, tobool,
//!   parse_json/todynamic, array_length, strlen, strcat, strcat_delim, split, indexof,
//!   substring, replace_string, trim, trim_start, trim_end, extract, extract_all, countof,
//!   reverse, strrep (regular expressions in RE2 syntax: `strings`), tolower, toupper,
//!   iff/iif, case, coalesce, isnull, isnotnull, isempty, isnotempty, startof/endof
//!   day|week|month|year, dayofweek,
//!   datetime_add, datetime_diff, format_datetime (`functions`, `datefns`).
//!
//! Not supported, and refused by name: make-series, top-nested, evaluate plugins other than
//! bag_unpack, materialize, let functions with tabular parameters and the functions not
//! listed above. A
//! datetime written with day and month as numbers (`12-02-2022`) is refused rather than
//! read in a guessed order.
//!
//! Parsing and evaluation run on a dedicated thread with a large stack, and expression nesting
//! is bounded, so hostile queries get an error rather than overflowing the caller's stack.

mod agg_types;
mod aggregate;
mod aggregate_lists;
mod ast;
mod bind;
mod catalog;
mod compile;
mod datefns;
mod error;
mod eval;
mod functions;
mod lexer;
mod operators;
mod params;
mod parser;
mod render;
mod rows;
mod store;
mod strings;
mod table;
mod timefmt;
mod typed;
mod value;

pub use catalog::Catalog;
pub use error::KqlError;
pub use store::ColumnStore;
pub use table::{Column, DataTable};

#[cfg(test)]
mod let_tests;
#[cfg(test)]
mod report_tests;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod unpack_tests;

/// Runs a query over the catalog; anything outside the supported subset is an error, never a
/// wrong answer. The result table is named "PrimaryResult".
pub fn execute(query: &str, catalog: &dyn Catalog) -> Result<DataTable, KqlError> {
    execute_at(query, catalog, chrono::Utc::now())
}

/// Like [`execute`], with `now()` fixed to `now` (for deterministic tests and replays).
pub fn execute_at(
    query: &str,
    catalog: &dyn Catalog,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<DataTable, KqlError> {
    execute_request(query, catalog, now, &serde_json::Map::new()).map(|o| o.table)
}

/// What a query returns: its primary table and, when its last operator is `render`, the
/// visualization the v2 answer carries in its `@ExtendedProperties` table.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryOutput {
    /// The primary result.
    pub table: DataTable,
    /// `{"Visualization": "timechart", "Title": ..., ...}`.
    pub visualization: Option<serde_json::Value>,
}

/// Runs a query as a request does: `parameters` are the request's `properties.Parameters`
/// for a query starting with `declare query_parameters(...)`.
pub fn execute_request(
    query: &str,
    catalog: &dyn Catalog,
    now: chrono::DateTime<chrono::Utc>,
    parameters: &serde_json::Map<String, serde_json::Value>,
) -> Result<QueryOutput, KqlError> {
    let (mut ast, declared) = on_query_stack(|| {
        let tokens = lexer::lex(query)?;
        let (declared, start) = params::split_declare(&tokens)?;
        Ok((parser::parse(&tokens[start..])?, declared))
    })?;
    let bindings = bind::bind(&mut ast, params::bind(&declared, parameters)?)?;
    bind::query(&mut ast, &bindings)?;
    run_query(&ast, catalog, timefmt::ticks_of(now))
}

/// Runs a parsed query: the parts of a `union` source and the right side of each `join` and
/// `union` operator first (in that order), then the query itself.
fn run_query(q: &ast::Query, catalog: &dyn Catalog, now: i64) -> Result<QueryOutput, KqlError> {
    let mut joined = Vec::new();
    if let Some(ast::Inline::Union(parts)) = &q.inline {
        for p in parts {
            joined.push(run_query(p, catalog, now)?.table);
        }
    }
    for op in &q.ops {
        match &op.kind {
            ast::OpKind::Join { right, .. } => joined.push(run_query(right, catalog, now)?.table),
            ast::OpKind::Union(parts) => {
                for p in parts {
                    joined.push(run_query(p, catalog, now)?.table);
                }
            }
            _ => {}
        }
    }
    if let Some(table) = operators::count_only(q, catalog) {
        return Ok(QueryOutput {
            table,
            visualization: render::visualization(q),
        });
    }
    let rows = operators::source(q, catalog)?;
    let table = on_query_stack(move || operators::run(q, rows, now, joined))?;
    Ok(QueryOutput {
        table,
        visualization: render::visualization(q),
    })
}

/// Stack size of the thread that parses and evaluates a query: parsing and evaluation recurse
/// once per nesting level (bounded by the parser), and unoptimised builds use large frames.
const QUERY_STACK_BYTES: usize = 16 << 20;

/// Runs `f` on a scoped thread with a known, generous stack, so that deep (but accepted)
/// queries never overflow a small caller stack such as a tokio worker's; a panic inside
/// becomes an error instead of unwinding into the caller.
fn on_query_stack<T: Send>(f: impl FnOnce() -> Result<T, KqlError> + Send) -> Result<T, KqlError> {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("kql-query".into())
            .stack_size(QUERY_STACK_BYTES)
            .spawn_scoped(scope, f)
            .map_err(|e| KqlError::new(format!("Could not start the query thread: {e}"), 0))?;
        handle
            .join()
            .unwrap_or_else(|_| Err(KqlError::new("Internal error while running the query", 0)))
    })
}
