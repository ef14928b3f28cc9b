//! One batch's way into Data Explorer, per ingestion mode, with retries.
//!
//! - **Streaming:** retried with backoff until accepted; a batch whose gzipped body is over the
//!   streaming limit is split in two at a row boundary (again and again if needed).
//! - **Queued:** retried with backoff until accepted.
//! - **Managed:** streaming first; queued when the body is over the limit, when the table's
//!   streaming policy is off (remembered for a few minutes), or when throttling or transient
//!   errors outlast `streaming_attempts`.
//!
//! Everywhere, a permanent error rejects the batch (its rows are dead-lettered with the
//! service's words), and credentials refused several times in a row stop the pipeline:
//! every other batch would meet the same fate. Waiting here is the backpressure: the
//! pipeline stops reading while a destination's slots are all busy retrying.

use super::dedupe::BatchIdentity;
use super::shared::{Inner, Target};
use super::{failures, metrics};
use crate::batch::Batch;
use crate::sink::{Delivery, IngestionMode, Outcome, SinkError};
use bytes::Bytes;
use iotc_adx_kusto::{ErrorKind, KustoError, QueuedRequest, StreamingRequest};
use std::time::{Duration, Instant};

/// Largest gzipped body sent to the streaming endpoint (the service's limit is 4 MB; the
/// official SDKs use 4 MiB of compressed data too).
pub const STREAMING_LIMIT: usize = 4 * 1024 * 1024;
/// How long a table whose streaming policy is off goes straight to queued ingestion.
const STREAMING_OFF_MEMORY: Duration = Duration::from_secs(300);
/// Refused credentials in a row before the pipeline stops.
const UNAUTHORIZED_LIMIT: u32 = 3;

/// Why streaming gave up on a batch in managed mode.
enum Streamed {
    Done(Outcome),
    FallBack(&'static str),
}

/// Delivers one batch to its destination's table.
pub(super) async fn deliver(inner: &Inner, batch: Batch) -> Result<Outcome, SinkError> {
    let target = &inner.targets[batch.destination];
    match target.mode {
        IngestionMode::Queued => queued(inner, target, &batch).await,
        IngestionMode::Streaming => streaming_split(inner, target, batch.payload).await,
        IngestionMode::Managed => {
            let off = inner
                .streaming_off_until(batch.destination)
                .is_some_and(|t| t > Instant::now());
            let body = gzip(&batch.payload)?;
            let why = if off {
                STREAMING_OFF
            } else if body.len() > STREAMING_LIMIT {
                OVER_LIMIT
            } else {
                match streaming(inner, target, &batch.payload, body, true).await? {
                    Streamed::Done(outcome) => return Ok(outcome),
                    Streamed::FallBack(why) => {
                        if why == STREAMING_OFF {
                            inner.remember_streaming_off(
                                batch.destination,
                                Instant::now() + STREAMING_OFF_MEMORY,
                            );
                        }
                        why
                    }
                }
            };
            tracing::debug!(table = %target.table_name(), reason = why, "managed ingestion: sending the batch queued");
            metrics::fallback(target, fallback_kind(why));
            queued(inner, target, &batch).await
        }
    }
}

const STREAMING_OFF: &str = "streaming ingestion is off for the table";
const OVER_LIMIT: &str = "the batch is over the streaming limit";
const FOUND_TOO_LARGE: &str = "the service found the batch too large to stream";
const KEPT_FAILING: &str = "streaming kept failing";

/// The metric label for a reason to fall back to queued ingestion.
fn fallback_kind(why: &str) -> &'static str {
    match why {
        STREAMING_OFF => "streaming_off",
        OVER_LIMIT | FOUND_TOO_LARGE => "too_large",
        KEPT_FAILING => "streaming_failing",
        _ => "other",
    }
}

/// Streaming only: splits bodies over the limit, then retries each part until accepted.
async fn streaming_split(
    inner: &Inner,
    target: &Target,
    payload: Vec<u8>,
) -> Result<Outcome, SinkError> {
    // Parts still to send, in order; split in halves while too large.
    let mut parts = vec![payload];
    let mut accepted = Delivery {
        target: format!("{} (streaming)", target.table_name()),
        bytes: 0,
    };
    let mut rejected: Vec<u8> = Vec::new();
    let mut reasons: Vec<String> = Vec::new();
    while let Some(part) = parts.pop() {
        let body = gzip(&part)?;
        if body.len() > STREAMING_LIMIT {
            if let Some((a, b)) = split_rows(&part) {
                parts.push(b);
                parts.push(a);
                continue;
            }
        }
        let bytes = body.len() as u64;
        match streaming(inner, target, &part, body, false).await? {
            Streamed::Done(Outcome::Accepted(_)) => accepted.bytes += bytes,
            Streamed::Done(Outcome::Rejected { reason, payload }) => {
                rejected.extend_from_slice(&payload);
                reasons.push(reason);
            }
            // Not reached with fallback disabled; keep the rows rather than lose them.
            Streamed::FallBack(why) => {
                rejected.extend_from_slice(&part);
                reasons.push(why.to_string());
            }
        }
    }
    if rejected.is_empty() {
        Ok(Outcome::Accepted(accepted))
    } else {
        Ok(Outcome::Rejected {
            reason: reasons.join("; "),
            payload: rejected,
        })
    }
}

/// Splits multijson rows into two halves at a line boundary; `None` for a single row.
fn split_rows(payload: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let middle = payload.len() / 2;
    let cut = payload[middle..]
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| middle + i + 1)
        .filter(|&c| c < payload.len())
        .or_else(|| {
            payload[..middle]
                .iter()
                .rposition(|&b| b == b'\n')
                .map(|i| i + 1)
                .filter(|&c| c > 0)
        })?;
    Some((payload[..cut].to_vec(), payload[cut..].to_vec()))
}

/// Sends one body to the streaming endpoint until it is accepted, rejected, or (when
/// `may_fall_back`) streaming gives up in favour of queued ingestion.
async fn streaming(
    inner: &Inner,
    target: &Target,
    payload: &[u8],
    body: Vec<u8>,
    may_fall_back: bool,
) -> Result<Streamed, SinkError> {
    let body = Bytes::from(body);
    let mut refusals = 0;
    for attempt in 1.. {
        let request = StreamingRequest {
            database: &target.database,
            table: &target.table,
            mapping: &target.mapping,
            body: body.clone(),
            client_request_id: format!("iotc-adx.stream;{}", uuid::Uuid::new_v4()),
        };
        let started = Instant::now();
        let result = inner.client.streaming_ingest(request).await;
        metrics::request(target, "streaming", started, result.as_ref().err());
        let error = match result {
            Ok(()) => {
                let delivery = Delivery {
                    target: format!("{} (streaming)", target.table_name()),
                    bytes: body.len() as u64,
                };
                return Ok(Streamed::Done(Outcome::Accepted(delivery)));
            }
            Err(e) => e,
        };
        match error.kind() {
            ErrorKind::Permanent => return Ok(Streamed::Done(rejected(&error, payload))),
            ErrorKind::TooLarge if may_fall_back => return Ok(Streamed::FallBack(FOUND_TOO_LARGE)),
            ErrorKind::TooLarge => return Ok(Streamed::Done(rejected(&error, payload))),
            ErrorKind::StreamingDisabled if may_fall_back => {
                return Ok(Streamed::FallBack(STREAMING_OFF))
            }
            ErrorKind::Throttled | ErrorKind::Transient | ErrorKind::StorageAuth
                if may_fall_back && attempt >= inner.retry.streaming_attempts =>
            {
                tracing::info!(table = %target.table_name(), attempts = attempt, error = %error, "streaming keeps failing: falling back to queued ingestion");
                return Ok(Streamed::FallBack(KEPT_FAILING));
            }
            _ => {}
        }
        wait(inner, target, "streaming", attempt, error, &mut refusals).await?;
    }
    unreachable!("the attempt counter is unbounded")
}

/// Queued ingestion, retried until accepted or rejected.
async fn queued(inner: &Inner, target: &Target, batch: &Batch) -> Result<Outcome, SinkError> {
    let body = Bytes::from(gzip(&batch.payload)?);
    // A batch without known events (none in the pipeline; tools and benches) has no identity.
    let identity = (inner.dedupe && !batch.origin.is_empty())
        .then(|| BatchIdentity::new(&target.database, &target.table, &target.name, &batch.origin));
    let source_id = identity
        .as_ref()
        .map_or_else(uuid::Uuid::new_v4, |i| i.source_id);
    let mut refusals = 0;
    for attempt in 1.. {
        let request = QueuedRequest {
            database: &target.database,
            table: &target.table,
            mapping: &target.mapping,
            body: body.clone(),
            raw_size: batch.payload.len() as u64,
            source_id,
            tags: identity
                .iter()
                .map(|i| format!("ingest-by:{}", i.tag))
                .collect(),
            ingest_if_not_exists: identity.iter().map(|i| i.tag.clone()).collect(),
            report_failures: inner.watch_failures,
            metadata: if inner.watch_failures {
                failures::blob_metadata(&target.name, &batch.origin)
            } else {
                Vec::new()
            },
        };
        let started = Instant::now();
        let result = inner.client.queued().ingest(request).await;
        metrics::request(target, "queued", started, result.as_ref().err());
        let error = match result {
            Ok(_) => {
                let delivery = Delivery {
                    target: format!("{} (queued)", target.table_name()),
                    bytes: body.len() as u64,
                };
                return Ok(Outcome::Accepted(delivery));
            }
            Err(e) => e,
        };
        if matches!(error.kind(), ErrorKind::Permanent | ErrorKind::TooLarge) {
            return Ok(rejected(&error, &batch.payload));
        }
        wait(inner, target, "queued", attempt, error, &mut refusals).await?;
    }
    unreachable!("the attempt counter is unbounded")
}

/// Waits before retrying after `error`; credentials refused [`UNAUTHORIZED_LIMIT`] times in a
/// row (counted in `refusals`) stop the pipeline instead.
async fn wait(
    inner: &Inner,
    target: &Target,
    how: &str,
    attempt: u32,
    error: KustoError,
    refusals: &mut u32,
) -> Result<(), SinkError> {
    if error.kind() == ErrorKind::Unauthorized {
        *refusals += 1;
        if *refusals >= UNAUTHORIZED_LIMIT {
            return Err(fatal(target, error));
        }
    } else {
        *refusals = 0;
    }
    let delay = inner.retry.backoff(attempt, error.retry_after());
    metrics::retry(target, how);
    tracing::warn!(
        table = %target.table_name(),
        ingestion = how,
        attempt,
        retry_in_ms = delay.as_millis() as u64,
        error = %error,
        "ingestion failed, retrying"
    );
    tokio::time::sleep(delay).await;
    Ok(())
}

fn rejected(error: &KustoError, payload: &[u8]) -> Outcome {
    Outcome::Rejected {
        reason: error.to_string(),
        payload: payload.to_vec(),
    }
}

fn fatal(target: &Target, error: KustoError) -> SinkError {
    SinkError::Service {
        target: target.table_name(),
        source: Box::new(error),
    }
}

fn gzip(payload: &[u8]) -> Result<Vec<u8>, SinkError> {
    crate::sink::gzip::gzip(payload).map_err(|source| SinkError::Io {
        path: "(gzip in memory)".into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_row_boundaries() {
        let (a, b) = split_rows(b"{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n").unwrap();
        assert_eq!(a, b"{\"a\":1}\n{\"a\":2}\n");
        assert_eq!(b, b"{\"a\":3}\n");
        assert!(split_rows(b"{\"only\":1}\n").is_none());
        let (a, b) = split_rows(b"{\"long row\":11111111111}\n{}\n").unwrap();
        assert_eq!((a.len(), b.len()), (25, 3));
    }
}
