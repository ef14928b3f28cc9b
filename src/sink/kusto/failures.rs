//! Watches the failed-ingestions queue: queued ingestion accepts a blob at once and reports a
//! failure (bad data, a mapping that does not fit) minutes later. The queue is shared by every
//! client of the cluster, so the watcher takes only reports of iotc-adx's own blobs (named
//! `…__iotc-adx.multijson.gz`) and hands every other report back untouched. Which destination
//! and events a blob holds is in the blob's metadata, set when it was uploaded, so any replica,
//! before or after any restart, can tell; the blob's rows go into the [`LateRejection`].
//! A report is deleted only once the pipeline has stored its dead letter
//! ([`Sink::late_rejection_stored`](crate::sink::Sink::late_rejection_stored)); until then it
//! stays hidden from other readers, and reappears if this process dies first.

use super::shared::Inner;
use crate::checkpoint::Span;
use crate::sink::LateRejection;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use iotc_adx_kusto::{IngestionFailure, OwnFailure};
use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Reports taken per poll.
const POLL_MAX: usize = 32;

/// The end of every blob name iotc-adx uploads (see `kusto::queued::blob_name`).
const OWN_BLOB_SUFFIX: &str = "__iotc-adx.multijson.gz";

/// Blob metadata: the destination's name (base64url).
const META_DESTINATION: &str = "iotcadxdestination";
/// Blob metadata: the events the batch holds, JSON spans (base64url).
const META_EVENTS: &str = "iotcadxevents";

/// The metadata a queued batch's blob carries, for whoever reads its failure report.
pub(super) fn blob_metadata(destination: &str, events: &[Span]) -> Vec<(String, String)> {
    let spans = serde_json::to_vec(events).unwrap_or_default();
    vec![
        (META_DESTINATION.into(), URL_SAFE_NO_PAD.encode(destination)),
        (META_EVENTS.into(), URL_SAFE_NO_PAD.encode(spans)),
    ]
}

fn is_ours(f: &IngestionFailure) -> bool {
    f.blob
        .as_deref()
        .is_some_and(|b| b.ends_with(OWN_BLOB_SUFFIX))
}

/// Starts the watcher; it ends when the receiver is dropped. Stored dead letters are
/// confirmed through the returned sender (the receipt of each [`LateRejection`]).
pub(super) fn watch(
    inner: Arc<Inner>,
    every: Duration,
    hold: Duration,
) -> (mpsc::Receiver<LateRejection>, mpsc::UnboundedSender<u64>) {
    let (tx, rx) = mpsc::channel(64);
    let (stored_tx, mut stored) = mpsc::unbounded_channel::<u64>();
    tokio::spawn(async move {
        let mut held = Held::default();
        let mut failed_polls = 0u32;
        loop {
            tokio::select! {
                () = tx.closed() => return,
                Some(receipt) = stored.recv() => {
                    held.settle(&inner, receipt).await;
                    continue;
                }
                () = tokio::time::sleep(every) => {}
            }
            let taken = inner
                .client
                .queued()
                .take_failures(POLL_MAX, hold, &is_ours)
                .await;
            let taken = match taken {
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
            for own in taken {
                let Some(late) = held.admit(&inner, own).await else {
                    continue;
                };
                if tx.send(late).await.is_err() {
                    return;
                }
            }
        }
    });
    (rx, stored_tx)
}

/// Reports taken and handed to the pipeline, until their letters are stored.
#[derive(Default)]
struct Held {
    next: u64,
    by_receipt: HashMap<u64, OwnFailure>,
    /// Queue message id → receipt: a report taken again after its hold ran out (a slow
    /// pipeline) is not handed over a second time.
    by_message: HashMap<String, u64>,
}

impl Held {
    /// Turns a report into a rejection for the pipeline, or settles it at once when there is
    /// nothing to dead-letter; `None` when nothing is to be sent.
    async fn admit(&mut self, inner: &Inner, own: OwnFailure) -> Option<LateRejection> {
        let f = &own.failure;
        if f.error_code.starts_with("Skipped_") {
            // ingestIfNotExists at work: a batch sent again was not ingested twice.
            tracing::debug!(table = %f.table, code = %f.error_code, "queued ingestion skipped: already ingested");
            settle(inner, &own).await;
            return None;
        }
        if let Some(receipt) = self.by_message.get(own.message_id()) {
            self.by_receipt.insert(*receipt, own);
            return None;
        }
        let late = rejection(inner, f).await;
        self.next += 1;
        let receipt = self.next;
        self.by_message
            .insert(own.message_id().to_string(), receipt);
        self.by_receipt.insert(receipt, own);
        Some(LateRejection {
            receipt: Some(receipt),
            ..late
        })
    }

    async fn settle(&mut self, inner: &Inner, receipt: u64) {
        if let Some(own) = self.by_receipt.remove(&receipt) {
            self.by_message.remove(own.message_id());
            settle(inner, &own).await;
        }
    }
}

async fn settle(inner: &Inner, own: &OwnFailure) {
    if let Err(e) = inner.client.queued().settle_failure(own).await {
        tracing::warn!(error = %e, "cannot delete a stored ingestion failure report; it will be read again");
    }
}

/// What the pipeline dead-letters for a report: the destination, events and rows from the
/// blob when it can be read, else what the report itself says.
async fn rejection(inner: &Inner, f: &IngestionFailure) -> LateRejection {
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
    let mut late = LateRejection {
        destination: by_table(inner, f),
        reason,
        events: Vec::new(),
        blob: f.blob.clone(),
        rows: None,
        receipt: None,
    };
    let Some(blob) = f.blob.as_deref() else {
        return late;
    };
    match inner.client.queued().read_blob(blob).await {
        Ok((metadata, body)) => {
            let meta = |k: &str| {
                let v = metadata.iter().find(|(n, _)| n == k)?;
                URL_SAFE_NO_PAD.decode(&v.1).ok()
            };
            if let Some(name) = meta(META_DESTINATION).and_then(|b| String::from_utf8(b).ok()) {
                late.destination = name;
            }
            late.events = meta(META_EVENTS)
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
            late.rows = gunzip(&body);
        }
        Err(e) => {
            tracing::warn!(error = %e, %blob, "cannot read the blob of a failed ingestion: its letter names the blob only");
        }
    }
    late
}

/// The destination writing to the report's table, when only one does.
fn by_table(inner: &Inner, f: &IngestionFailure) -> String {
    let mut matching = inner
        .targets
        .iter()
        .filter(|t| t.database == f.database && t.table == f.table);
    match (matching.next(), matching.next()) {
        (Some(t), None) => t.name.clone(),
        _ => format!("{}.{}", f.database, f.table),
    }
}

fn gunzip(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .ok()
        .map(|_| out)
}
