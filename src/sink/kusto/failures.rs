//! Watches the failed-ingestions queue: queued ingestion accepts a blob at once and reports a
//! failure (bad data, a mapping that does not fit) minutes later. Each failure of one of our
//! ingestions becomes a [`LateRejection`] naming the destination and the events concerned,
//! which the pipeline writes to the dead-letter store.

use super::Inner;
use crate::sink::LateRejection;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Messages read per poll.
const POLL_MAX: usize = 32;

/// Starts the watcher; it ends when the receiver is dropped.
pub(super) fn watch(inner: Arc<Inner>, every: Duration) -> mpsc::Receiver<LateRejection> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut failed_polls = 0u32;
        loop {
            tokio::select! {
                () = tx.closed() => return,
                () = tokio::time::sleep(every) => {}
            }
            let failures = match inner.client.queued().poll_failures(POLL_MAX).await {
                Ok(f) => {
                    failed_polls = 0;
                    f
                }
                Err(e) => {
                    failed_polls += 1;
                    // Reading the queue is a side job: log, and try again later.
                    if failed_polls == 1 || failed_polls.is_multiple_of(30) {
                        tracing::warn!(error = %e, "cannot read the failed-ingestions queue");
                    }
                    continue;
                }
            };
            for f in failures {
                if f.error_code.starts_with("Skipped_") {
                    // ingestIfNotExists at work: a batch sent again was not ingested twice.
                    if let Some(id) = f.source_id {
                        inner.forget_queued(&id);
                    }
                    tracing::debug!(table = %f.table, code = %f.error_code, "queued ingestion skipped: already ingested");
                    continue;
                }
                let known = f.source_id.and_then(|id| inner.forget_queued(&id));
                let Some((destination, events)) = known else {
                    // Another client's ingestion (the queue is shared by the cluster).
                    tracing::debug!(table = %f.table, source_id = ?f.source_id, "failed ingestion of another client");
                    continue;
                };
                let reason = format!(
                    "queued ingestion into {}.{} failed ({}{}): {}",
                    f.database,
                    f.table,
                    f.error_code,
                    if f.permanent {
                        ", permanent"
                    } else {
                        ", transient"
                    },
                    f.details
                );
                tracing::warn!(%reason, "Data Explorer reported a failed queued ingestion");
                let late = LateRejection {
                    destination,
                    reason,
                    events,
                    blob: f.blob,
                };
                if tx.send(late).await.is_err() {
                    return;
                }
            }
        }
    });
    rx
}
