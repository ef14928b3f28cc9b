//! `[sink] type = "kusto"`: the Data Explorer cluster and how batches are delivered to it,
//! first as written (serde types that refuse unknown keys), then checked into
//! [`KustoSinkSettings`] with each problem's key path (`sink.<key>`); none stops the search
//! for the next.

use crate::retry::RetryPolicy;
use crate::settings_check::Checker;
use serde::Deserialize;
use std::time::Duration;

/// `[sink] type = "kusto"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KustoSinkConfig {
    /// The cluster's query/engine URL, such as `https://mycluster.westeurope.kusto.windows.net`.
    pub cluster: String,
    /// The data-management (queued ingestion) URL; derived from `cluster` when absent.
    pub ingest_url: Option<String>,
    /// Batches of one destination in flight at once (default 4).
    pub max_in_flight: Option<usize>,
    /// Per-request timeout in milliseconds (default 60000).
    pub request_timeout_ms: Option<u64>,
    /// Tag queued ingestions so a retried batch is not ingested twice (default true).
    pub dedupe: Option<bool>,
    /// Watch the failed-ingestions queue and dead-letter what queued ingestion refused
    /// (default true).
    pub watch_failures: Option<bool>,
    /// How often that queue is read, in milliseconds (default 10000).
    pub failure_poll_ms: Option<u64>,
    /// How long a report taken from it stays hidden from other replicas while its dead
    /// letter is written, in milliseconds (default 600000).
    pub failure_hold_ms: Option<u64>,
    /// After a shutdown signal, how long deliveries in flight may still take, in
    /// milliseconds (default 25000; Kubernetes allows 30 s before SIGKILL by default).
    pub shutdown_grace_ms: Option<u64>,
    /// Retry timing.
    #[serde(default)]
    pub retry: RetryConfig,
}

/// `[sink.retry]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// First backoff in milliseconds (default 500); doubles per attempt, with jitter.
    pub initial_backoff_ms: Option<u64>,
    /// Longest backoff in milliseconds (default 30000).
    pub max_backoff_ms: Option<u64>,
    /// Streaming attempts before managed mode falls back to queued (default 3).
    pub streaming_attempts: Option<u32>,
}

/// Validated `[sink] type = "kusto"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KustoSinkSettings {
    /// Engine URL (queries, management, streaming ingestion).
    pub cluster: url::Url,
    /// Data-management URL for queued ingestion; `None` derives it from `cluster`.
    pub ingest_url: Option<url::Url>,
    /// Batches of one destination in flight at once.
    pub max_in_flight: usize,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Tag queued ingestions so a retried batch is not ingested twice.
    pub dedupe: bool,
    /// Dead-letter what queued ingestion reports as failed.
    pub watch_failures: bool,
    /// How often the failed-ingestions queue is read.
    pub failure_poll: Duration,
    /// How long a taken failure report stays hidden from other readers until its dead
    /// letter is stored; past it (this process died) another replica takes it.
    pub failure_hold: Duration,
    /// After a shutdown signal, how long deliveries in flight may still take.
    pub shutdown_grace: Duration,
    /// Retry timing.
    pub retry: RetryPolicy,
}

impl KustoSinkSettings {
    /// Checks `[sink] type = "kusto"`; problems are recorded under `sink.<key>`.
    pub(crate) fn from_config(c: &mut Checker, k: KustoSinkConfig) -> Option<Self> {
        let before = c.problems_len();
        let cluster = http_url(
            c,
            "sink.cluster",
            &k.cluster,
            "https://mycluster.westeurope.kusto.windows.net",
        );
        let ingest_url = k.ingest_url.as_deref().and_then(|u| {
            http_url(
                c,
                "sink.ingest_url",
                u,
                "https://ingest-mycluster.westeurope.kusto.windows.net",
            )
        });
        let max_in_flight = k.max_in_flight.unwrap_or(4);
        c.range("sink.max_in_flight", max_in_flight, 1, 64);
        let timeout_ms = k.request_timeout_ms.unwrap_or(60_000);
        c.range("sink.request_timeout_ms", timeout_ms, 1_000, 3_600_000);
        let poll_ms = k.failure_poll_ms.unwrap_or(10_000);
        c.range("sink.failure_poll_ms", poll_ms, 100, 600_000);
        let hold_ms = k.failure_hold_ms.unwrap_or(600_000);
        c.range("sink.failure_hold_ms", hold_ms, 1_000, 3_600_000);
        let grace_ms = k.shutdown_grace_ms.unwrap_or(25_000);
        c.range("sink.shutdown_grace_ms", grace_ms, 0, 3_600_000);
        let retry = retry_policy(c, &k.retry);
        let cluster = cluster?;
        (c.problems_len() == before).then(|| KustoSinkSettings {
            cluster,
            ingest_url,
            max_in_flight,
            request_timeout: Duration::from_millis(timeout_ms),
            dedupe: k.dedupe.unwrap_or(true),
            watch_failures: k.watch_failures.unwrap_or(true),
            failure_poll: Duration::from_millis(poll_ms),
            failure_hold: Duration::from_millis(hold_ms),
            shutdown_grace: Duration::from_millis(grace_ms),
            retry,
        })
    }
}

/// `[sink.retry]` with [`RetryPolicy::default`] for unset keys; problems are recorded under
/// `sink.retry.<key>`.
fn retry_policy(c: &mut Checker, r: &RetryConfig) -> RetryPolicy {
    let defaults = RetryPolicy::default();
    let initial = r
        .initial_backoff_ms
        .map_or(defaults.initial_backoff, Duration::from_millis);
    let max = r
        .max_backoff_ms
        .map_or(defaults.max_backoff, Duration::from_millis);
    if initial.is_zero() || initial > Duration::from_secs(60) {
        c.problem(
            "sink.retry.initial_backoff_ms",
            format!(
                "{} is out of range: expected 1 to 60000",
                initial.as_millis()
            ),
        );
    }
    if max < initial || max > Duration::from_secs(600) {
        c.problem(
            "sink.retry.max_backoff_ms",
            format!(
                "{} is out of range: expected initial_backoff_ms ({}) to 600000",
                max.as_millis(),
                initial.as_millis()
            ),
        );
    }
    let streaming_attempts = r.streaming_attempts.unwrap_or(defaults.streaming_attempts);
    c.range("sink.retry.streaming_attempts", streaming_attempts, 1, 20);
    RetryPolicy {
        initial_backoff: initial,
        max_backoff: max,
        streaming_attempts,
    }
}

/// A cluster's base URL (http or https, a host, no path).
fn http_url(c: &mut Checker, key: &str, text: &str, example: &str) -> Option<url::Url> {
    match url::Url::parse(text) {
        Ok(u)
            if (u.scheme() == "https" || u.scheme() == "http")
                && u.host().is_some()
                && u.path().trim_matches('/').is_empty() =>
        {
            Some(u)
        }
        Ok(_) => {
            c.problem(
                key,
                format!(
                    "{text:?} must be the cluster's base URL with no path, such as {example:?}"
                ),
            );
            None
        }
        Err(e) => {
            c.problem(
                key,
                format!("{text:?} is not a URL ({e}); expected something like {example:?}"),
            );
            None
        }
    }
}
