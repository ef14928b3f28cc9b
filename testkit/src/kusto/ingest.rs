//! Streaming ingestion, `POST /v1/rest/ingest/{db}/{table}?streamFormat=..&mappingName=..`:
//! size limit (413 `Stream_InputStreamTooLarge`), gzip sniffing, the table's streaming policy,
//! the mapping JSON formats need, strict typing per the table schema, and the v1 success body
//! clients expect. `sourceKind=uri` bodies name a blob to fetch instead.

use super::errors::ApiError;
use super::formats::{self, DecodeError, Format};
use super::frames::table;
use super::shared::Shared;
use super::state::Table;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::Arc;

const REQUEST_EXCEPTION: &str = "Kusto.DataNode.Exceptions.StreamingIngestionRequestException";

/// Query parameters, by lowercase name.
fn params(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k).to_ascii_lowercase(), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn too_large(message: String) -> ApiError {
    ApiError::bad_request(
        REQUEST_EXCEPTION,
        format!("Stream_InputStreamTooLarge: {message}"),
    )
    .with_status(StatusCode::PAYLOAD_TOO_LARGE)
    .with_code("Stream_InputStreamTooLarge")
}

/// Handles one streaming ingestion request.
pub(super) async fn stream(
    State(shared): State<Arc<Shared>>,
    Path((db, table_name)): Path<(String, String)>,
    uri: Uri,
    body: Bytes,
) -> Response {
    match ingest(&shared, &db, &table_name, &uri, body).await {
        Ok(count) => {
            let t = table(
                "Table_0",
                &[
                    ("ConsumedRecordsCount", "long"),
                    ("UpdatePolicyStatus", "string"),
                    ("UpdatePolicyFailureCode", "string"),
                    ("UpdatePolicyFailureReason", "string"),
                ],
                vec![vec![
                    json!(count),
                    json!("Inactive"),
                    json!("Unknown"),
                    Value::Null,
                ]],
            );
            axum::Json(super::frames::v1(&t)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn ingest(
    shared: &Shared,
    db: &str,
    table_name: &str,
    uri: &Uri,
    body: Bytes,
) -> Result<usize, ApiError> {
    let params = params(uri);
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let bad = |m: String| {
        ApiError::bad_request(
            REQUEST_EXCEPTION,
            format!("Bad streaming ingestion request to {db}.{table_name} : {m}"),
        )
    };
    let format_name =
        param("streamformat").ok_or_else(|| bad("the streamFormat parameter is missing".into()))?;
    let format = Format::parse(&format_name).map_err(bad)?;
    let mapping_name = param("mappingname").filter(|m| !m.is_empty());
    let limit = shared.options.max_streaming_request_bytes;

    check_target(shared, db, table_name, format, mapping_name.as_deref())?;

    let body = if param("sourcekind").is_some_and(|k| k.eq_ignore_ascii_case("uri")) {
        let v: Value = serde_json::from_slice(&body)
            .map_err(|e| bad(format!("the body is not a JSON source description: {e}")))?;
        let source = v
            .get("sourceUri")
            .or_else(|| v.get("SourceUri"))
            .and_then(Value::as_str)
            .ok_or_else(|| bad("the body has no sourceUri".into()))?;
        Bytes::from(
            fetch(source)
                .await
                .map_err(|m| bad(format!("cannot read the source blob: {m}")))?,
        )
    } else {
        body
    };
    if body.len() > limit {
        return Err(too_large(format!(
            "the request body is {} bytes, above the {limit} byte limit of streaming ingestion",
            body.len()
        )));
    }
    let data = formats::maybe_gunzip(&body, shared.options.max_decompressed_bytes).map_err(
        |e| match e {
            DecodeError::TooLarge(_) => too_large(e.to_string()),
            other => bad(other.to_string()),
        },
    )?;
    if data.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("The input stream is empty after processing".into()));
    }

    // Only the schema and the mapping are read under the cluster's lock: rows are parsed and
    // typed outside it, so concurrent requests (and queries) do not wait for each other.
    let (schema, mapping) = {
        let state = shared.state();
        let table = state.table(db, table_name).ok_or_else(|| {
            ApiError::not_found(format!(
                "Table '{table_name}' was not found in database '{db}'."
            ))
        })?;
        let mapping = match &mapping_name {
            Some(m) => Some(table.json_mappings.get(m).cloned().ok_or_else(|| {
                bad(format!(
                    "mapping '{m}' was not found on table '{table_name}'"
                ))
            })?),
            None => None,
        };
        let columns: Vec<(String, String)> = table
            .data
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.kind.clone()))
            .collect();
        (Table::new(table_name, &columns), mapping)
    };
    let rows = formats::to_rows(&schema, format, mapping.as_deref(), &data, "stream")
        .map_err(|e| bad(e.to_string()))?;
    let count = rows.len();
    let mut state = shared.state();
    match state.table_mut(db, table_name) {
        Some(t) if t.data.columns == schema.data.columns => {
            t.commit(rows, data.len() as u64, Vec::new())
        }
        // Dropped or altered while the rows were parsed: as the service, fail the request.
        _ => {
            return Err(bad(format!(
                "table '{table_name}' changed during the ingestion; retry"
            )))
        }
    }
    Ok(count)
}

/// Database, table, streaming policy and mapping checks, before the body is read.
fn check_target(
    shared: &Shared,
    db: &str,
    table_name: &str,
    format: Format,
    mapping: Option<&str>,
) -> Result<(), ApiError> {
    let state = shared.state();
    let database = state
        .databases
        .get(db)
        .ok_or_else(|| ApiError::not_found(format!("Database '{db}' was not found.")))?;
    if !database.tables.contains_key(table_name) {
        return Err(ApiError::not_found(format!(
            "Table '{table_name}' was not found in database '{db}'."
        )));
    }
    if !database.streaming_enabled(table_name) {
        let e = &shared.options.streaming_off_error;
        return Err(ApiError {
            status: StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            code: e.code.clone(),
            type_name: e.type_name.clone(),
            message: format!("Streaming ingestion policy is not enabled for table '{table_name}' in database '{db}' (StreamingIngestionPolicyNotEnabled)"),
            permanent: e.permanent,
            retry_after: None,
        });
    }
    if format.is_json() && mapping.is_none() {
        return Err(ApiError::bad_request(
            REQUEST_EXCEPTION,
            format!("Bad streaming ingestion request to {db}.{table_name} : a mapping reference (mappingName) is required for JSON formats"),
        ));
    }
    Ok(())
}

async fn fetch(url: &str) -> Result<Vec<u8>, String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let response = client
        .get(url)
        .header("x-ms-version", "2021-08-06")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("status {}", response.status()));
    }
    Ok(response.bytes().await.map_err(|e| e.to_string())?.to_vec())
}
