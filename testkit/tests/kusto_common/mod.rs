//! Helpers shared by the Data Explorer emulator's tests (included with `mod kusto_common;`).
#![allow(dead_code)]

use serde_json::{json, Value};

/// A client that never goes through a proxy.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Runs a control command; returns status and JSON body.
pub async fn mgmt(url: &str, db: &str, csl: &str) -> (u16, Value) {
    post(url, "/v1/rest/mgmt", json!({"db": db, "csl": csl}), None).await
}

/// Runs a v2 query; returns status and JSON body.
pub async fn query(url: &str, db: &str, csl: &str) -> (u16, Value) {
    post(
        url,
        "/v2/rest/query",
        json!({"db": db, "csl": csl, "properties": {"Options": {}}}),
        None,
    )
    .await
}

/// POSTs JSON with an optional bearer token.
pub async fn post(url: &str, path: &str, body: Value, token: Option<&str>) -> (u16, Value) {
    let mut request = client()
        .post(format!("{url}{path}"))
        .header("x-ms-client-request-id", "test;1")
        .json(&body);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Streaming-ingests `body`; returns status and JSON body.
pub async fn ingest(url: &str, db: &str, table: &str, query: &str, body: Vec<u8>) -> (u16, Value) {
    let response = client()
        .post(format!("{url}/v1/rest/ingest/{db}/{table}?{query}"))
        .header("content-encoding", "gzip")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The rows of the PrimaryResult frame of a v2 answer.
pub fn primary_rows(frames: &Value) -> Vec<Value> {
    frames
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["TableKind"] == "PrimaryResult")
        .map(|f| f["Rows"].as_array().unwrap().clone())
        .unwrap_or_default()
}

/// The rows of the first v1 table.
pub fn v1_rows(body: &Value) -> Vec<Value> {
    body["Tables"][0]["Rows"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Gzips bytes.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}
