//! Failure reports of queued ingestion, read from the cluster's FailedIngestionsQueue. The queue
//! is shared by every client of the cluster (other replicas, other tools), so a reader takes
//! only the reports it owns, decided by a predicate over the report (the blob's name): those
//! stay hidden from other readers until the caller settles them (deletes them once their
//! failure is stored); every other report is handed back to the queue at once, untouched.
//! The batch's blob (with its metadata) can be read back, so the reader needs no memory of
//! what it sent: a replica that restarted, or another replica, settles the report just as well.

use super::error::{ErrorKind, KustoError};
use super::queued::{parse_failure, IngestionFailure, QueuedIngestor};
use super::resources::IngestionResources;
use bytes::Bytes;
use iotc_adx_storage::{QueueMessage, ResourceUrl};
use std::time::Duration;

/// How long a taken report stays hidden before it is sorted (ours, or handed back).
const SORTING_VISIBILITY: Duration = Duration::from_secs(30);

/// At most this many reports are looked at per queue and call, ours or not.
const MAX_INSPECTED: usize = 256;

/// A report the caller owns, hidden from the queue's other readers until settled or until
/// the hold given to [`QueuedIngestor::take_failures`] runs out (then it is read again).
#[derive(Debug, Clone)]
pub struct OwnFailure {
    /// What the service reported.
    pub failure: IngestionFailure,
    receipt: (ResourceUrl, QueueMessage),
}

impl OwnFailure {
    /// The queue message's id: the same report taken twice has the same id.
    pub fn message_id(&self) -> &str {
        &self.receipt.1.id
    }
}

impl QueuedIngestor {
    /// Takes up to `max` failure reports that `is_ours` accepts, hidden for `hold`; hands
    /// every other report (and any that cannot be read) back to the queue at once.
    pub async fn take_failures(
        &self,
        max: usize,
        hold: Duration,
        is_ours: &(dyn Fn(&IngestionFailure) -> bool + Sync),
    ) -> Result<Vec<OwnFailure>, KustoError> {
        let mut refreshed = false;
        loop {
            let resources = self.cache.resources().await?;
            match self.try_take(&resources, max, hold, is_ours).await {
                Ok(found) => return Ok(found),
                Err(e) if e.kind() == ErrorKind::StorageAuth && !refreshed => {
                    self.cache.invalidate_resources(resources.generation).await;
                    refreshed = true;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn try_take(
        &self,
        resources: &IngestionResources,
        max: usize,
        hold: Duration,
        is_ours: &(dyn Fn(&IngestionFailure) -> bool + Sync),
    ) -> Result<Vec<OwnFailure>, KustoError> {
        let mut ours = Vec::new();
        for queue in &resources.failed_queues {
            let mut others = Vec::new();
            let mut inspected = 0;
            while ours.len() < max && inspected < MAX_INSPECTED {
                let want = (max - ours.len()).min(32);
                let messages = self
                    .storage
                    .get_messages(queue, want, SORTING_VISIBILITY)
                    .await?;
                if messages.is_empty() {
                    break;
                }
                inspected += messages.len();
                for m in messages {
                    match parse_failure(&m.text) {
                        Ok(failure) if is_ours(&failure) => {
                            let held = self.storage.set_visibility(queue, &m, hold).await?;
                            ours.push(OwnFailure {
                                failure,
                                receipt: (queue.clone(), held),
                            });
                        }
                        _ => others.push(m),
                    }
                }
            }
            // Kept hidden while the queue was searched, so that the search went past them.
            for m in others {
                if let Err(e) = self.storage.set_visibility(queue, &m, Duration::ZERO).await {
                    tracing::debug!(error = %e, "cannot hand a failure report back at once; it reappears on its own");
                }
            }
        }
        Ok(ours)
    }

    /// Deletes a report once its failure is stored: no reader sees it again.
    pub async fn settle_failure(&self, own: &OwnFailure) -> Result<(), KustoError> {
        let (queue, message) = &own.receipt;
        self.storage.delete_message(queue, message).await
    }

    /// Reads a queued batch's blob (`blob` as a report names it, without SAS) with the SAS of
    /// the TempStorage container that holds it: its metadata and its (gzipped) content.
    pub async fn read_blob(
        &self,
        blob: &str,
    ) -> Result<(Vec<(String, String)>, Bytes), KustoError> {
        let resources = self.cache.resources().await?;
        let found = resources.temp_storage.iter().find_map(|c| {
            let base = c.base().as_str().trim_end_matches('/');
            let name = blob.strip_prefix(base)?.strip_prefix('/')?;
            Some((c, name))
        });
        let Some((container, name)) = found else {
            return Err(
                KustoError::new(ErrorKind::Permanent, "blob read").with_message(format!(
                    "no TempStorage container of the cluster holds {blob}"
                )),
            );
        };
        let name = url::form_urlencoded::parse(name.as_bytes())
            .next()
            .map(|(k, _)| k.into_owned())
            .unwrap_or_else(|| name.to_string());
        self.storage.get_blob(container, &name).await
    }
}
