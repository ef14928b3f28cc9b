//! `/reports` for a browser: the reports page ([`super::render::page`]) built from the
//! settings and the history, and `/reports/{name}/chart/{n}`, the PNG of a report's latest
//! output's n-th chart (the query's `render`, or its e-mail's `charts`).

use super::history::History;
use super::latest::LatestOutput;
use super::message::Message;
use super::messages;
use super::query::Window;
use super::render::{charts, html, page};
use super::settings::ReportSettings;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::json;

/// Runs listed per report on the page.
const RUNS_LISTED: usize = 10;

/// Rows of the latest output shown as a table.
const TABLE_ROWS: usize = 20;

fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The latest output as a message (for charts and tables).
fn message(report: &ReportSettings, latest: &LatestOutput) -> Message {
    let window = Window {
        start: latest.finished,
        end: latest.finished,
    };
    let mut m = messages::base(report, &latest.result, window, &latest.run_id);
    m.rows = latest.result.rows.clone();
    m
}

/// The charts of a report's latest output: its query's `render`, else its first e-mail's.
pub fn chart_specs(report: &ReportSettings, m: &Message) -> Vec<iotc_adx_charts::ChartSpec> {
    let kinds = report
        .emails
        .first()
        .map(|e| e.charts.clone())
        .unwrap_or_default();
    charts::specs(m, &kinds)
}

/// The PNG of chart `n` of `report`'s latest output.
pub fn chart_png(report: &ReportSettings, history: &History, n: usize) -> Option<Vec<u8>> {
    let latest = history.latest(&report.name).ok()??;
    let m = message(report, &latest);
    let specs = chart_specs(report, &m);
    let spec = specs.get(n)?;
    let drawn = charts::draw(&m, std::slice::from_ref(spec), report.time_zone, false).ok()?;
    drawn.into_iter().next().map(|c| c.png)
}

/// The page for `reports`.
pub fn render(reports: &[ReportSettings], history: &History) -> Result<String, minijinja::Error> {
    let list = reports
        .iter()
        .map(|r| entry(r, history))
        .collect::<Result<_, _>>()?;
    page::render(list, &Utc::now().format("%Y-%m-%d %H:%M:%S").to_string())
}

fn entry(r: &ReportSettings, history: &History) -> Result<page::PageReport, minijinja::Error> {
    let tz = r.time_zone;
    let next = r
        .schedule
        .as_ref()
        .filter(|_| r.enabled)
        .and_then(|s| s.next_after(Utc::now()));
    let runs: Vec<serde_json::Value> = history
        .runs(Some(&r.name), RUNS_LISTED)
        .unwrap_or_default()
        .iter()
        .map(|run| {
            json!({
                "started": local(run.started, tz),
                "trigger": run.trigger.as_str(),
                "status": run.status.as_str(),
                "duration": format!("{:.1} s", run.duration_ms as f64 / 1000.0),
                "rows": run.rows.map_or("-".to_string(), |n| n.to_string()),
                "delivered": run.delivered,
                "step": run.step,
                "error": run.error,
            })
        })
        .collect();
    let latest = history.latest(&r.name).ok().flatten();
    let mut table = None;
    let latest_json = match &latest {
        None => serde_json::Value::Null,
        Some(l) => {
            let m = message(r, l);
            let specs = chart_specs(r, &m);
            if specs.is_empty() {
                table = Some(html::table(&m, tz, TABLE_ROWS, false)?);
            }
            let charts: Vec<serde_json::Value> = specs
                .iter()
                .enumerate()
                .map(|(n, s)| json!({"url": format!("/reports/{}/chart/{n}", r.name), "title": s.title}))
                .collect();
            json!({"row_count": l.row_count, "finished": local(l.finished, tz), "charts": charts})
        }
    };
    Ok(page::PageReport {
        fields: json!({
            "name": r.name,
            "description": r.description,
            "enabled": r.enabled,
            "schedule": r.schedule.as_ref().map(|s| s.describe()),
            "next_run": next.map(|t| local(t, tz)),
            "time_zone": tz.name(),
            "runs": runs,
            "latest": latest_json,
        }),
        table,
    })
}
