//! Writes checkpoints the pipeline confirms (see [`crate::checkpoint`]) to the checkpoint store, at
//! most once per `checkpoint_every` per partition, and only for partitions this replica still
//! reads: a partition taken over by another replica must not see its checkpoint move back.
//!
//! Progress confirmed while its partition is momentarily not owned (the reader is being
//! reopened after a lost link) is kept, not dropped: the pipeline hands each position out
//! once, so a dropped one would leave the checkpoint behind until newer events arrive. It is
//! written once the partition is owned again, unless the store already holds a checkpoint at
//! or past it (another replica read the partition in between).

use crate::checkpoint::{CheckpointError, Checkpointer, Progress};
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
    /// Confirmed events that trigger a checkpoint sooner (0: never).
    pub(super) every_events: u64,
    /// Confirmed but not yet written, per partition.
    pub(super) pending: HashMap<String, Progress>,
    /// When, and at which sequence number, each partition was last written.
    pub(super) written: HashMap<String, (Instant, i64)>,
    /// Partitions whose pending progress was confirmed while they were not owned.
    pub(super) parked: HashSet<String>,
    /// Tells the reader thread, once the last checkpoints are written, to give up this
    /// replica's partitions; the thread then ends and is joined.
    pub(super) release: watch::Sender<bool>,
    pub(super) thread: Option<std::thread::JoinHandle<()>>,
}

impl EventHubsCheckpointer {
    async fn write(&mut self, all: bool) -> Result<(), CheckpointError> {
        let now = Instant::now();
        let owned = self.owned.lock().map(|o| o.clone()).unwrap_or_default();
        let due: Vec<String> = self
            .pending
            .keys()
            .filter(|p| {
                all || match self.written.get(*p) {
                    None => true,
                    Some((at, seq)) => {
                        let events = self
                            .pending
                            .get(*p)
                            .map_or(0, |g| g.sequence_number.saturating_sub(*seq));
                        now.duration_since(*at) >= self.every
                            || (self.every_events > 0 && events >= self.every_events as i64)
                    }
                }
            })
            .cloned()
            .collect();
        let mut stored: Option<HashMap<String, i64>> = None;
        for partition in due {
            let Some(progress) = self.pending.remove(&partition) else {
                continue;
            };
            if !owned.contains(&partition) {
                tracing::debug!(partition = %partition, "not checkpointing a partition this replica does not read now; kept until it does");
                self.parked.insert(partition.clone());
                self.pending.insert(partition, progress);
                continue;
            }
            if self.parked.remove(&partition) {
                if stored.is_none() {
                    stored = Some(self.stored().await?);
                }
                let ahead = stored.as_ref().and_then(|s| s.get(&partition));
                if ahead.is_some_and(|seq| *seq >= progress.sequence_number) {
                    tracing::debug!(partition = %partition, "the store is already past the kept progress");
                    continue;
                }
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
                .map_err(|e| CheckpointError::Write {
                    partition: partition.clone(),
                    source: Box::new(e),
                })?;
            tracing::debug!(partition = %partition, sequence_number = progress.sequence_number, "checkpoint written");
            self.written
                .insert(partition, (now, progress.sequence_number));
        }
        Ok(())
    }
}

impl EventHubsCheckpointer {
    /// The store's checkpointed sequence number per partition.
    async fn stored(&self) -> Result<HashMap<String, i64>, CheckpointError> {
        let list = self
            .store
            .list_checkpoints(&self.namespace, &self.event_hub, &self.consumer_group)
            .await
            .map_err(|e| CheckpointError::Write {
                partition: "*".into(),
                source: Box::new(e),
            })?;
        Ok(list
            .into_iter()
            .filter_map(|c| Some((c.partition_id, c.sequence_number?)))
            .collect())
    }
}

impl Checkpointer for EventHubsCheckpointer {
    async fn commit(&mut self, progress: Vec<Progress>) -> Result<(), CheckpointError> {
        for p in progress {
            self.pending.insert(p.partition.clone(), p);
        }
        self.write(false).await
    }

    async fn finish(&mut self) -> Result<(), CheckpointError> {
        // Final checkpoints first (the partitions stay this replica's until released), then
        // release them so that other replicas take over at their next balancing round instead
        // of waiting for the claims to expire.
        let result = self.write(true).await;
        let _ = self.release.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        result
    }
}

impl Drop for EventHubsCheckpointer {
    fn drop(&mut self) {
        // A run that ended without `finish` (an error): release all the same, without the
        // last checkpoints; the partitions are read again from the ones written before.
        let _ = self.release.send(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use azure_messaging_eventhubs::models::Ownership;

    /// Records checkpoint writes; `list_checkpoints` answers with `stored`.
    #[derive(Default)]
    struct Recorded(Mutex<Vec<(String, Option<i64>)>>, Mutex<Vec<Checkpoint>>);

    #[async_trait::async_trait]
    impl CheckpointStore for Recorded {
        async fn claim_ownership(&self, o: &[Ownership]) -> azure_core::Result<Vec<Ownership>> {
            Ok(o.to_vec())
        }
        async fn list_checkpoints(
            &self,
            _: &str,
            _: &str,
            _: &str,
        ) -> azure_core::Result<Vec<Checkpoint>> {
            Ok(self.1.lock().unwrap().clone())
        }
        async fn list_ownerships(
            &self,
            _: &str,
            _: &str,
            _: &str,
        ) -> azure_core::Result<Vec<Ownership>> {
            Ok(Vec::new())
        }
        async fn update_checkpoint(&self, c: Checkpoint) -> azure_core::Result<()> {
            self.0
                .lock()
                .unwrap()
                .push((c.partition_id, c.sequence_number));
            Ok(())
        }
    }

    fn checkpointer(store: Arc<Recorded>, every_events: u64) -> EventHubsCheckpointer {
        let (release, _) = watch::channel(false);
        EventHubsCheckpointer {
            store,
            namespace: "ns".into(),
            event_hub: "hub".into(),
            consumer_group: "$Default".into(),
            owned: Arc::new(Mutex::new(["0".to_string()].into_iter().collect())),
            every: Duration::from_secs(3600),
            every_events,
            pending: HashMap::new(),
            written: HashMap::new(),
            parked: HashSet::new(),
            release,
            thread: None,
        }
    }

    fn progress(partition: &str, seq: i64) -> Vec<Progress> {
        vec![Progress {
            partition: partition.into(),
            sequence_number: seq,
            offset: seq.to_string(),
        }]
    }

    #[tokio::test]
    async fn writes_by_time_or_event_count_and_only_owned_partitions() {
        let store = Arc::new(Recorded::default());
        let mut c = checkpointer(store.clone(), 10);
        c.commit(progress("0", 5)).await.unwrap(); // first: written at once
        c.commit(progress("0", 9)).await.unwrap(); // 4 more events, within the hour: held
        c.commit(progress("0", 15)).await.unwrap(); // 10 more: written
        c.commit(progress("1", 3)).await.unwrap(); // not owned: kept, never written
        c.commit(progress("0", 16)).await.unwrap(); // held
        c.finish().await.unwrap(); // the rest of the owned ones
        assert_eq!(
            *store.0.lock().unwrap(),
            vec![
                ("0".into(), Some(5)),
                ("0".into(), Some(15)),
                ("0".into(), Some(16))
            ]
        );
    }

    #[tokio::test]
    async fn progress_confirmed_while_a_reader_reopens_is_written_once_it_is_back() {
        let store = Arc::new(Recorded::default());
        let mut c = checkpointer(store.clone(), 1);
        c.commit(progress("0", 4)).await.unwrap();
        // The reader is being reopened: the partition is briefly not owned.
        c.owned.lock().unwrap().clear();
        c.commit(progress("0", 9)).await.unwrap();
        assert_eq!(
            store.0.lock().unwrap().len(),
            1,
            "not written while not owned"
        );
        c.owned.lock().unwrap().insert("0".into());
        // Nothing new is confirmed (the pipeline hands 9 out once): the kept 9 is written.
        c.commit(Vec::new()).await.unwrap();
        assert_eq!(
            *store.0.lock().unwrap(),
            vec![("0".into(), Some(4)), ("0".into(), Some(9))]
        );
    }

    #[tokio::test]
    async fn kept_progress_never_moves_another_replicas_checkpoint_back() {
        let store = Arc::new(Recorded::default());
        let mut c = checkpointer(store.clone(), 1);
        c.owned.lock().unwrap().clear();
        c.commit(progress("0", 9)).await.unwrap();
        // Meanwhile another replica read the partition and checkpointed 20.
        store.1.lock().unwrap().push(Checkpoint {
            fully_qualified_namespace: "ns".into(),
            event_hub_name: "hub".into(),
            consumer_group: "$Default".into(),
            partition_id: "0".into(),
            offset: Some("20".into()),
            sequence_number: Some(20),
        });
        c.owned.lock().unwrap().insert("0".into());
        c.commit(Vec::new()).await.unwrap();
        c.finish().await.unwrap();
        assert!(
            store.0.lock().unwrap().is_empty(),
            "{:?}",
            store.0.lock().unwrap()
        );
    }
}
