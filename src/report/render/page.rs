//! The reports page (`/reports` in a browser): every report with its schedule, next run, latest
//! runs (status, duration, error) and latest output (its charts as images served beside the
//! page, or its table), server-rendered by minijinja with HTML escaping; no scripts.

use super::html::template_value;
use minijinja::{AutoEscape, Environment, Value};
use serde_json::json;

const PAGE: &str = include_str!("templates/page.html");

/// One report as the page shows it: `name`, `description`, `enabled`, `schedule`,
/// `next_run`, `time_zone`, `runs` (`started`, `trigger`, `status`, `duration`, `rows`,
/// `delivered`, `step`, `error`) and `latest` (`row_count`, `finished`, `charts` with `url`
/// and `title`); `table` is the latest output's HTML table, already escaped.
pub struct PageReport {
    /// The fields above, as JSON.
    pub fields: serde_json::Value,
    /// The latest output's table, when it is shown as one.
    pub table: Option<String>,
}

/// The page for `reports`, as of `now`.
pub fn render(reports: Vec<PageReport>, now: &str) -> Result<String, minijinja::Error> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("page.html", PAGE)?;
    let list: Vec<Value> = reports
        .into_iter()
        .map(|r| {
            let fields = template_value(&r.fields);
            match r.table {
                Some(t) => {
                    let latest = fields.get_attr("latest").unwrap_or_default();
                    let latest =
                        minijinja::context! { table => Value::from_safe_string(t), ..latest };
                    minijinja::context! { latest => latest, ..fields }
                }
                None => fields,
            }
        })
        .collect();
    env.get_template("page.html")?
        .render(minijinja::context! { reports => list, now => template_value(&json!(now)) })
}
