//! Building answers: JSON bodies with the right status, the injected-fault answer, and the
//! host the request addressed (which the answers' URLs name).

use super::state::Fault;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// A JSON answer with `status`.
pub(crate) fn json(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// The answer to a request that an injected [`Fault`] makes fail: the status, `Retry-After`
/// when asked for, and an OAuth-style error body.
pub(crate) fn fault(fault: Fault) -> Response {
    let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let error = if status == StatusCode::TOO_MANY_REQUESTS {
        "temporarily_unavailable"
    } else {
        "server_error"
    };
    let mut response = json(
        status,
        serde_json::json!({ "error": error, "error_description": format!("injected fault: HTTP {}", status.as_u16()) }),
    );
    if let Some(seconds) = fault.retry_after {
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

/// Unix seconds now.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The resource a scope or resource URL names (`https://x/.default` → `https://x`), as the
/// services compare audiences.
pub(crate) fn audience_of(scope_or_resource: &str) -> String {
    let s = scope_or_resource.trim();
    let s = s.strip_suffix("/.default").unwrap_or(s);
    s.trim_end_matches('/').to_string()
}

/// The host the client addressed: `Host` for HTTP/1.1, the URI's authority for HTTP/2.
pub(crate) fn request_host(headers: &HeaderMap, uri: &Uri) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_default()
}
