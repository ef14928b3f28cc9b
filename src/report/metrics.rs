//! What the report runner counts: runs by status, their duration, the last success.

use super::outcome::RunStatus;
use crate::telemetry::metrics::metrics;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Counts one finished run of `report`.
pub fn run_finished(report: &str, status: RunStatus, took: Duration, at: DateTime<Utc>) {
    let m = &metrics().reports;
    m.runs.with_label_values(&[report, status.as_str()]).inc();
    m.run_duration_seconds
        .with_label_values(&[report])
        .observe(took.as_secs_f64());
    if matches!(status, RunStatus::Succeeded | RunStatus::Skipped) {
        m.last_success_timestamp_seconds
            .with_label_values(&[report])
            .set(at.timestamp());
    }
}
