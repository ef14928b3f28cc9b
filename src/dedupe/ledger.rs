//! The dedupe ledger: which events of each partition a destination already holds, so that
//! events read again (after a crash, a takeover or a lost link) are not ingested twice.
//!
//! Only destinations whose sink keeps a durable, queryable record of what it ingested take
//! part (queued ingestion with dedupe tags, see [`crate::sink::Sink::resumable`]). Their batches
//! each hold one partition's events, so a batch covers one unbroken range of sequence numbers.
//! The ledger learns ranges from two places: the sink (what Data Explorer holds, asked when a
//! partition starts or is read again from an older position) and the events this process put
//! in batches itself (which Data Explorer may not show yet: queued ingestion is asynchronous,
//! and a batch may still be open).

use std::collections::HashMap;

/// An inclusive range of sequence numbers of one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SeqRange {
    /// First sequence number in the range.
    pub first: i64,
    /// Last sequence number in the range (inclusive).
    pub last: i64,
}

impl SeqRange {
    /// The range `first..=last`.
    pub fn new(first: i64, last: i64) -> Self {
        SeqRange {
            first: first.min(last),
            last: first.max(last),
        }
    }
}

/// Ranges kept per destination and partition; the lowest are forgotten beyond this (they lie
/// far behind the checkpoint and are never read again).
const MAX_RANGES: usize = 4096;

/// What one destination holds of one partition.
#[derive(Debug, Default)]
struct Holdings {
    /// Sorted by `first`, neither overlapping nor adjacent.
    ranges: Vec<SeqRange>,
    /// The last event this process put in a batch for this partition.
    last_taken: Option<i64>,
}

impl Holdings {
    fn covers(&self, seq: i64) -> bool {
        let i = self.ranges.partition_point(|r| r.first <= seq);
        i > 0 && self.ranges[i - 1].last >= seq
    }

    fn insert(&mut self, range: SeqRange) {
        let start = self
            .ranges
            .partition_point(|r| r.last.saturating_add(1) < range.first);
        let end = self
            .ranges
            .partition_point(|r| r.first <= range.last.saturating_add(1));
        let mut merged = range;
        if start < end {
            merged.first = merged.first.min(self.ranges[start].first);
            merged.last = merged.last.max(self.ranges[end - 1].last);
        }
        self.ranges.splice(start..end, [merged]);
        if self.ranges.len() > MAX_RANGES {
            let excess = self.ranges.len() - MAX_RANGES;
            self.ranges.drain(..excess);
        }
    }
}

/// The ledger of every resumable destination.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Per partition, per destination index.
    partitions: HashMap<String, Vec<Holdings>>,
    destinations: usize,
}

impl Ledger {
    /// An empty ledger for `destinations` destinations.
    pub fn new(destinations: usize) -> Self {
        Ledger {
            partitions: HashMap::new(),
            destinations,
        }
    }

    /// Whether `destination` already holds the rows of event `seq` of `partition`.
    pub fn covers(&self, destination: usize, partition: &str, seq: i64) -> bool {
        self.partitions
            .get(partition)
            .and_then(|d| d.get(destination))
            .is_some_and(|h| h.covers(seq))
    }

    /// Records ranges the sink reports as held.
    pub fn learn(
        &mut self,
        destination: usize,
        partition: &str,
        ranges: impl IntoIterator<Item = SeqRange>,
    ) {
        let holdings = self.holdings(destination, partition);
        for range in ranges {
            holdings.insert(range);
        }
    }

    /// Records that this process put the rows of event `seq` of `partition` in a batch.
    ///
    /// Events taken one after the other cover everything between them too: an event in
    /// between gave no rows to this destination, was dead-lettered or was already held, and
    /// reading it again must not produce rows either.
    pub fn taken(&mut self, destination: usize, partition: &str, seq: i64) {
        let holdings = self.holdings(destination, partition);
        let from = match holdings.last_taken {
            Some(previous) if previous < seq => previous + 1,
            _ => seq,
        };
        holdings.insert(SeqRange::new(from, seq));
        holdings.last_taken = Some(seq);
    }

    /// Forgets the chain of events taken from `partition` (it is read again from an older
    /// position): the next event taken does not extend the previous one.
    pub fn restart(&mut self, partition: &str) {
        if let Some(all) = self.partitions.get_mut(partition) {
            for holdings in all {
                holdings.last_taken = None;
            }
        }
    }

    fn holdings(&mut self, destination: usize, partition: &str) -> &mut Holdings {
        if !self.partitions.contains_key(partition) {
            let n = self.destinations.max(destination + 1);
            self.partitions.insert(
                partition.to_string(),
                (0..n).map(|_| Holdings::default()).collect(),
            );
        }
        let Some(all) = self.partitions.get_mut(partition) else {
            unreachable!("inserted above")
        };
        if all.len() <= destination {
            all.resize_with(destination + 1, Holdings::default);
        }
        &mut all[destination]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learned_ranges_cover_exactly_their_events() {
        let mut l = Ledger::new(2);
        l.learn(1, "3", [SeqRange::new(100, 199), SeqRange::new(300, 399)]);
        for (seq, held) in [
            (99, false),
            (100, true),
            (199, true),
            (200, false),
            (299, false),
            (300, true),
            (399, true),
            (400, false),
        ] {
            assert_eq!(l.covers(1, "3", seq), held, "seq {seq}");
        }
        assert!(!l.covers(0, "3", 150), "another destination");
        assert!(!l.covers(1, "4", 150), "another partition");
    }

    #[test]
    fn overlapping_and_adjacent_ranges_merge() {
        let mut h = Holdings::default();
        for r in [
            SeqRange::new(10, 19),
            SeqRange::new(30, 39),
            SeqRange::new(20, 29),
            SeqRange::new(35, 50),
            SeqRange::new(0, 5),
        ] {
            h.insert(r);
        }
        assert_eq!(h.ranges, vec![SeqRange::new(0, 5), SeqRange::new(10, 50)]);
    }

    #[test]
    fn events_taken_in_a_row_cover_the_events_between_them() {
        let mut l = Ledger::new(1);
        l.taken(0, "0", 10);
        l.taken(0, "0", 20);
        l.taken(0, "0", 25);
        assert!(
            l.covers(0, "0", 22),
            "an event between two taken events of the partition"
        );
        assert!(!l.covers(0, "0", 9));
        // Read again from an older position: the chain starts over.
        l.restart("0");
        l.taken(0, "0", 40);
        assert!(!l.covers(0, "0", 35));
        assert!(l.covers(0, "0", 40));
    }

    #[test]
    fn the_lowest_ranges_are_forgotten_beyond_the_limit() {
        let mut h = Holdings::default();
        for i in 0..(MAX_RANGES as i64 + 10) {
            h.insert(SeqRange::new(i * 10, i * 10 + 1));
        }
        assert_eq!(h.ranges.len(), MAX_RANGES);
        assert!(!h.covers(0));
        assert!(h.covers(MAX_RANGES as i64 * 10));
    }
}
