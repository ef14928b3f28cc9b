//! The request log: every request's method, path, time, answer status and the headers tests
//! care about, so they can check what clients sent and how they spaced their retries.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Instant, SystemTime};

/// Headers copied into the log when present.
pub(super) const LOGGED_HEADERS: &[&str] = &[
    "x-ms-client-request-id",
    "x-ms-app",
    "x-ms-user",
    "x-ms-client-version",
    "content-encoding",
    "content-type",
    "content-length",
    "retry-after",
];

/// One served (or dropped) request.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    /// HTTP method.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// When it arrived (monotonic, for measuring retry spacing).
    pub at: Instant,
    /// When it arrived (wall clock).
    pub time: SystemTime,
    /// The answer's status; 0 when the connection was reset instead.
    pub status: u16,
    /// Whether an `Authorization` header was present.
    pub authorized_header: bool,
    /// The logged headers (lowercase names) that were present; `retry-after` is the answer's.
    pub headers: BTreeMap<String, String>,
}

impl LoggedRequest {
    /// The `x-ms-client-request-id` the client sent.
    pub fn client_request_id(&self) -> Option<&str> {
        self.headers
            .get("x-ms-client-request-id")
            .map(String::as_str)
    }
}

/// The log itself.
#[derive(Debug, Default)]
pub(super) struct RequestLog(Mutex<Vec<LoggedRequest>>);

impl RequestLog {
    pub(super) fn push(&self, entry: LoggedRequest) {
        if let Ok(mut log) = self.0.lock() {
            log.push(entry);
        }
    }

    pub(super) fn snapshot(&self) -> Vec<LoggedRequest> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }
}
