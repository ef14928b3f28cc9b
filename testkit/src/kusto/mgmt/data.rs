//! Commands that read or write data with a query: `.set-or-append T [with (...)] <| query`,
//! `.append T [with (...)] <| query`, `.set T [with (...)] <| query` (each runs the query with
//! the request's query parameters and commits its rows as one extent, creating the table from
//! the query's schema for `.set`/`.set-or-append`), and `.show tables details` with each
//! table's real row, extent and size counts. Answers as the service does: the new extent for
//! the ingestion commands.

use super::super::errors::ApiError;
use super::super::frames::table;
use super::super::kql::{self, DataTable};
use super::super::state::{Database, Table};
use super::super::views::ViewCatalog;
use serde_json::{json, Map, Value};

/// A data command, recognised before the other management commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataCommand {
    /// `.set-or-append`, `.append`, `.set`.
    Ingest {
        /// Which one.
        verb: &'static str,
        /// The target table.
        table: String,
        /// The query after `<|`.
        query: String,
    },
    /// `.show tables details`.
    ShowTablesDetails,
}

/// The command `text` is, when it is a data command.
pub fn parse(text: &str) -> Option<Result<DataCommand, String>> {
    let t = text.trim();
    if t.eq_ignore_ascii_case(".show tables details") {
        return Some(Ok(DataCommand::ShowTablesDetails));
    }
    let verb = [".set-or-append", ".append", ".set"]
        .into_iter()
        .find(|v| {
            t.strip_prefix(v)
                .is_some_and(|r| r.starts_with(char::is_whitespace))
        })?;
    let rest = &t[verb.len()..];
    let Some((head, query)) = rest.split_once("<|") else {
        return Some(Err(format!(
            "expected '<|' and a query after {verb} <table>"
        )));
    };
    let name = head.trim();
    // `with (...)` properties (tags, folder, ...) are accepted and not used.
    let name = name.split_once(" with").map_or(name, |(n, _)| n).trim();
    let name = name
        .strip_prefix("['")
        .and_then(|n| n.strip_suffix("']"))
        .unwrap_or(name);
    if name.is_empty() || query.trim().is_empty() {
        return Some(Err(format!("expected {verb} <table> <| <query>")));
    }
    Some(Ok(DataCommand::Ingest {
        verb: &verb[1..],
        table: name.replace("\\'", "'"),
        query: query.trim().to_string(),
    }))
}

/// Runs `command` on `database`.
pub fn execute(
    database: &mut Database,
    db: &str,
    command: DataCommand,
    parameters: &Map<String, Value>,
) -> Result<DataTable, ApiError> {
    match command {
        DataCommand::ShowTablesDetails => Ok(details(database, db)),
        DataCommand::Ingest { verb, table, query } => {
            let result = {
                let catalog = ViewCatalog::for_query(database, &query).map_err(semantic)?;
                kql::execute_request(&query, &catalog, chrono::Utc::now(), parameters)
                    .map_err(semantic)?
                    .table
            };
            ingest(database, verb, &table, result)
        }
    }
}

fn semantic(e: kql::KqlError) -> ApiError {
    ApiError::bad_request(
        "Kusto.Data.Exceptions.SemanticException",
        format!("{} (at position {})", e.message, e.position),
    )
    .with_code("General_BadRequest")
}

fn ingest(
    database: &mut Database,
    verb: &str,
    name: &str,
    result: DataTable,
) -> Result<DataTable, ApiError> {
    let columns: Vec<(String, String)> = result
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.kind.clone()))
        .collect();
    if !database.tables.contains_key(name) {
        if verb == "append" {
            return Err(ApiError::not_found(format!(
                "Table '{name}' was not found."
            )));
        }
        database
            .tables
            .insert(name.to_string(), Table::new(name, &columns));
    }
    let target = database
        .tables
        .get_mut(name)
        .ok_or_else(|| ApiError::not_found(format!("Table '{name}' was not found.")))?;
    let existing: Vec<(String, String)> = target
        .data
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.kind.clone()))
        .collect();
    if existing != columns {
        return Err(ApiError::bad_command(format!(
            "The query's schema ({}) does not match table '{name}' ({})",
            schema_text(&columns),
            schema_text(&existing)
        )));
    }
    if verb == "set" && !target.data.rows.is_empty() {
        return Err(ApiError::bad_command(format!(
            "Table '{name}' already exists with data: .set creates a new table"
        )));
    }
    let size = serde_json::to_string(&result.rows).map_or(0, |s| s.len() as u64);
    let rows = result.rows.len();
    target.commit(result.rows, size, Vec::new());
    let extent = target
        .extents
        .last()
        .map(|e| e.id.clone())
        .unwrap_or_default();
    Ok(table(
        "Table_0",
        &[
            ("ExtentId", "guid"),
            ("OriginalSize", "real"),
            ("ExtentSize", "real"),
            ("ColumnSize", "real"),
            ("IndexSize", "real"),
            ("RowCount", "long"),
        ],
        vec![vec![
            json!(extent),
            json!(size),
            json!(size),
            json!(size),
            json!(0),
            json!(rows),
        ]],
    ))
}

fn schema_text(columns: &[(String, String)]) -> String {
    columns
        .iter()
        .map(|(n, k)| format!("{n}:{k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `.show tables details`: one row per table with its real counts.
fn details(database: &Database, db: &str) -> DataTable {
    let rows = database
        .tables
        .iter()
        .map(|(name, t)| {
            let size: u64 = t.extents.iter().map(|e| e.original_size).sum();
            vec![
                json!(name),
                json!(db),
                json!(""),
                json!(""),
                json!(t.extents.len()),
                json!(size),
                json!(size),
                json!(t.data.rows.len()),
                json!(t.extents.len()),
                json!(size),
                json!(t.data.rows.len()),
                json!(t
                    .extents
                    .iter()
                    .map(|e| e.created)
                    .min()
                    .map(|c| c.to_rfc3339())),
                json!(t
                    .extents
                    .iter()
                    .map(|e| e.created)
                    .max()
                    .map(|c| c.to_rfc3339())),
            ]
        })
        .collect();
    table(
        "Table_0",
        &[
            ("TableName", "string"),
            ("DatabaseName", "string"),
            ("Folder", "string"),
            ("DocString", "string"),
            ("TotalExtents", "long"),
            ("TotalExtentSize", "real"),
            ("TotalOriginalSize", "real"),
            ("TotalRowCount", "long"),
            ("HotExtents", "long"),
            ("HotExtentSize", "real"),
            ("HotRowCount", "long"),
            ("MinExtentsCreationTime", "datetime"),
            ("MaxExtentsCreationTime", "datetime"),
        ],
        rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_recognised() {
        assert_eq!(
            parse(".set-or-append ['Hourly Summary'] with (tags='x') <| T | count"),
            Some(Ok(DataCommand::Ingest {
                verb: "set-or-append",
                table: "Hourly Summary".into(),
                query: "T | count".into()
            }))
        );
        assert!(matches!(
            parse(".append T <| T"),
            Some(Ok(DataCommand::Ingest { verb: "append", .. }))
        ));
        assert_eq!(
            parse(".show tables details"),
            Some(Ok(DataCommand::ShowTablesDetails))
        );
        assert!(matches!(parse(".append T"), Some(Err(_))));
        assert_eq!(parse(".show tables"), None);
        assert_eq!(parse(".setting"), None);
    }
}
