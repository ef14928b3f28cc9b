//! Handovers: a partition this replica took from another owner (one that was killed, or that
//! lost it to rebalancing) may have rows in batches that owner queued but Data Explorer has not
//! committed yet: queued ingestion commits up to the table's batching time later. Events after
//! the last checkpoint are read again, and the duplicate lookup of queued destinations (the
//! `ingest-by:` tags of the table's extents) can only see committed batches. So before reading
//! such a partition, the new owner waits until whatever the previous owner could have queued
//! is committed: the previous owner's last ownership renewal, plus one balancing interval (it
//! may have gone on for that long), plus the settle time (the longest batching time of the
//! queued destinations with dedupe, and a margin). A partition that was free, released by a
//! clean stop (its checkpoints cover every accepted batch), or last renewed long ago is read at
//! once.

use azure_messaging_eventhubs::models::Ownership;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// What the store saw of a partition's ownership before claiming it.
#[derive(Debug, Clone)]
struct Listed {
    owner: String,
    renewed: Option<SystemTime>,
    etag: Option<String>,
}

/// Records handovers as the checkpoint store lists and claims ownership; the partition
/// readers ask how long to wait.
#[derive(Debug, Default)]
pub struct Handovers {
    /// How long a previous owner's queued batches may take to commit (zero: never wait).
    settle: Duration,
    /// The balancing interval: how long an owner may go on after its last renewal.
    balance: Duration,
    listed: Mutex<HashMap<String, Listed>>,
    taken: Mutex<HashMap<String, SystemTime>>,
}

impl Handovers {
    /// Waits `settle` after a handover (plus `balance` for the previous owner's last round).
    pub fn new(settle: Duration, balance: Duration) -> Handovers {
        Handovers {
            settle,
            balance,
            ..Handovers::default()
        }
    }

    /// The ownerships the processor just listed.
    pub fn listed(&self, ownerships: &[Ownership]) {
        if self.settle.is_zero() {
            return;
        }
        let Ok(mut listed) = self.listed.lock() else {
            return;
        };
        for o in ownerships {
            listed.insert(
                o.partition_id.clone(),
                Listed {
                    owner: o.owner_id.clone().unwrap_or_default(),
                    renewed: o.last_modified_time.map(SystemTime::from),
                    etag: o.etag.as_ref().map(ToString::to_string),
                },
            );
        }
    }

    /// This replica claimed `claim` (its ETag is the one the claim replaced, as listed).
    pub fn claimed(&self, claim: &Ownership, replaced_etag: Option<&str>) {
        if self.settle.is_zero() {
            return;
        }
        let previous = self
            .listed
            .lock()
            .ok()
            .and_then(|l| l.get(&claim.partition_id).cloned());
        let Some(previous) = previous else {
            return;
        };
        let mine = claim.owner_id.as_deref().unwrap_or_default();
        let from_another = !previous.owner.is_empty() && previous.owner != mine;
        if !from_another || previous.etag.as_deref() != replaced_etag {
            return;
        }
        if let (Some(renewed), Ok(mut taken)) = (previous.renewed, self.taken.lock()) {
            taken.insert(claim.partition_id.clone(), renewed);
        }
    }

    /// How long to wait before reading `partition`, taken once per handover.
    pub fn wait_before_reading(&self, partition: &str, now: SystemTime) -> Option<Duration> {
        let renewed = self.taken.lock().ok()?.remove(partition)?;
        let until = renewed + self.balance + self.settle;
        until.duration_since(now).ok().filter(|d| !d.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ownership(partition: &str, owner: &str, renewed: SystemTime, etag: &str) -> Ownership {
        Ownership {
            partition_id: partition.into(),
            owner_id: Some(owner.into()),
            last_modified_time: Some(renewed.into()),
            etag: Some(azure_core::http::Etag::from(etag.to_string())),
            ..Default::default()
        }
    }

    #[test]
    fn only_partitions_taken_from_a_recent_other_owner_wait() {
        let h = Handovers::new(Duration::from_secs(300), Duration::from_secs(10));
        let now = SystemTime::now();
        let recent = now - Duration::from_secs(60);
        let long_ago = now - Duration::from_secs(3600);
        h.listed(&[
            ownership("0", "killed", recent, "e0"),
            ownership("1", "", recent, "e1"),
            ownership("2", "me", recent, "e2"),
            ownership("3", "killed", long_ago, "e3"),
            ownership("4", "killed", recent, "e4"),
        ]);
        for (p, etag) in [
            ("0", "e0"),
            ("1", "e1"),
            ("2", "e2"),
            ("3", "e3"),
            ("4", "stale"),
        ] {
            h.claimed(&ownership(p, "me", now, "new"), Some(etag));
        }
        let wait = h
            .wait_before_reading("0", now)
            .expect("taken from a live or killed owner");
        assert_eq!(
            wait,
            Duration::from_secs(250),
            "renewal + balance + settle - now"
        );
        assert_eq!(h.wait_before_reading("0", now), None, "once per handover");
        assert_eq!(
            h.wait_before_reading("1", now),
            None,
            "released by a clean stop"
        );
        assert_eq!(h.wait_before_reading("2", now), None, "its own");
        assert_eq!(h.wait_before_reading("3", now), None, "long enough ago");
        assert_eq!(
            h.wait_before_reading("4", now),
            None,
            "a claim not based on the listing"
        );
    }

    #[test]
    fn no_settle_time_never_waits() {
        let h = Handovers::new(Duration::ZERO, Duration::from_secs(10));
        let now = SystemTime::now();
        h.listed(&[ownership("0", "killed", now, "e0")]);
        h.claimed(&ownership("0", "me", now, "new"), Some("e0"));
        assert_eq!(h.wait_before_reading("0", now), None);
    }
}
