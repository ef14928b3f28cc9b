//! Acknowledgements: decide how far each source partition may be checkpointed.
//!
//! An event is *done* once every batch holding its rows was accepted by the sink (or
//! dead-lettered), or at once when it gave no rows at all (unrouted, or dead-lettered while
//! processing). Batches complete out of order (several are in flight per destination), but a
//! partition's checkpoint only moves across an unbroken run of done events: the checkpoint is
//! the last event of the longest done prefix. A crash therefore replays from the first event
//! not yet done, and nothing accepted-but-unchecked is ever skipped.

use std::collections::{HashMap, VecDeque};

/// Identifies one event in flight: its partition (by index) and its place in that
/// partition's queue. Batches carry the tickets of the events whose rows they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ticket {
    /// Index of the partition in the tracker's table (see [`AckTracker::partition_name`]).
    pub partition: u32,
    /// Position in the partition's queue (0, 1, 2, ... in read order).
    pub slot: u64,
    /// The event's sequence number in its partition, for dedupe tags and logs.
    pub sequence_number: i64,
}

/// The events of one partition that a batch covers, for dedupe tags and dead letters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Span {
    /// Partition id.
    pub partition: String,
    /// Sequence number of the batch's first event from this partition.
    pub first: i64,
    /// Sequence number of its last event from this partition.
    pub last: i64,
    /// How many of its events the batch holds.
    pub events: usize,
}

/// Where a partition may be checkpointed: every event up to and including this one is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// Partition id, as the source names it.
    pub partition: String,
    /// Sequence number of the last done event.
    pub sequence_number: i64,
    /// Offset of the last done event.
    pub offset: String,
}

#[derive(Debug)]
struct Pending {
    /// Batches still holding rows of this event.
    remaining: u32,
    sequence_number: i64,
    offset: String,
    /// When the hub accepted the event, in Unix milliseconds (for end-to-end latency).
    enqueued_ms: i64,
}

#[derive(Debug)]
struct Partition {
    name: String,
    /// Slot of the queue's front element.
    base: u64,
    queue: VecDeque<Pending>,
    /// Progress not yet handed out by [`AckTracker::take_progress`].
    advanced: Option<Progress>,
    /// The highest sequence number handed out: a partition read again from an older
    /// checkpoint (a new reader after a lost link) must not move its checkpoint back.
    high: Option<i64>,
}

/// Tracks every event from the moment it is read until it is done.
#[derive(Debug, Default)]
pub struct AckTracker {
    partitions: Vec<Partition>,
    index: HashMap<String, u32>,
    in_flight: usize,
    done: u64,
}

impl AckTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        AckTracker::default()
    }

    /// Registers an event just read; its rows will go into batches that each call
    /// [`AckTracker::add_batch_ref`] as they take them. `enqueued_ms` is when the hub
    /// accepted it (Unix milliseconds).
    pub fn open(
        &mut self,
        partition: &str,
        sequence_number: i64,
        offset: &str,
        enqueued_ms: i64,
    ) -> Ticket {
        let p = match self.index.get(partition) {
            Some(&p) => p,
            None => {
                let p = self.partitions.len() as u32;
                self.partitions.push(Partition {
                    name: partition.to_string(),
                    base: 0,
                    queue: VecDeque::new(),
                    advanced: None,
                    high: None,
                });
                self.index.insert(partition.to_string(), p);
                p
            }
        };
        let part = &mut self.partitions[p as usize];
        let slot = part.base + part.queue.len() as u64;
        // One reference held by the pipeline until the event's rows are all in batchers.
        part.queue.push_back(Pending {
            remaining: 1,
            sequence_number,
            offset: offset.to_string(),
            enqueued_ms,
        });
        self.in_flight += 1;
        Ticket {
            partition: p,
            slot,
            sequence_number,
        }
    }

    /// Records that one more batch holds rows of `ticket`'s event.
    pub fn add_batch_ref(&mut self, ticket: Ticket) {
        if let Some(p) = self.pending_mut(ticket) {
            p.remaining += 1;
        }
    }

    /// Releases one reference of `ticket`'s event: the pipeline's own once the event is
    /// fully processed, or a batch's once that batch is accepted or dead-lettered.
    pub fn release(&mut self, ticket: Ticket) {
        let Some(p) = self.pending_mut(ticket) else {
            return;
        };
        p.remaining = p.remaining.saturating_sub(1);
        if p.remaining == 0 {
            self.advance(ticket.partition);
        }
    }

    /// The partition name behind an index.
    pub fn partition_name(&self, partition: u32) -> &str {
        self.partitions
            .get(partition as usize)
            .map_or("", |p| p.name.as_str())
    }

    /// The partitions and sequence ranges `tickets` cover, in partition order of first appearance.
    pub fn spans(&self, tickets: &[Ticket]) -> Vec<Span> {
        let mut spans: Vec<(u32, Span)> = Vec::new();
        for t in tickets {
            match spans.iter_mut().find(|(p, _)| *p == t.partition) {
                Some((_, s)) => {
                    s.first = s.first.min(t.sequence_number);
                    s.last = s.last.max(t.sequence_number);
                    s.events += 1;
                }
                None => spans.push((
                    t.partition,
                    Span {
                        partition: self.partition_name(t.partition).to_string(),
                        first: t.sequence_number,
                        last: t.sequence_number,
                        events: 1,
                    },
                )),
            }
        }
        spans.into_iter().map(|(_, s)| s).collect()
    }

    /// The earliest enqueued time (Unix milliseconds) of the events behind `tickets` that are
    /// not done yet; what a batch's end-to-end latency is measured from.
    pub fn oldest_enqueued_ms(&self, tickets: &[Ticket]) -> Option<i64> {
        tickets
            .iter()
            .filter_map(|&t| self.pending(t))
            .map(|p| p.enqueued_ms)
            .min()
    }

    /// Events read but not yet done.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Events done since the start.
    pub fn done(&self) -> u64 {
        self.done
    }

    /// The partitions whose checkpoint moved since the last call, with where to.
    pub fn take_progress(&mut self) -> Vec<Progress> {
        self.partitions
            .iter_mut()
            .filter_map(|p| p.advanced.take())
            .collect()
    }

    fn pending(&self, ticket: Ticket) -> Option<&Pending> {
        let part = self.partitions.get(ticket.partition as usize)?;
        let i = ticket.slot.checked_sub(part.base)?;
        part.queue.get(usize::try_from(i).ok()?)
    }

    fn pending_mut(&mut self, ticket: Ticket) -> Option<&mut Pending> {
        let part = self.partitions.get_mut(ticket.partition as usize)?;
        let i = ticket.slot.checked_sub(part.base)?;
        part.queue.get_mut(usize::try_from(i).ok()?)
    }

    fn advance(&mut self, partition: u32) {
        let part = &mut self.partitions[partition as usize];
        let mut last = None;
        while part.queue.front().is_some_and(|p| p.remaining == 0) {
            last = part.queue.pop_front();
            part.base += 1;
            self.in_flight -= 1;
            self.done += 1;
        }
        if let Some(p) = last {
            if part.high.is_none_or(|h| p.sequence_number > h) {
                part.high = Some(p.sequence_number);
                part.advanced = Some(Progress {
                    partition: part.name.clone(),
                    sequence_number: p.sequence_number,
                    offset: p.offset,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(progress: &[Progress]) -> Vec<(String, i64)> {
        progress
            .iter()
            .map(|p| (p.partition.clone(), p.sequence_number))
            .collect()
    }

    #[test]
    fn an_event_without_rows_is_done_when_processed() {
        let mut t = AckTracker::new();
        let a = t.open("0", 10, "100", 0);
        t.release(a);
        assert_eq!(seqs(&t.take_progress()), vec![("0".into(), 10)]);
        assert!(t.take_progress().is_empty());
        assert_eq!((t.in_flight(), t.done()), (0, 1));
    }

    #[test]
    fn checkpoint_waits_for_the_oldest_batch() {
        let mut t = AckTracker::new();
        let a = t.open("0", 1, "a", 0);
        let b = t.open("0", 2, "b", 0);
        // a in batch X, b in batch Y; both fully processed.
        t.add_batch_ref(a);
        t.add_batch_ref(b);
        t.release(a);
        t.release(b);
        // Y completes first: nothing may move, a is not done.
        t.release(b);
        assert!(t.take_progress().is_empty());
        t.release(a);
        assert_eq!(seqs(&t.take_progress()), vec![("0".into(), 2)]);
        assert_eq!(t.in_flight(), 0);
    }

    #[test]
    fn partitions_advance_independently() {
        let mut t = AckTracker::new();
        let a = t.open("0", 5, "a", 0);
        let b = t.open("1", 7, "b", 0);
        t.add_batch_ref(a);
        t.release(a);
        t.release(b);
        assert_eq!(seqs(&t.take_progress()), vec![("1".into(), 7)]);
        assert_eq!(t.partition_name(a.partition), "0");
        t.release(a);
        assert_eq!(seqs(&t.take_progress()), vec![("0".into(), 5)]);
    }

    #[test]
    fn an_event_in_two_batches_needs_both() {
        let mut t = AckTracker::new();
        let a = t.open("0", 1, "a", 0);
        t.add_batch_ref(a);
        t.add_batch_ref(a);
        t.release(a);
        t.release(a);
        assert!(t.take_progress().is_empty());
        t.release(a);
        assert_eq!(t.take_progress().len(), 1);
    }

    #[test]
    fn the_oldest_enqueued_time_of_a_batch_counts_only_events_not_done() {
        let mut t = AckTracker::new();
        let a = t.open("0", 1, "a", 5_000);
        let b = t.open("1", 1, "b", 3_000);
        let c = t.open("0", 2, "c", 4_000);
        assert_eq!(t.oldest_enqueued_ms(&[a, c]), Some(4_000));
        assert_eq!(t.oldest_enqueued_ms(&[a, b, c]), Some(3_000));
        t.release(b);
        assert_eq!(
            t.oldest_enqueued_ms(&[b]),
            None,
            "done events are forgotten"
        );
    }

    #[test]
    fn spans_group_by_partition() {
        let mut t = AckTracker::new();
        let tickets = [
            t.open("0", 4, "a", 0),
            t.open("1", 9, "b", 0),
            t.open("0", 6, "c", 0),
        ];
        let spans = t.spans(&tickets);
        assert_eq!(spans.len(), 2);
        assert_eq!(
            (
                spans[0].partition.as_str(),
                spans[0].first,
                spans[0].last,
                spans[0].events
            ),
            ("0", 4, 6, 2)
        );
        assert_eq!(
            (spans[1].partition.as_str(), spans[1].first, spans[1].last),
            ("1", 9, 9)
        );
    }

    #[test]
    fn a_partition_read_again_never_moves_back() {
        let mut t = AckTracker::new();
        for seq in [10, 11] {
            let k = t.open("0", seq, "x", 0);
            t.release(k);
        }
        assert_eq!(seqs(&t.take_progress()), vec![("0".into(), 11)]);
        // A new reader starts again from the checkpoint at 9.
        for seq in [10, 11] {
            let k = t.open("0", seq, "x", 0);
            t.release(k);
        }
        assert!(t.take_progress().is_empty());
        let k = t.open("0", 12, "x", 0);
        t.release(k);
        assert_eq!(seqs(&t.take_progress()), vec![("0".into(), 12)]);
    }

    #[test]
    fn stale_tickets_are_ignored() {
        let mut t = AckTracker::new();
        let a = t.open("0", 1, "a", 0);
        t.release(a);
        t.release(a);
        t.release(Ticket {
            partition: 9,
            slot: 0,
            sequence_number: 0,
        });
        assert_eq!(t.done(), 1);
    }
}
