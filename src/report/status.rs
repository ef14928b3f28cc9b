//! `/reports` on the operations listener: every report with its schedule, next run and
//! latest runs from the history, as JSON, or as the reports page when a browser asks for
//! HTML ([`super::status_page`]), with each report's latest charts at
//! `/reports/{name}/chart/{n}`.

use super::history::History;
use super::settings::ReportSettings;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use serde_json::{json, Value};
use std::sync::Arc;

/// Runs shown per report.
const RUNS_SHOWN: usize = 20;

#[derive(Clone)]
struct Shared {
    reports: Arc<Vec<ReportSettings>>,
    history: Arc<History>,
}

/// The routes `/reports` and `/reports/{name}`.
pub fn router(reports: Vec<ReportSettings>, history: Arc<History>) -> Router {
    Router::new()
        .route("/reports", get(all))
        .route("/reports/{name}", get(one))
        .route("/reports/{name}/chart/{n}", get(chart))
        .with_state(Shared {
            reports: Arc::new(reports),
            history,
        })
}

/// The JSON of one report: settings people need and its latest runs.
pub fn describe(r: &ReportSettings, history: &History, runs: usize) -> Value {
    let next = r
        .schedule
        .as_ref()
        .filter(|_| r.enabled)
        .and_then(|s| s.next_after(Utc::now()));
    let recent = history.runs(Some(&r.name), runs).unwrap_or_default();
    json!({
        "name": r.name,
        "description": r.description,
        "database": r.database,
        "schedule": r.schedule.as_ref().map(|s| s.describe()),
        "enabled": r.enabled,
        "next_run": next,
        "runs": recent,
    })
}

/// Whether the client prefers HTML (a browser) to JSON.
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

async fn all(State(s): State<Shared>, headers: HeaderMap) -> Response {
    if wants_html(&headers) {
        return match super::status_page::render(&s.reports, &s.history) {
            Ok(page) => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                page,
            )
                .into_response(),
            Err(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot render the reports page: {e}"),
            )
                .into_response(),
        };
    }
    let list: Vec<Value> = s
        .reports
        .iter()
        .map(|r| describe(r, &s.history, RUNS_SHOWN))
        .collect();
    json_response(StatusCode::OK, json!({ "reports": list }))
}

async fn one(State(s): State<Shared>, Path(name): Path<String>) -> Response {
    match s.reports.iter().find(|r| r.name == name) {
        Some(r) => json_response(StatusCode::OK, describe(r, &s.history, 1000)),
        None => json_response(
            StatusCode::NOT_FOUND,
            json!({"error": format!("no report named {name:?}")}),
        ),
    }
}

async fn chart(State(s): State<Shared>, Path((name, n)): Path<(String, usize)>) -> Response {
    let png = s
        .reports
        .iter()
        .find(|r| r.name == name)
        .and_then(|r| super::status_page::chart_png(r, &s.history, n));
    match png {
        Some(png) => (StatusCode::OK, [(header::CONTENT_TYPE, "image/png")], png).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            format!("report {name:?} has no chart {n} in its latest output"),
        )
            .into_response(),
    }
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
