//! `POST /v1/rest/mgmt`: parses the control command ([`parse`]) and runs it against the
//! cluster state ([`commands`]; materialized views in [`super::views`]), answering one v1
//! table or a OneApiError.

mod commands;
mod data;
mod parse;

use super::errors::ApiError;
use super::frames;
use super::query::parse_request;
use super::shared::Shared;
use super::views;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Handles one management request.
pub(super) async fn handle(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request = match parse_request(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    if let Some(command) = data::parse(&request.csl) {
        let parameters = request
            .properties
            .get("Parameters")
            .and_then(serde_json::Value::as_object)
            .cloned()
            .unwrap_or_default();
        let result = command
            .map_err(|message| {
                ApiError::bad_command(format!(
                    "Syntax error: {message} in command '{}'",
                    request.csl.trim()
                ))
            })
            .and_then(|command| {
                let mut state = shared.state();
                let database = state.databases.get_mut(&request.db).ok_or_else(|| {
                    ApiError::not_found(format!("Database '{}' was not found.", request.db))
                })?;
                data::execute(database, &request.db, command, &parameters)
            });
        return match result {
            Ok(table) => axum::Json(frames::v1(&table)).into_response(),
            Err(e) => e.into_response(),
        };
    }
    if let Some(view) = views::parse(request.csl.trim()) {
        let result = view
            .map_err(|message| {
                ApiError::bad_command(format!(
                    "Syntax error: {message} in command '{}'",
                    request.csl.trim()
                ))
            })
            .and_then(|command| {
                let mut state = shared.state();
                let database = state.databases.get_mut(&request.db).ok_or_else(|| {
                    ApiError::not_found(format!("Database '{}' was not found.", request.db))
                })?;
                views::execute(database, &request.db, command)
            });
        return match result {
            Ok(table) => axum::Json(frames::v1(&table)).into_response(),
            Err(e) => e.into_response(),
        };
    }
    let command = match parse::parse(request.csl.trim()) {
        Ok(c) => c,
        Err(message) => {
            return ApiError::bad_command(format!(
                "Syntax error: {message} in command '{}'",
                request.csl.trim()
            ))
            .into_response();
        }
    };
    tracing::debug!(?command, db = %request.db, "management command");
    match commands::execute(&shared, &request.db, command) {
        Ok(table) => axum::Json(frames::v1(&table)).into_response(),
        Err(e) => e.into_response(),
    }
}
