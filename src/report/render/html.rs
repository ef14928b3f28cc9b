//! The HTML an e-mail carries: the built-in body (title, window, charts as `cid:` images,
//! the table) or the report's own template, both rendered by `minijinja` with HTML
//! escaping. Styles are inline and there are no scripts, so mail clients show it as meant.
//! Templates see the context of [`context`] plus `table` (the built-in table, ready to
//! insert), `charts` (`cid`, `title`), `cells` (rows as display text) and `left_out`.

use super::cells;
use crate::report::message::Message;
use chrono_tz::Tz;
use minijinja::{AutoEscape, Environment, Value};
use serde_json::json;

const BODY: &str = include_str!("templates/body.html");
const TABLE: &str = include_str!("templates/table.html");

/// The values every template sees (subjects and addresses too): `report`, `description`,
/// `title`, `kind`, `run_id`, `scheduled` and `window` (in `time_zone`), `row_count`,
/// `columns`, `rows` (objects by column name), `row` (the first of them) and `alert_key`.
pub fn context(message: &Message, tz: Tz) -> serde_json::Value {
    let local = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
    };
    let rows: Vec<serde_json::Value> = message
        .rows
        .iter()
        .map(|r| {
            let obj: serde_json::Map<String, serde_json::Value> = message
                .columns
                .iter()
                .zip(r)
                .map(|(c, v)| (c.name.clone(), v.clone()))
                .collect();
            serde_json::Value::Object(obj)
        })
        .collect();
    json!({
        "report": message.report,
        "description": message.description,
        "title": message.title(),
        "kind": message.kind.as_str(),
        "run_id": message.run_id,
        "scheduled": local(message.window.end),
        "window": {"start": local(message.window.start), "end": local(message.window.end)},
        "time_zone": tz.name(),
        "row_count": message.rows.len(),
        "columns": message.columns.iter().map(|c| &c.name).collect::<Vec<_>>(),
        "row": rows.first().cloned().unwrap_or(serde_json::Value::Null),
        "rows": rows,
        "alert_key": message.alert_key,
    })
}

/// A JSON value as a template value (numbers as numbers: serde_json's arbitrary-precision
/// numbers would otherwise reach templates as maps).
pub fn template_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::from(()),
        serde_json::Value::Bool(b) => Value::from(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::from(i),
            (_, Some(u), _) => Value::from(u),
            (_, _, Some(f)) => Value::from(f),
            _ => Value::from(n.to_string()),
        },
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(a) => {
            Value::from(a.iter().map(template_value).collect::<Vec<_>>())
        }
        serde_json::Value::Object(o) => Value::from(
            o.iter()
                .map(|(k, v)| (k.clone(), template_value(v)))
                .collect::<std::collections::BTreeMap<String, Value>>(),
        ),
    }
}

/// Renders a one-off text template (a subject, an address) against `ctx`, unescaped.
pub fn text(template: &str, ctx: &serde_json::Value) -> Result<String, minijinja::Error> {
    let env = Environment::new();
    env.render_str(template, template_value(ctx))
}

/// What the body shows besides the context.
pub struct BodyParts<'a> {
    /// Charts as (cid, title).
    pub charts: &'a [(String, String)],
    /// Whether the table is shown.
    pub show_table: bool,
    /// Rows the table shows at most.
    pub max_rows: usize,
    /// Whether the result is attached as CSV (the cut note says so).
    pub csv: bool,
    /// The report's own template, instead of the built-in body.
    pub template: Option<&'a str>,
}

/// The table's context: the message's context plus `columns` (name, numeric), `cells` (the
/// first `max_rows` rows as text), `left_out` and `csv`.
fn table_context(message: &Message, tz: Tz, max_rows: usize, csv: bool) -> serde_json::Value {
    let shown = message.rows.len().min(max_rows);
    let columns: Vec<serde_json::Value> = message
        .columns
        .iter()
        .map(|c| json!({"name": c.name, "numeric": cells::is_numeric(&c.r#type)}))
        .collect();
    let cells = cells::rows(&message.columns, &message.rows[..shown], tz);
    let mut ctx = context(message, tz);
    let extra = json!({
        "columns": columns,
        "cells": cells,
        "left_out": message.rows.len() - shown,
        "csv": csv,
    });
    if let (Some(c), Some(e)) = (ctx.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    ctx
}

fn environment(body: Option<&str>) -> Result<Environment<'_>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("table.html", TABLE)?;
    if let Some(b) = body {
        env.add_template("body.html", b)?;
    }
    Ok(env)
}

/// The result as an HTML table (inline styles), at most `max_rows` rows with a note saying
/// how many were left out.
pub fn table(
    message: &Message,
    tz: Tz,
    max_rows: usize,
    csv: bool,
) -> Result<String, minijinja::Error> {
    let ctx = table_context(message, tz, max_rows, csv);
    environment(None)?
        .get_template("table.html")?
        .render(template_value(&ctx))
}

/// The HTML body.
pub fn body(message: &Message, tz: Tz, parts: &BodyParts<'_>) -> Result<String, minijinja::Error> {
    let env = environment(Some(parts.template.unwrap_or(BODY)))?;
    let mut ctx = table_context(message, tz, parts.max_rows, parts.csv);
    let extra = json!({
        "show_table": parts.show_table,
        "charts": parts.charts.iter().map(|(cid, title)| json!({"cid": cid, "title": title})).collect::<Vec<_>>(),
    });
    if let (Some(c), Some(e)) = (ctx.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    let table = env
        .get_template("table.html")?
        .render(template_value(&ctx))?;
    let ctx = template_value(&ctx);
    let ctx = minijinja::context! { table => Value::from_safe_string(table), ..ctx };
    env.get_template("body.html")?.render(ctx)
}

/// The plain-text part: title, window, and the shown rows as `a | b | c` lines.
pub fn plain(message: &Message, tz: Tz, max_rows: usize) -> String {
    let mut out = format!("{}\n", message.title());
    if let Some(d) = &message.description {
        out.push_str(&format!("{d}\n"));
    }
    out.push_str(&format!("{}\n\n", message.window_text()));
    let names: Vec<&str> = message.columns.iter().map(|c| c.name.as_str()).collect();
    out.push_str(&names.join(" | "));
    out.push('\n');
    let shown = message.rows.len().min(max_rows);
    for row in cells::rows(&message.columns, &message.rows[..shown], tz) {
        out.push_str(&row.join(" | "));
        out.push('\n');
    }
    if shown < message.rows.len() {
        out.push_str(&format!(
            "({} more rows not shown)\n",
            message.rows.len() - shown
        ));
    }
    out
}
