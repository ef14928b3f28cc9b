//! Materialized views: `.create [ifnotexists] materialized-view [with (...)] V on table T
//! { query }` (and `.create-or-alter`), `.show materialized-view(s)`, `.drop materialized-view`.
//! The query is kept as text and run over the source table whenever the view is queried
//! (see [`ViewCatalog`]): what the service answers once materialization has caught up. Only the
//! shape the service requires is accepted: the query starts with the source table and
//! aggregates with `summarize`; it is compiled against the table on creation, so a view that
//! cannot run is refused then, as the service does.

use super::errors::ApiError;
use super::frames::table;
use super::kql::{self, Catalog, DataTable};
use super::state::{Database, MaterializedView};
use serde_json::json;
use std::collections::BTreeMap;

/// A parsed materialized-view command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewCommand {
    /// `.create[-or-alter] [ifnotexists] materialized-view ...`
    Create {
        /// View name.
        name: String,
        /// Source table.
        source: String,
        /// The query between the braces, trimmed.
        query: String,
        /// `ifnotexists`: an existing view is left as it is.
        if_not_exists: bool,
        /// `.create-or-alter`: an existing view takes the new query.
        or_alter: bool,
    },
    /// `.show materialized-views` / `.show materialized-view V`
    Show(Option<String>),
    /// `.drop materialized-view V [ifexists]`
    Drop {
        /// View name.
        name: String,
        /// No error when missing.
        if_exists: bool,
    },
}

/// Parses `text` when it is a materialized-view command; `None` when it is another command.
pub fn parse(text: &str) -> Option<Result<ViewCommand, String>> {
    let lower = text.to_ascii_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    match words.as_slice() {
        [".show", "materialized-views"] => Some(Ok(ViewCommand::Show(None))),
        [".show", "materialized-view", _] => {
            let name = text.split_whitespace().nth(2).unwrap_or_default();
            Some(Ok(ViewCommand::Show(Some(unquote(name)))))
        }
        [".drop", "materialized-view", _, rest @ ..] => {
            let name = text.split_whitespace().nth(2).unwrap_or_default();
            Some(match rest {
                [] => Ok(ViewCommand::Drop {
                    name: unquote(name),
                    if_exists: false,
                }),
                ["ifexists"] => Ok(ViewCommand::Drop {
                    name: unquote(name),
                    if_exists: true,
                }),
                _ => Err(format!("unexpected text after the view name '{name}'")),
            })
        }
        [verb, ..]
            if (*verb == ".create" || *verb == ".create-or-alter")
                && lower.contains("materialized-view") =>
        {
            Some(create(text, *verb == ".create-or-alter"))
        }
        _ => None,
    }
}

/// `[name]`, `['name']` or `name`.
fn unquote(name: &str) -> String {
    let inner = name
        .strip_prefix("['")
        .and_then(|n| n.strip_suffix("']"))
        .or_else(|| name.strip_prefix("[\"").and_then(|n| n.strip_suffix("\"]")));
    inner.unwrap_or(name).to_string()
}

fn create(text: &str, or_alter: bool) -> Result<ViewCommand, String> {
    let open = text
        .find('{')
        .ok_or("expected '{' before the view's query")?;
    let close = text
        .rfind('}')
        .filter(|c| *c > open)
        .ok_or("expected '}' after the view's query")?;
    if !text[close + 1..].trim().is_empty() {
        return Err("unexpected text after the view's query".into());
    }
    let query = text[open + 1..close].trim().to_string();
    let head = &text[..open];
    // Drop `with (...)`: the emulator has no backfill or lookback to configure.
    let head = match (head.find('('), head.rfind(')')) {
        (Some(a), Some(b)) if b > a => format!("{}{}", &head[..a], &head[b + 1..]),
        _ => head.to_string(),
    };
    let words: Vec<&str> = head.split_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    let mut i = 1;
    let if_not_exists = lower.get(i).map(String::as_str) == Some("ifnotexists");
    if if_not_exists {
        i += 1;
    }
    if lower.get(i).map(String::as_str) != Some("materialized-view") {
        return Err("expected 'materialized-view'".into());
    }
    // Optional `with` before the name (its parenthesised part was removed above).
    if lower.get(i + 1).map(String::as_str) == Some("with") {
        i += 1;
    }
    let (Some(name), Some("on"), Some("table"), Some(source), None) = (
        words.get(i + 1),
        lower.get(i + 2).map(String::as_str),
        lower.get(i + 3).map(String::as_str),
        words.get(i + 4),
        words.get(i + 5),
    ) else {
        return Err("expected 'materialized-view <name> on table <table> { <query> }'".into());
    };
    Ok(ViewCommand::Create {
        name: unquote(name),
        source: unquote(source),
        query,
        if_not_exists,
        or_alter,
    })
}

/// Runs a view command in `database` (named `db` in messages).
pub fn execute(
    database: &mut Database,
    db: &str,
    command: ViewCommand,
) -> Result<DataTable, ApiError> {
    match command {
        ViewCommand::Create {
            name,
            source,
            query,
            if_not_exists,
            or_alter,
        } => {
            if database.views.contains_key(&name) && if_not_exists {
                return Ok(listing(database, Some(&name)));
            }
            if database.views.contains_key(&name) && !or_alter {
                return Err(ApiError::bad_command(format!(
                    "Materialized view '{name}' already exists in database '{db}'."
                )));
            }
            check(database, db, &name, &source, &query)?;
            database
                .views
                .insert(name.clone(), MaterializedView { source, query });
            Ok(listing(database, Some(&name)))
        }
        ViewCommand::Show(name) => {
            if let Some(n) = &name {
                if !database.views.contains_key(n) {
                    return Err(ApiError::not_found(format!(
                        "Materialized view '{n}' was not found in database '{db}'."
                    )));
                }
            }
            Ok(listing(database, name.as_deref()))
        }
        ViewCommand::Drop { name, if_exists } => {
            if database.views.remove(&name).is_none() && !if_exists {
                return Err(ApiError::not_found(format!(
                    "Materialized view '{name}' was not found in database '{db}'."
                )));
            }
            Ok(listing(database, None))
        }
    }
}

/// Refuses a view the service would refuse: a name taken by a table, a missing source, a
/// query that does not start with the source and summarize, or one that does not compile.
fn check(
    database: &Database,
    db: &str,
    name: &str,
    source: &str,
    query: &str,
) -> Result<(), ApiError> {
    let refuse = |why: String| {
        Err(ApiError::bad_command(format!(
            "Cannot create materialized view '{name}': {why}"
        )))
    };
    if database.tables.contains_key(name) {
        return refuse(format!("a table named '{name}' exists in database '{db}'"));
    }
    if !database.tables.contains_key(source) {
        return refuse(format!(
            "the source table '{source}' was not found in database '{db}'"
        ));
    }
    let first = query
        .split(|c: char| c == '|' || c.is_whitespace())
        .next()
        .unwrap_or_default();
    if unquote(first) != source || !query.contains("summarize") {
        return refuse(format!(
            "the query must start with the source table '{source}' and aggregate with summarize"
        ));
    }
    kql::execute(query, database)
        .map(|_| ())
        .or_else(|e| refuse(format!("{} (at position {})", e.message, e.position)))
}

/// `.show materialized-view(s)`: the service's columns, for one view or all.
fn listing(database: &Database, only: Option<&str>) -> DataTable {
    let rows = database
        .views
        .iter()
        .filter(|(n, _)| only.is_none_or(|o| o == n.as_str()))
        .map(|(n, v)| {
            // Always caught up: the view is computed when queried.
            let now = super::values::format_datetime(&chrono::Utc::now());
            vec![
                json!(n),
                json!(v.source),
                json!(v.query),
                json!(now),
                json!(now),
                json!("Completed"),
                json!(true),
                json!(true),
                json!(""),
                json!(""),
                json!(false),
                serde_json::Value::Null,
                serde_json::Value::Null,
            ]
        })
        .collect();
    table(
        "Table_0",
        &[
            ("Name", "string"),
            ("SourceTable", "string"),
            ("Query", "string"),
            ("MaterializedTo", "datetime"),
            ("LastRun", "datetime"),
            ("LastRunResult", "string"),
            ("IsHealthy", "bool"),
            ("IsEnabled", "bool"),
            ("Folder", "string"),
            ("DocString", "string"),
            ("AutoUpdateSchema", "bool"),
            ("EffectiveDateTime", "datetime"),
            ("Lookback", "timespan"),
        ],
        rows,
    )
}

/// The tables of a database plus its materialized views, each computed from its source when a
/// query names it (a view may not name another view, as in the service).
pub struct ViewCatalog<'a> {
    database: &'a Database,
    computed: BTreeMap<String, DataTable>,
}

impl<'a> ViewCatalog<'a> {
    /// Computes the views whose names appear in `query` (a cheap, conservative test).
    pub fn for_query(database: &'a Database, query: &str) -> Result<Self, kql::KqlError> {
        let mut computed = BTreeMap::new();
        for (name, view) in &database.views {
            if query.contains(name.as_str()) {
                let mut data = kql::execute(&view.query, database)?;
                data.name = name.clone();
                computed.insert(name.clone(), data);
            }
        }
        Ok(ViewCatalog { database, computed })
    }
}

impl Catalog for ViewCatalog<'_> {
    fn table(&self, name: &str) -> Option<&DataTable> {
        self.computed
            .get(name)
            .or_else(|| self.database.table(name))
    }

    fn store(&self, name: &str) -> Option<&kql::ColumnStore> {
        match self.computed.contains_key(name) {
            true => None,
            false => self.database.store(name),
        }
    }
}
