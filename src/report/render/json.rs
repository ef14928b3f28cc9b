//! The generic JSON body: everything in the message, rows as objects keyed by column name.

use crate::report::message::{rfc3339, Message};
use serde_json::{json, Map, Value};

/// `{"report", "kind", "title", "run_id", "window", "alert_key", "row_count", "rows_omitted",
/// "columns", "rows", "visualization"}`.
pub fn render(m: &Message, max_rows: usize) -> Value {
    let shown = m.rows.len().min(max_rows);
    let rows: Vec<Value> = m.rows[..shown]
        .iter()
        .map(|r| {
            let o: Map<String, Value> = m
                .columns
                .iter()
                .zip(r)
                .map(|(c, v)| (c.name.clone(), v.clone()))
                .collect();
            Value::Object(o)
        })
        .collect();
    let columns: Vec<Value> = m
        .columns
        .iter()
        .map(|c| json!({"name": c.name, "type": c.r#type}))
        .collect();
    json!({
        "report": m.report,
        "description": m.description,
        "kind": m.kind.as_str(),
        "title": m.title(),
        "run_id": m.run_id,
        "window": {"start": rfc3339(m.window.start), "end": rfc3339(m.window.end)},
        "alert_key": m.alert_key,
        "row_count": m.rows.len(),
        "rows_omitted": m.rows.len() - shown,
        "columns": columns,
        "rows": rows,
        "visualization": m.visualization,
    })
}
