//! Who reads each consumer-group partition, with what owner level (epoch): a reader with an
//! equal or higher epoch takes the partition and the others are detached with
//! `amqp:link:stolen`; a lower epoch (or no epoch while an epoch reader holds it) is refused.

use super::faults::LinkFault;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::watch;

/// `(hub, consumer group, partition)`, lower-cased.
pub(crate) type PartitionKey = (String, String, String);

#[derive(Debug)]
struct Reader {
    id: u64,
    connection: u64,
    epoch: Option<i64>,
    stop: watch::Sender<Option<LinkFault>>,
}

/// The live readers of every partition.
#[derive(Debug, Default)]
pub(crate) struct Owners {
    readers: Mutex<HashMap<PartitionKey, Vec<Reader>>>,
    next_id: Mutex<u64>,
}

/// A registered reader: its id and the channel that tells it to stop.
pub(crate) struct Registration {
    pub id: u64,
    pub stop: watch::Receiver<Option<LinkFault>>,
}

pub(crate) fn key(hub: &str, group: &str, partition: &str) -> PartitionKey {
    (
        hub.to_ascii_lowercase(),
        group.to_ascii_lowercase(),
        partition.to_string(),
    )
}

impl Owners {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PartitionKey, Vec<Reader>>> {
        self.readers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a reader, stealing from lower or equal epochs, or refuses it.
    pub fn register(
        &self,
        key: PartitionKey,
        connection: u64,
        epoch: Option<i64>,
    ) -> Result<Registration, LinkFault> {
        let mut all = self.lock();
        let readers = all.entry(key).or_default();
        let top = readers.iter().filter_map(|r| r.epoch).max();
        match (epoch, top) {
            (Some(e), Some(t)) if e < t => {
                return Err(LinkFault::new(
                    "amqp:link:stolen",
                    &format!("a receiver with a higher epoch ({t}) already reads this partition; yours is {e}"),
                ))
            }
            (None, Some(t)) => {
                return Err(LinkFault::new(
                    "amqp:link:stolen",
                    &format!("a receiver with epoch {t} reads this partition; receivers without an epoch are refused"),
                ))
            }
            (Some(e), _) => {
                for r in readers.drain(..) {
                    let _ = r.stop.send(Some(LinkFault::new(
                        "amqp:link:stolen",
                        &format!("a new receiver with epoch {e} took the partition (this one had {:?})", r.epoch),
                    )));
                }
            }
            (None, None) => {}
        }
        let id = {
            let mut n = self.next_id.lock().unwrap_or_else(|p| p.into_inner());
            *n += 1;
            *n
        };
        let (tx, rx) = watch::channel(None);
        readers.push(Reader {
            id,
            connection,
            epoch,
            stop: tx,
        });
        Ok(Registration { id, stop: rx })
    }

    /// Forgets a reader that ended.
    pub fn unregister(&self, key: &PartitionKey, id: u64) {
        let mut all = self.lock();
        if let Some(v) = all.get_mut(key) {
            v.retain(|r| r.id != id);
        }
    }

    /// Tells the readers of `hub`/`partition` (any group) to detach with `fault`; returns how many.
    pub fn detach(&self, hub: &str, partition: Option<&str>, fault: &LinkFault) -> usize {
        let all = self.lock();
        let mut n = 0;
        for ((h, _, p), readers) in all.iter() {
            if h.eq_ignore_ascii_case(hub) && partition.is_none_or(|x| x == p) {
                for r in readers {
                    let _ = r.stop.send(Some(fault.clone()));
                    n += 1;
                }
            }
        }
        n
    }

    /// How many readers `key` has.
    pub fn count(&self, key: &PartitionKey) -> usize {
        self.lock().get(key).map_or(0, Vec::len)
    }

    /// The connections with a reader on `hub`/`partition`.
    pub fn connections_reading(&self, hub: &str, partition: &str) -> Vec<u64> {
        let all = self.lock();
        all.iter()
            .filter(|((h, _, p), _)| h.eq_ignore_ascii_case(hub) && p == partition)
            .flat_map(|(_, rs)| rs.iter().map(|r| r.connection))
            .collect()
    }
}
