//! Notices partition readers that the SDK left stuck: a partition this replica owns has events
//! beyond what its reader delivered, and the reader has delivered nothing for a while although
//! the pipeline takes events. The SDK can leave its connection in that state without reporting
//! an error (an authorization waiting forever on a connection that a concurrent recovery
//! closed), so the runner cannot wait for one. The check asks a separate probe connection for
//! the partitions' last enqueued sequence numbers.

use azure_messaging_eventhubs::{CheckpointStore, ConsumerClient};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How far each partition's reader got, shared by the readers and the watchdog.
#[derive(Debug, Default)]
pub(super) struct Progress {
    partitions: Mutex<HashMap<String, PartitionProgress>>,
}

#[derive(Debug, Clone, Copy)]
struct PartitionProgress {
    /// The last sequence number delivered, or the first last-enqueued number seen when nothing
    /// is known (start at latest, no checkpoint).
    baseline: Option<i64>,
    /// When the reader last delivered an event, or started.
    since: Instant,
}

impl Progress {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, PartitionProgress>> {
        self.partitions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A reader started on `partition`.
    pub fn started(&self, partition: &str) {
        let mut all = self.lock();
        let entry = all
            .entry(partition.to_string())
            .or_insert(PartitionProgress {
                baseline: None,
                since: Instant::now(),
            });
        entry.since = Instant::now();
    }

    /// A reader delivered the event with `sequence_number`.
    pub fn delivered(&self, partition: &str, sequence_number: i64) {
        let mut all = self.lock();
        let entry = all
            .entry(partition.to_string())
            .or_insert(PartitionProgress {
                baseline: None,
                since: Instant::now(),
            });
        entry.baseline = Some(
            entry
                .baseline
                .map_or(sequence_number, |b| b.max(sequence_number)),
        );
        entry.since = Instant::now();
    }
}

/// What the watchdog needs to look at the hub.
pub(super) struct Watchdog {
    pub probe: ConsumerClient,
    pub store: Arc<dyn CheckpointStore + Send + Sync>,
    pub namespace: String,
    pub event_hub: String,
    pub consumer_group: String,
    /// How long a reader may deliver nothing while its partition has newer events.
    pub stall_after: Duration,
}

/// A management call's time limit.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

impl Watchdog {
    /// Each partition's checkpointed sequence number, or `None` when the checkpoint store did
    /// not answer within `limit` (the caller decides what an unknown checkpoint means).
    pub async fn checkpoints(&self, limit: Duration) -> Option<HashMap<String, i64>> {
        let listed = tokio::time::timeout(
            limit,
            self.store
                .list_checkpoints(&self.namespace, &self.event_hub, &self.consumer_group),
        )
        .await;
        match listed {
            Ok(Ok(list)) => Some(
                list.into_iter()
                    .filter_map(|c| c.sequence_number.map(|s| (c.partition_id, s)))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The first of `partitions` (read by this replica) whose reader is stuck, if any.
    pub async fn stuck(&self, progress: &Progress, partitions: &[String]) -> Option<String> {
        let candidates: Vec<(String, PartitionProgress)> = {
            let all = progress.lock();
            partitions
                .iter()
                .filter_map(|p| all.get(p).map(|x| (p.clone(), *x)))
                .filter(|(_, x)| x.since.elapsed() >= self.stall_after)
                .collect()
        };
        if candidates.is_empty() {
            return None;
        }
        let checkpoints = self.checkpoints(CALL_TIMEOUT).await.unwrap_or_default();
        for (partition, seen) in candidates {
            let last = match tokio::time::timeout(
                CALL_TIMEOUT,
                self.probe.get_partition_properties(&partition),
            )
            .await
            {
                Ok(Ok(p)) if !p.is_empty => p.last_enqueued_sequence_number,
                Ok(Ok(_)) => continue,
                Ok(Err(e)) => {
                    tracing::debug!(partition = %partition, error = %e, "watchdog: partition properties");
                    continue;
                }
                Err(_) => continue,
            };
            let known = match (seen.baseline, checkpoints.get(&partition)) {
                (Some(a), Some(b)) => Some(a.max(*b)),
                (a, b) => a.or(b.copied()),
            };
            match known {
                Some(known) if last > known => return Some(partition),
                Some(_) => {}
                None => {
                    // Nothing delivered and no checkpoint: take what is there now as the
                    // starting point, so that only newer events count.
                    let mut all = progress.lock();
                    if let Some(x) = all.get_mut(&partition) {
                        x.baseline.get_or_insert(last);
                    }
                }
            }
        }
        None
    }
}

/// An emulated hub with two partitions, a watchdog on it and an in-memory checkpoint store.
#[cfg(test)]
pub(super) mod test_support {
    use super::*;
    use azure_messaging_eventhubs::models::Checkpoint;
    use azure_messaging_eventhubs::InMemoryCheckpointStore;
    use iotc_adx_testkit::eventhubs::{EmulatorOptions, EventHubOptions, EventHubsEmulator};

    const NAMESPACE: &str = "iotc.servicebus.windows.net";

    pub async fn setup(
        stall_after: Duration,
    ) -> (EventHubsEmulator, Watchdog, Arc<InMemoryCheckpointStore>) {
        let hub = EventHubsEmulator::start(
            EmulatorOptions::new(NAMESPACE)
                .with_event_hub(EventHubOptions::new("export", 2))
                .with_sas_key("listen", "a2V5"),
        )
        .await
        .expect("the emulator starts");
        let probe = ConsumerClient::builder()
            .with_custom_endpoint(hub.endpoint())
            .open_with_connection_string(
                &hub.connection_string("listen", "export").expect("a key"),
                Some("export"),
            )
            .await
            .expect("the probe connects");
        let store = Arc::new(InMemoryCheckpointStore::new());
        let watchdog = Watchdog {
            probe,
            store: store.clone(),
            namespace: NAMESPACE.into(),
            event_hub: "export".into(),
            consumer_group: "$Default".into(),
            stall_after,
        };
        (hub, watchdog, store)
    }

    /// A checkpoint of `partition` at `sequence_number`.
    pub fn checkpoint(partition: &str, sequence_number: i64) -> Checkpoint {
        Checkpoint {
            fully_qualified_namespace: NAMESPACE.into(),
            event_hub_name: "export".into(),
            consumer_group: "$Default".into(),
            partition_id: partition.into(),
            offset: None,
            sequence_number: Some(sequence_number),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{checkpoint, setup};
    use super::*;

    fn partitions() -> Vec<String> {
        vec!["0".into(), "1".into()]
    }

    #[tokio::test]
    async fn a_reader_behind_the_partition_and_silent_is_stuck() {
        let (hub, watchdog, _) = setup(Duration::ZERO).await;
        let progress = Progress::default();
        for i in 0..3 {
            hub.append("export", "0", format!("{i}").as_bytes())
                .expect("appended");
        }
        progress.started("0");
        progress.delivered("0", 1);
        assert_eq!(
            watchdog.stuck(&progress, &partitions()).await.as_deref(),
            Some("0"),
            "event 2 was never delivered"
        );
        progress.delivered("0", 2);
        assert_eq!(
            watchdog.stuck(&progress, &partitions()).await,
            None,
            "caught up"
        );
        // Partition 1 has no reader here: not this replica's concern.
        hub.append("export", "1", b"x").expect("appended");
        assert_eq!(watchdog.stuck(&progress, &partitions()).await, None);
    }

    #[tokio::test]
    async fn a_reader_that_delivered_recently_is_not_stuck() {
        let (hub, watchdog, _) = setup(Duration::from_secs(3600)).await;
        let progress = Progress::default();
        hub.append("export", "0", b"x").expect("appended");
        progress.started("0");
        assert_eq!(watchdog.stuck(&progress, &partitions()).await, None);
    }

    #[tokio::test]
    async fn without_deliveries_or_checkpoints_only_newer_events_count() {
        let (hub, watchdog, store) = setup(Duration::ZERO).await;
        let progress = Progress::default();
        hub.append("export", "0", b"old").expect("appended");
        progress.started("0");
        // Started at "latest": what is there now is the baseline.
        assert_eq!(watchdog.stuck(&progress, &partitions()).await, None);
        hub.append("export", "0", b"new").expect("appended");
        assert_eq!(
            watchdog.stuck(&progress, &partitions()).await.as_deref(),
            Some("0")
        );

        // A checkpoint at the newest event (another replica's, or ours before a reopen) counts
        // as delivered.
        let first = hub.append("export", "1", b"a").expect("appended");
        let last = hub.append("export", "1", b"b").expect("appended");
        progress.delivered("1", first);
        let one = ["1".to_string()];
        assert_eq!(watchdog.stuck(&progress, &one).await.as_deref(), Some("1"));
        store
            .update_checkpoint(checkpoint("1", last))
            .await
            .expect("stored");
        assert_eq!(watchdog.stuck(&progress, &one).await, None);
    }
}
