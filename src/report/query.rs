//! The query step: runs a report's query or control command on its cluster with the
//! scheduled window as query parameters (`start`, `end`: declared by the query with
//! `declare query_parameters(start:datetime, end:datetime);`, sent beside the text, never
//! spliced into it), the report's time limit (client side and `servertimeout`), and its
//! truncation limits. A partial failure inside a 200 answer fails the run; a result over
//! the limits is *truncated*, with the key to raise.

use super::outcome::{RunFailure, RunStatus, Step};
use super::result::ReportResult;
use super::settings::{QueryText, ReportSettings};
use chrono::{DateTime, SecondsFormat, Utc};
use iotc_adx_kusto::{ErrorKind, KustoClient, KustoError, RequestProperties};
use std::time::{Duration, Instant};

/// Attempts of a query that failed for a transient reason (within its time limit).
const QUERY_ATTEMPTS: u32 = 3;

/// The time range a run covers: `[start, end)`, `end` being the scheduled time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The `start` parameter.
    pub start: DateTime<Utc>,
    /// The `end` parameter: the scheduled time.
    pub end: DateTime<Utc>,
}

/// Without a schedule or `window`, a run covers the hour before it.
const DEFAULT_WINDOW: Duration = Duration::from_secs(3600);

impl Window {
    /// The window of the run scheduled at `end`: from `end - window`, else from the previous
    /// scheduled time, else from an hour before.
    pub fn for_run(report: &ReportSettings, end: DateTime<Utc>) -> Self {
        let back = |d: Duration| end - chrono::Duration::from_std(d).unwrap_or_default();
        let start = match (report.window, &report.schedule) {
            (Some(w), _) => back(w),
            (None, Some(s)) => s
                .previous_before(end)
                .unwrap_or_else(|| back(DEFAULT_WINDOW)),
            (None, None) => back(DEFAULT_WINDOW),
        };
        Window { start, end }
    }

    /// The query parameters: `start` and `end` as KQL datetime literals.
    pub fn parameters(&self) -> Vec<(String, String)> {
        vec![
            ("start".into(), kql_datetime(self.start)),
            ("end".into(), kql_datetime(self.end)),
        ]
    }
}

/// `datetime(2026-12-03T10:00:00.0000000Z)`.
pub fn kql_datetime(t: DateTime<Utc>) -> String {
    format!(
        "datetime({})",
        t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    )
}

/// Runs the report's text and returns its primary result.
pub async fn run(
    client: &KustoClient,
    report: &ReportSettings,
    window: Window,
    request_id: &str,
) -> Result<ReportResult, RunFailure> {
    let started = Instant::now();
    let mut attempt = 1;
    loop {
        let left = report.timeout.saturating_sub(started.elapsed());
        let props = RequestProperties {
            parameters: window.parameters(),
            server_timeout: Some(left),
            max_records: Some(report.max_rows),
            max_bytes: Some(report.max_bytes),
            client_request_id: Some(format!("{request_id};{attempt}")),
            timeout: Some(left),
        };
        let v2 = matches!(report.text, QueryText::Query(_));
        match client
            .run_with(&report.database, report.text.text(), v2, &props)
            .await
        {
            Ok(d) => return within_limits(report, ReportResult::from_dataset(d)),
            Err(e) => {
                let elapsed = started.elapsed();
                let retry = matches!(e.kind(), ErrorKind::Transient | ErrorKind::Throttled)
                    && !timed_out(&e, elapsed, report.timeout)
                    && attempt < QUERY_ATTEMPTS;
                if !retry {
                    return Err(failure(report, &e, elapsed));
                }
                let wait = e
                    .retry_after()
                    .unwrap_or(Duration::from_millis(500 * u64::from(attempt)));
                if elapsed + wait >= report.timeout {
                    return Err(failure(report, &e, elapsed));
                }
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
        }
    }
}

/// A result the service returned whole may still be over the report's own limits.
fn within_limits(report: &ReportSettings, r: ReportResult) -> Result<ReportResult, RunFailure> {
    if r.rows.len() as u64 > report.max_rows {
        return Err(truncated(report, &format!("{} rows", r.rows.len())));
    }
    Ok(r)
}

fn truncated(report: &ReportSettings, what: &str) -> RunFailure {
    RunFailure {
        status: RunStatus::Truncated,
        step: Step::Query,
        message: format!(
            "the result ({what}) is over the report's limits: max_rows = {} and max_bytes = {}; \
             raise them in the [[report]] named {:?}, or make the query return less \
             (summarize, take, project)",
            report.max_rows, report.max_bytes, report.name
        ),
    }
}

fn timed_out(e: &KustoError, elapsed: Duration, limit: Duration) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_timeout)
        {
            return true;
        }
        source = s.source();
    }
    elapsed >= limit
}

fn failure(report: &ReportSettings, e: &KustoError, elapsed: Duration) -> RunFailure {
    let text = e.to_string();
    if e.code() == Some("LimitsExceeded") || text.contains("E_QUERY_RESULT_SET_TOO_LARGE") {
        return truncated(report, "the service stopped at a limit");
    }
    if timed_out(e, elapsed, report.timeout) {
        return RunFailure {
            status: RunStatus::TimedOut,
            step: Step::Query,
            message: format!(
                "took longer than the report's timeout of {} (set timeout, up to \"1h\", in the [[report]] named {:?}): {text}",
                humantime::format_duration(report.timeout),
                report.name
            ),
        };
    }
    RunFailure::failed(Step::Query, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_are_kql_literals() {
        let t = DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(kql_datetime(t), "datetime(2026-12-03T10:00:00Z)");
        let w = Window {
            start: t - chrono::Duration::hours(1),
            end: t,
        };
        assert_eq!(
            w.parameters(),
            vec![
                (
                    "start".to_string(),
                    "datetime(2026-12-03T09:00:00Z)".to_string()
                ),
                (
                    "end".to_string(),
                    "datetime(2026-12-03T10:00:00Z)".to_string()
                )
            ]
        );
    }
}
