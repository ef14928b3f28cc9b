//! `POST /v2/rest/query` (frames) and `/v1/rest/query` (v1 tables): runs the query through
//! the [`kql`](super::kql) engine over the request's database. Also parses the request body
//! that queries and management commands share (`properties` as an object or a JSON string).

use super::errors::ApiError;
use super::frames;
use super::kql::{self, QueryOutput};
use super::shared::Shared;
use super::truncation;
use super::views::ViewCatalog;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::Arc;

/// A query or command request.
#[derive(Debug, Clone)]
pub(super) struct RestRequest {
    pub db: String,
    pub csl: String,
    /// `properties`, parsed when sent as a string.
    pub properties: Value,
}

/// Parses `{"db", "csl", "properties"}`.
pub(super) fn parse_request(body: &[u8]) -> Result<RestRequest, ApiError> {
    let bad =
        |m: String| ApiError::bad_request("Kusto.Common.Svc.Exceptions.BadRequestException", m);
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| bad(format!("the request body is not valid JSON: {e}")))?;
    let csl = value
        .get("csl")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("the request body has no 'csl' string".into()))?;
    let db = value
        .get("db")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let properties = match value.get("properties") {
        Some(Value::String(s)) if !s.is_empty() => serde_json::from_str(s)
            .map_err(|e| bad(format!("'properties' is not valid JSON: {e}")))?,
        Some(other) => other.clone(),
        None => Value::Null,
    };
    Ok(RestRequest {
        db,
        csl: csl.to_string(),
        properties,
    })
}

fn run(shared: &Shared, body: &[u8]) -> Result<(QueryOutput, Option<Value>), ApiError> {
    let request = parse_request(body)?;
    let mut state = shared.state();
    let db = state
        .databases
        .get_mut(&request.db)
        .ok_or_else(|| ApiError::not_found(format!("Database '{}' was not found.", request.db)))?;
    // Rows a test appended to a table directly are decoded here, once.
    db.sync_stores();
    let db = &*db;
    let parameters = request
        .properties
        .get("Parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let catalog = ViewCatalog::for_query(db, &request.csl);
    let mut output = catalog
        .and_then(|c| kql::execute_request(&request.csl, &c, chrono::Utc::now(), &parameters))
        .map_err(|e| {
            ApiError::bad_request(
                "Kusto.Data.Exceptions.SemanticException",
                format!(
                    "Query '{}' could not be executed: {} (at position {})",
                    request.csl, e.message, e.position
                ),
            )
            .with_code("General_BadRequest")
        })?;
    let error = truncation::apply(&mut output.table, &request.properties);
    Ok((output, error))
}

/// `POST /v2/rest/query`.
pub(super) async fn v2(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match run(&shared, &body) {
        Ok((o, error)) => {
            axum::Json(frames::v2_with(&o.table, o.visualization.as_ref(), error)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// `POST /v1/rest/query`.
pub(super) async fn v1(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match run(&shared, &body) {
        Ok((o, _)) => axum::Json(frames::v1_query(&o.table)).into_response(),
        Err(e) => e.into_response(),
    }
}
