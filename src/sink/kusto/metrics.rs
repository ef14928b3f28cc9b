//! What each ingestion request tells operations: its duration and outcome, retries,
//! throttling and fallbacks as metrics, and whether Data Explorer is reachable for `/readyz`.
//! Only kinds go out, never error texts: those can hold storage URLs with their signatures.

use super::shared::Target;
use crate::telemetry::health::health;
use crate::telemetry::metrics::metrics;
use iotc_adx_kusto::{ErrorKind, KustoError};
use std::time::Instant;

/// Records one request to Data Explorer (`mode` is `streaming` or `queued`) that started at
/// `started` and failed with `error`, if it did.
pub(super) fn request(target: &Target, mode: &str, started: Instant, error: Option<&KustoError>) {
    let outcome = match error.map(KustoError::kind) {
        None => "accepted",
        Some(ErrorKind::Throttled) => "throttled",
        Some(ErrorKind::Permanent | ErrorKind::TooLarge | ErrorKind::StreamingDisabled) => {
            "rejected"
        }
        Some(ErrorKind::Transient | ErrorKind::Unauthorized | ErrorKind::StorageAuth) => "failed",
    };
    let m = &metrics().kusto_sink;
    m.ingestion_request_seconds
        .with_label_values(&[target.name.as_str(), mode, outcome])
        .observe(started.elapsed().as_secs_f64());
    match error.map(KustoError::kind) {
        Some(kind @ (ErrorKind::Transient | ErrorKind::Unauthorized | ErrorKind::StorageAuth)) => {
            health().sink_failed(&format!("{mode} ingestion: {kind} errors"));
        }
        Some(ErrorKind::Throttled) => {
            m.throttled_responses
                .with_label_values(&[target.name.as_str(), mode])
                .inc();
            health().sink_reachable();
        }
        _ => health().sink_reachable(),
    }
}

/// A request is about to be retried.
pub(super) fn retry(target: &Target, mode: &str) {
    metrics()
        .kusto_sink
        .ingestion_retries
        .with_label_values(&[target.name.as_str(), mode])
        .inc();
}

/// A managed destination sends a batch queued; `reason` is a short fixed name.
pub(super) fn fallback(target: &Target, reason: &str) {
    metrics()
        .kusto_sink
        .queued_fallbacks
        .with_label_values(&[target.name.as_str(), reason])
        .inc();
}
