//! The Event Hubs source's metrics, updated here only: partitions owned, and per-partition lag
//! and checkpoint age, measured every so often on the
//! watchdog's probe connection: lag is the partition's last enqueued sequence number minus
//! its checkpoint, and the checkpoint's age is how long it has been behind (0 while it is up
//! to date with the partition, so a quiet partition never looks stale).

use super::watchdog::Watchdog;
use crate::telemetry::metrics::metrics;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How often the gauges are measured: twice per balancing interval (partitions change hands
/// no faster), between 1 and 15 seconds.
pub(super) fn measure_every(balance_interval: Duration) -> Duration {
    (balance_interval * 2).clamp(Duration::from_secs(1), Duration::from_secs(15))
}
/// A measurement's time limit (all partitions are asked at once).
const MEASURE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the previous measurements saw, per partition.
#[derive(Debug, Default)]
pub(super) struct Gauges {
    /// The checkpoint last seen, and since when it has been behind the partition at that
    /// position.
    behind: HashMap<String, (Option<i64>, Instant)>,
}

/// One partition's measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Measured {
    /// Events enqueued beyond the checkpoint.
    pub lag: i64,
    /// Seconds the checkpoint has been behind.
    pub age_s: i64,
}

impl Gauges {
    /// Measures `partitions` (those this replica reads) and sets their gauges; partitions
    /// whose properties cannot be had keep their previous values.
    pub async fn measure(
        &mut self,
        w: &Watchdog,
        partitions: &[String],
    ) -> HashMap<String, Measured> {
        let mut out = HashMap::new();
        if partitions.is_empty() {
            return out;
        }
        let Some(checkpoints) = w.checkpoints(MEASURE_TIMEOUT).await else {
            return out;
        };
        let asks = partitions
            .iter()
            .map(|p| async move { (p, w.probe.get_partition_properties(p).await) });
        let Ok(answers) =
            tokio::time::timeout(MEASURE_TIMEOUT, futures::future::join_all(asks)).await
        else {
            return out;
        };
        let now = Instant::now();
        for (partition, answer) in answers {
            let Ok(properties) = answer else { continue };
            let checkpoint = checkpoints.get(partition.as_str()).copied();
            let lag = if properties.is_empty {
                0
            } else {
                match checkpoint {
                    Some(c) => (properties.last_enqueued_sequence_number - c).max(0),
                    // Nothing checkpointed yet: everything the partition retains is ahead.
                    None => {
                        properties.last_enqueued_sequence_number
                            - properties.beginning_sequence_number
                            + 1
                    }
                }
            };
            let since = match self.behind.get(partition.as_str()) {
                _ if lag == 0 => now,
                Some((seen, since)) if *seen == checkpoint => *since,
                _ => now,
            };
            self.behind.insert(partition.clone(), (checkpoint, since));
            let age_s = now.duration_since(since).as_secs() as i64;
            metrics()
                .eventhubs
                .partition_lag_events
                .with_label_values(&[partition])
                .set(lag);
            metrics()
                .eventhubs
                .checkpoint_age_seconds
                .with_label_values(&[partition])
                .set(age_s);
            out.insert(partition.clone(), Measured { lag, age_s });
        }
        out
    }
}

/// Records how many partitions this replica reads now.
pub(super) fn owned(partitions: usize) {
    metrics().eventhubs.owned_partitions.set(partitions as i64);
}

/// This replica stopped reading `partition`: its gauges are another replica's to report.
pub(super) fn forget(partition: &str) {
    let m = &metrics().eventhubs;
    let _ = m.partition_lag_events.remove_label_values(&[partition]);
    let _ = m.checkpoint_age_seconds.remove_label_values(&[partition]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::eventhubs::watchdog::test_support::{checkpoint, setup};
    use azure_messaging_eventhubs::CheckpointStore;

    #[tokio::test]
    async fn lag_is_the_events_beyond_the_checkpoint_and_age_counts_only_while_behind() {
        let (hub, watchdog, store) = setup(Duration::ZERO).await;
        let mut gauges = Gauges::default();
        let both = ["0".to_string(), "1".to_string()];
        let m = gauges.measure(&watchdog, &both).await;
        assert_eq!(m["0"], Measured { lag: 0, age_s: 0 }, "empty partitions");
        let mut last = 0;
        for i in 0..5 {
            last = hub
                .append("export", "0", format!("{i}").as_bytes())
                .unwrap();
        }
        let m = gauges.measure(&watchdog, &both).await;
        assert_eq!(m["0"].lag, 5, "no checkpoint: all retained events");
        store
            .update_checkpoint(checkpoint("0", last - 2))
            .await
            .unwrap();
        let m = gauges.measure(&watchdog, &both).await;
        assert_eq!(m["0"].lag, 2);
        let text = metrics().render();
        assert!(
            text.contains("iotc_adx_partition_lag_events{partition=\"0\"} 2"),
            "{text}"
        );
        store
            .update_checkpoint(checkpoint("0", last))
            .await
            .unwrap();
        let m = gauges.measure(&watchdog, &both).await;
        assert_eq!(m["0"], Measured { lag: 0, age_s: 0 });
    }
}
