//! Batch stage: gathers the encoded rows of one destination until a batch is full (rows or
//! bytes) or old enough, then hands it to the sink as one multijson payload.
//!
//! A message's rows never straddle two batches, so a batch always covers whole events; a
//! message whose rows alone exceed `max_bytes` travels in a batch of its own.

use crate::checkpoint::{Span, Ticket};
use std::time::{Duration, Instant};

pub mod settings;

/// When a batch is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Close when this many rows are in the batch.
    pub max_rows: usize,
    /// Close before the uncompressed payload would exceed this many bytes.
    pub max_bytes: usize,
    /// Close when the oldest row has waited this long.
    pub max_age: Duration,
}

/// A closed batch: the multijson payload for one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Index of the destination in the configuration.
    pub destination: usize,
    /// One JSON object per line, in column order (uncompressed).
    pub payload: Vec<u8>,
    /// Number of rows in the payload.
    pub rows: usize,
    /// The events that contributed rows, in the order they were read.
    pub tickets: Vec<Ticket>,
    /// The partitions and sequence ranges those events cover; filled in by the pipeline as
    /// it sends the batch (the sink derives dedupe tags from it).
    pub origin: Vec<Span>,
}

impl Batch {
    /// Number of events that contributed rows.
    pub fn events(&self) -> usize {
        self.tickets.len()
    }
}

/// Accumulates rows for one destination.
#[derive(Debug)]
pub struct Batcher {
    destination: usize,
    limits: BatchLimits,
    payload: Vec<u8>,
    rows: usize,
    tickets: Vec<Ticket>,
    opened: Option<Instant>,
}

impl Batcher {
    /// An empty batcher for destination `destination`.
    pub fn new(destination: usize, limits: BatchLimits) -> Self {
        Batcher {
            destination,
            limits,
            payload: Vec::new(),
            rows: 0,
            tickets: Vec::new(),
            opened: None,
        }
    }

    /// Adds the rows one event (`ticket`) produced (`rows` lines of multijson in `payload`).
    ///
    /// Returns the batch that had to be closed to make room, if any, and closes the current
    /// one too when it is now full; callers send every returned batch, in order.
    pub fn push(
        &mut self,
        payload: &[u8],
        rows: usize,
        ticket: Ticket,
        now: Instant,
    ) -> Vec<Batch> {
        let mut closed = Vec::new();
        if rows == 0 {
            return closed;
        }
        let would_overflow = self.rows > 0
            && (self.payload.len() + payload.len() > self.limits.max_bytes
                || self.rows + rows > self.limits.max_rows);
        if would_overflow {
            closed.extend(self.take());
        }
        if self.opened.is_none() {
            self.opened = Some(now);
        }
        self.payload.extend_from_slice(payload);
        self.rows += rows;
        self.tickets.push(ticket);
        if self.rows >= self.limits.max_rows || self.payload.len() >= self.limits.max_bytes {
            closed.extend(self.take());
        }
        closed
    }

    /// When the current batch must be closed by age, if it holds anything.
    pub fn deadline(&self) -> Option<Instant> {
        self.opened.map(|t| t + self.limits.max_age)
    }

    /// Closes the batch if it is due at `now`.
    pub fn take_due(&mut self, now: Instant) -> Option<Batch> {
        match self.deadline() {
            Some(deadline) if deadline <= now => self.take(),
            _ => None,
        }
    }

    /// Closes the current batch, if it holds any rows.
    pub fn take(&mut self) -> Option<Batch> {
        if self.rows == 0 {
            return None;
        }
        self.opened = None;
        let capacity = self.payload.len();
        let batch = Batch {
            destination: self.destination,
            payload: std::mem::replace(&mut self.payload, Vec::with_capacity(capacity)),
            rows: std::mem::take(&mut self.rows),
            tickets: std::mem::take(&mut self.tickets),
            origin: Vec::new(),
        };
        Some(batch)
    }
}

/// The open batches of one destination: a single one, or one per partition when the
/// destination's batches must each hold one partition's events (so that each covers one
/// unbroken range of sequence numbers, see [`crate::dedupe`]).
#[derive(Debug)]
pub struct Lanes {
    destination: usize,
    limits: BatchLimits,
    per_partition: bool,
    /// Indexed by partition (the acknowledgement tracker's index), or a single lane.
    lanes: Vec<Batcher>,
}

impl Lanes {
    /// The lanes of destination `destination`.
    pub fn new(destination: usize, limits: BatchLimits, per_partition: bool) -> Self {
        Lanes {
            destination,
            limits,
            per_partition,
            lanes: vec![Batcher::new(destination, limits)],
        }
    }

    /// Whether each batch holds one partition's events.
    pub fn per_partition(&self) -> bool {
        self.per_partition
    }

    /// Adds one event's rows to its lane; returns the batches closed (see [`Batcher::push`]).
    pub fn push(
        &mut self,
        payload: &[u8],
        rows: usize,
        ticket: Ticket,
        now: Instant,
    ) -> Vec<Batch> {
        let lane = if self.per_partition {
            ticket.partition as usize
        } else {
            0
        };
        if lane >= self.lanes.len() {
            let (destination, limits) = (self.destination, self.limits);
            self.lanes
                .resize_with(lane + 1, || Batcher::new(destination, limits));
        }
        self.lanes[lane].push(payload, rows, ticket, now)
    }

    /// When the oldest open batch must be closed by age.
    pub fn deadline(&self) -> Option<Instant> {
        self.lanes.iter().filter_map(Batcher::deadline).min()
    }

    /// Closes the batches that are due at `now`.
    pub fn take_due(&mut self, now: Instant) -> impl Iterator<Item = Batch> + '_ {
        self.lanes.iter_mut().filter_map(move |b| b.take_due(now))
    }

    /// Closes every open batch.
    pub fn take_all(&mut self) -> impl Iterator<Item = Batch> + '_ {
        self.lanes.iter_mut().filter_map(Batcher::take)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Ticket = Ticket {
        partition: 0,
        slot: 0,
        sequence_number: 0,
    };

    fn limits() -> BatchLimits {
        BatchLimits {
            max_rows: 3,
            max_bytes: 20,
            max_age: Duration::from_millis(100),
        }
    }

    #[test]
    fn closes_on_rows() {
        let mut b = Batcher::new(0, limits());
        let t = Instant::now();
        assert!(b.push(b"{}\n", 1, T, t).is_empty());
        assert!(b.push(b"{}\n", 1, T, t).is_empty());
        let out = b.push(b"{}\n", 1, T, t);
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].rows, out[0].events(), out[0].payload.len()),
            (3, 3, 9)
        );
        assert!(b.take().is_none());
    }

    #[test]
    fn closes_on_bytes_before_rows() {
        let mut b = Batcher::new(0, limits());
        let t = Instant::now();
        // Two rows of 10 bytes reach max_bytes (20) while max_rows (3) is not reached.
        let row = b"{\"a\":\"x\"}\n";
        assert_eq!(row.len(), 10);
        assert!(b.push(row, 1, T, t).is_empty());
        let out = b.push(row, 1, T, t);
        assert_eq!(out.len(), 1, "the batch closed on its size");
        assert_eq!((out[0].rows, out[0].payload.len()), (2, 20));
        // A row that would carry a batch past max_bytes starts the next one.
        let long = b"{\"a\":\"xxxxxxxxx\"}\n";
        assert_eq!(long.len(), 18);
        assert!(b.push(b"{}\n", 1, T, t).is_empty());
        let out = b.push(long, 1, T, t);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].rows, &out[0].payload[..]), (1, &b"{}\n"[..]));
        assert_eq!(b.take().map(|b| (b.rows, b.payload.len())), Some((1, 18)));
    }

    #[test]
    fn an_event_never_straddles_batches() {
        let mut b = Batcher::new(0, limits());
        let t = Instant::now();
        b.push(b"{}\n", 1, T, t);
        let out = b.push(b"{}\n{}\n{}\n", 3, T, t);
        // The first batch closes to make room; the second is full at once.
        assert_eq!(out.iter().map(|b| b.rows).collect::<Vec<_>>(), vec![1, 3]);
    }

    #[test]
    fn oversize_event_gets_its_own_batch() {
        let mut b = Batcher::new(0, limits());
        let out = b.push(&[b'x'; 50], 1, T, Instant::now());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].payload.len(), 50);
    }

    #[test]
    fn closes_on_age() {
        let mut b = Batcher::new(2, limits());
        let t = Instant::now();
        assert!(b.deadline().is_none());
        b.push(b"{}\n", 1, T, t);
        assert_eq!(b.deadline(), Some(t + Duration::from_millis(100)));
        assert!(b.take_due(t + Duration::from_millis(50)).is_none());
        let batch = b.take_due(t + Duration::from_millis(100)).unwrap();
        assert_eq!(batch.destination, 2);
        assert!(b.deadline().is_none());
    }

    #[test]
    fn lanes_per_partition_keep_partitions_apart() {
        let t = Instant::now();
        let p = |partition| Ticket {
            partition,
            slot: 0,
            sequence_number: 0,
        };
        let mut shared = Lanes::new(0, limits(), false);
        assert!(shared.push(b"{}\n", 1, p(0), t).is_empty());
        assert!(shared.push(b"{}\n", 1, p(1), t).is_empty());
        assert_eq!(
            shared.take_all().map(|b| b.events()).collect::<Vec<_>>(),
            vec![2]
        );

        let mut split = Lanes::new(0, limits(), true);
        assert!(split.push(b"{}\n", 1, p(0), t).is_empty());
        assert!(split
            .push(b"{}\n", 1, p(3), t + Duration::from_millis(30))
            .is_empty());
        assert_eq!(split.deadline(), Some(t + Duration::from_millis(100)));
        let due: Vec<Batch> = split.take_due(t + Duration::from_millis(100)).collect();
        assert_eq!(
            due.iter()
                .map(|b| b.tickets[0].partition)
                .collect::<Vec<_>>(),
            vec![0]
        );
        assert_eq!(
            split
                .take_all()
                .map(|b| b.tickets[0].partition)
                .collect::<Vec<_>>(),
            vec![3]
        );
        assert!(split.deadline().is_none());
    }
}
