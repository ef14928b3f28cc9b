//! Partitions as append-only logs in memory: each event gets the next sequence number (from 0),
//! an offset (its byte position in the partition, as a decimal string) and an enqueued time,
//! and keeps the producer's body, properties, application properties and annotations.

use fe2o3_amqp_types::messaging::{ApplicationProperties, Body, MessageAnnotations, Properties};
use fe2o3_amqp_types::primitives::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// One event as stored in a partition.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// Sequence number within the partition, from 0.
    pub sequence_number: i64,
    /// Offset within the partition (byte position, decimal).
    pub offset: u64,
    /// Enqueued time, milliseconds since the Unix epoch.
    pub enqueued_time_ms: i64,
    /// Partition key the producer gave, if any.
    pub partition_key: Option<String>,
    /// The body sections as sent.
    pub body: Body<Value>,
    /// Message properties as sent.
    pub properties: Option<Properties>,
    /// Application properties as sent.
    pub application_properties: Option<ApplicationProperties>,
    /// Message annotations as sent (the service's own `x-opt-*` are added on delivery).
    pub message_annotations: Option<MessageAnnotations>,
    /// Approximate encoded size, advancing the offset.
    pub size: u64,
}

impl StoredEvent {
    /// The body as bytes when it is one data section (what producers normally send).
    pub fn body_bytes(&self) -> Option<Vec<u8>> {
        match &self.body {
            Body::Data(batch) => Some(batch.iter().flat_map(|d| d.0.to_vec()).collect()),
            _ => None,
        }
    }
}

/// What a producer hands to a partition.
#[derive(Debug, Clone)]
pub(crate) struct NewEvent {
    pub partition_key: Option<String>,
    pub body: Body<Value>,
    pub properties: Option<Properties>,
    pub application_properties: Option<ApplicationProperties>,
    pub message_annotations: Option<MessageAnnotations>,
    pub size: u64,
}

/// One partition: the events and a watch that ticks with each append.
#[derive(Debug)]
pub(crate) struct Partition {
    events: Mutex<Vec<StoredEvent>>,
    appended: watch::Sender<i64>,
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Partition {
    fn new() -> Self {
        Partition {
            events: Mutex::new(Vec::new()),
            appended: watch::channel(-1).0,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<StoredEvent>> {
        self.events.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends events atomically (a batch lands contiguously), enqueued now.
    pub fn append(&self, new: Vec<NewEvent>) -> Vec<i64> {
        self.append_at(new, None)
    }

    /// Appends events enqueued at `at_ms` (now when `None`); enqueued times never go back, so
    /// a time before the last event's is raised to it.
    pub fn append_at(&self, new: Vec<NewEvent>, at_ms: Option<i64>) -> Vec<i64> {
        let mut events = self.lock();
        let mut seqs = Vec::with_capacity(new.len());
        let now = at_ms
            .unwrap_or_else(now_ms)
            .max(events.last().map(|e| e.enqueued_time_ms).unwrap_or(0));
        for n in new {
            let (seq, offset) = match events.last() {
                Some(last) => (last.sequence_number + 1, last.offset + last.size),
                None => (0, 0),
            };
            events.push(StoredEvent {
                sequence_number: seq,
                offset,
                enqueued_time_ms: now,
                partition_key: n.partition_key,
                body: n.body,
                properties: n.properties,
                application_properties: n.application_properties,
                message_annotations: n.message_annotations,
                size: n.size.max(1),
            });
            seqs.push(seq);
        }
        let last = events.last().map(|e| e.sequence_number).unwrap_or(-1);
        drop(events);
        self.appended.send_replace(last);
        seqs
    }

    /// Up to `max` events from sequence number `from` on.
    pub fn read_from(&self, from: i64, max: usize) -> Vec<StoredEvent> {
        let events = self.lock();
        let start = from.max(0) as usize;
        events.iter().skip(start).take(max).cloned().collect()
    }

    /// All events.
    pub fn snapshot(&self) -> Vec<StoredEvent> {
        self.lock().clone()
    }

    /// The last event, if any.
    pub fn last(&self) -> Option<StoredEvent> {
        self.lock().last().cloned()
    }

    /// The sequence number after the last event.
    pub fn next_sequence(&self) -> i64 {
        self.lock()
            .last()
            .map(|e| e.sequence_number + 1)
            .unwrap_or(0)
    }

    /// The first sequence number whose event matches `pred`, or the end.
    pub fn first_matching(&self, pred: impl Fn(&StoredEvent) -> bool) -> i64 {
        let events = self.lock();
        events
            .iter()
            .find(|e| pred(e))
            .map(|e| e.sequence_number)
            .unwrap_or_else(|| events.len() as i64)
    }

    /// A receiver that changes whenever events are appended.
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.appended.subscribe()
    }
}

/// One hub: its partitions and consumer groups.
#[derive(Debug)]
pub(crate) struct Hub {
    pub name: String,
    pub created_at_ms: i64,
    pub partitions: Vec<Arc<Partition>>,
    pub consumer_groups: Vec<String>,
    round_robin: Mutex<usize>,
}

impl Hub {
    /// The partition with id `id`.
    pub fn partition(&self, id: &str) -> Option<&Arc<Partition>> {
        id.parse::<usize>()
            .ok()
            .and_then(|i| self.partitions.get(i))
    }

    /// Whether `group` exists (case-insensitive, as the service).
    pub fn has_group(&self, group: &str) -> bool {
        self.consumer_groups
            .iter()
            .any(|g| g.eq_ignore_ascii_case(group))
    }

    /// The partition for a partition key (stable FNV-1a hash), or the next in round robin.
    pub fn pick_partition(&self, key: Option<&str>) -> usize {
        let n = self.partitions.len().max(1);
        match key {
            Some(k) => {
                let mut h: u32 = 0x811c9dc5;
                for b in k.as_bytes() {
                    h ^= u32::from(*b);
                    h = h.wrapping_mul(0x01000193);
                }
                (h as usize) % n
            }
            None => {
                let mut rr = self.round_robin.lock().unwrap_or_else(|p| p.into_inner());
                let p = *rr % n;
                *rr = rr.wrapping_add(1);
                p
            }
        }
    }
}

/// All hubs of the namespace.
#[derive(Debug, Default)]
pub(crate) struct Store {
    hubs: HashMap<String, Arc<Hub>>,
}

impl Store {
    pub fn new(hubs: &[super::options::EventHubOptions]) -> Self {
        let created_at_ms = now_ms();
        let hubs = hubs
            .iter()
            .map(|h| {
                let mut groups = h.consumer_groups.clone();
                if !groups.iter().any(|g| g == "$Default") {
                    groups.insert(0, "$Default".into());
                }
                let hub = Hub {
                    name: h.name.clone(),
                    created_at_ms,
                    partitions: (0..h.partition_count.max(1))
                        .map(|_| Arc::new(Partition::new()))
                        .collect(),
                    consumer_groups: groups,
                    round_robin: Mutex::new(0),
                };
                (h.name.to_ascii_lowercase(), Arc::new(hub))
            })
            .collect();
        Store { hubs }
    }

    /// The hub named `name` (case-insensitive).
    pub fn hub(&self, name: &str) -> Option<&Arc<Hub>> {
        self.hubs.get(&name.to_ascii_lowercase())
    }
}
