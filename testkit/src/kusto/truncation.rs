//! Query result truncation as the service does it: at most `truncationmaxrecords` rows
//! (default 500,000) and `truncationmaxsize` bytes (default 64 MB) unless `notruncation` is
//! set. A larger result keeps the rows within the limits and reports a partial failure
//! (`LimitsExceeded`, `E_QUERY_RESULT_SET_TOO_LARGE`) inside the 200 answer.

use super::kql::DataTable;
use serde_json::{json, Value};

/// The service's default record limit.
const MAX_RECORDS: u64 = 500_000;
/// The service's default size limit.
const MAX_BYTES: u64 = 64 * 1024 * 1024;

fn option(properties: &Value, name: &str) -> Option<u64> {
    let v = properties.get("Options")?.get(name)?;
    v.as_u64().or_else(|| v.as_str()?.parse().ok())
}

/// Cuts `t` to the request's limits; the partial-failure error when it was cut.
pub fn apply(t: &mut DataTable, properties: &Value) -> Option<Value> {
    let off = properties
        .get("Options")
        .and_then(|o| o.get("notruncation"))
        .and_then(Value::as_bool)
        == Some(true);
    if off {
        return None;
    }
    let max_records = option(properties, "truncationmaxrecords").unwrap_or(MAX_RECORDS);
    let max_bytes = option(properties, "truncationmaxsize").unwrap_or(MAX_BYTES);
    let mut bytes = 0u64;
    for (i, row) in t.rows.iter().enumerate() {
        if i as u64 >= max_records {
            t.rows.truncate(i);
            return Some(error(format!(
                "Query result set has exceeded the internal record count limit {max_records} (E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)"
            )));
        }
        bytes += serde_json::to_string(row).map_or(0, |s| s.len() as u64);
        if bytes > max_bytes {
            t.rows.truncate(i);
            return Some(error(format!(
                "Query result set has exceeded the internal data size limit {max_bytes} (E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)"
            )));
        }
    }
    None
}

fn error(message: String) -> Value {
    json!({"error": {
        "code": "LimitsExceeded",
        "message": "Request is invalid and cannot be executed.",
        "@type": "Kusto.Data.Exceptions.KustoServicePartialQueryFailureLimitsExceededException",
        "@message": message,
        "@permanent": true
    }})
}
