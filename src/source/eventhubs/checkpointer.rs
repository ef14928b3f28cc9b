//! Writes checkpoints the pipeline confirms (see [`crate::ack`]) to the checkpoint store, at
//! most once per `checkpoint_every` per partition, and only for partitions this replica still
//! reads: a partition taken over by another replica must not see its checkpoint move back.

use crate::ack::Progress;
use crate::source::{Checkpointer, SourceError};
use azure_messaging_eventhubs::models::Checkpoint;
use azure_messaging_eventhubs::CheckpointStore;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Checkpoints for one event hub and consumer group.
pub struct EventHubsCheckpointer {
    pub(super) store: Arc<dyn CheckpointStore + Send + Sync>,
    pub(super) namespace: String,
    pub(super) event_hub: String,
    pub(super) consumer_group: String,
    pub(super) owned: Arc<Mutex<HashSet<String>>>,
    pub(super) every: Duration,
    /// Confirmed but not yet written, per partition.
    pub(super) pending: HashMap<String, Progress>,
    pub(super) written: HashMap<String, Instant>,
    /// Stops the reader thread at the end of a run, then waits for it to release ownership.
    pub(super) stop: watch::Sender<bool>,
    pub(super) thread: Option<std::thread::JoinHandle<()>>,
}

impl EventHubsCheckpointer {
    async fn write(&mut self, all: bool) -> Result<(), SourceError> {
        let now = Instant::now();
        let owned = self.owned.lock().map(|o| o.clone()).unwrap_or_default();
        let due: Vec<String> = self
            .pending
            .keys()
            .filter(|p| all || self.written.get(*p).is_none_or(|t| now.duration_since(*t) >= self.every))
            .cloned()
            .collect();
        for partition in due {
            let Some(progress) = self.pending.remove(&partition) else { continue };
            if !owned.contains(&partition) {
                tracing::debug!(partition = %partition, "not checkpointing a partition this replica no longer reads");
                continue;
            }
            let checkpoint = Checkpoint {
                fully_qualified_namespace: self.namespace.clone(),
                event_hub_name: self.event_hub.clone(),
                consumer_group: self.consumer_group.clone(),
                partition_id: partition.clone(),
                offset: Some(progress.offset.clone()),
                sequence_number: Some(progress.sequence_number),
            };
            self.store
                .update_checkpoint(checkpoint)
                .await
                .map_err(|e| SourceError::Checkpoint { partition: partition.clone(), reason: e.to_string() })?;
            tracing::debug!(partition = %partition, sequence_number = progress.sequence_number, "checkpoint written");
            self.written.insert(partition, now);
        }
        Ok(())
    }
}

impl Checkpointer for EventHubsCheckpointer {
    async fn commit(&mut self, progress: Vec<Progress>) -> Result<(), SourceError> {
        for p in progress {
            self.pending.insert(p.partition.clone(), p);
        }
        self.write(false).await
    }

    async fn finish(&mut self) -> Result<(), SourceError> {
        // Final checkpoints first (partitions still owned until the reader stops), then let
        // the reader release ownership so other replicas take over at once.
        let result = self.write(true).await;
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        result
    }
}
