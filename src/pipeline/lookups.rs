//! Dedupe lookups beside the read loop. When a partition is seen for the first time, or read
//! again from an older position, each resumable destination's sink is asked which of its
//! events the table already holds ([`Sink::ingested`], a query to Data Explorer). The lookup
//! runs as a task of its own; meanwhile that partition's events wait here, in read order and
//! with their acknowledgement tickets open (so no checkpoint passes them), while the loop goes
//! on with other partitions, deliveries, batch deadlines, checkpoints and shutdown.
//!
//! A failed lookup is logged and the partition's events go on (rows may then come twice, but
//! none is lost). When a partition is read again while its events wait, the event where that
//! happened is marked: the next lookup starts once the events before it have been processed.

use crate::checkpoint::Ticket;
use crate::dedupe::{Ledger, SeqRange};
use crate::event::SourceEvent;
use crate::sink::{Sink, SinkError};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::{Id, JoinError, JoinSet};

/// Lookups that query Data Explorer at once; the others wait for a turn (at start-up every
/// partition asks, and management commands share a cluster-wide concurrency limit).
const CONCURRENT_LOOKUPS: usize = 4;

/// What a lookup task answers: per resumable destination, the ranges its table holds.
pub(super) type Answers = Vec<(usize, Result<Vec<SeqRange>, SinkError>)>;

/// An event read while its partition's lookup was under way.
struct Waiting {
    event: SourceEvent,
    ticket: Ticket,
    /// The partition was read again from an older position at this event: another lookup
    /// is due before it is processed.
    read_again: bool,
}

/// The dedupe state of the resumable destinations: the ledger, and the lookups filling it.
pub(super) struct Lookups {
    /// Indices and names of the destinations whose sink can tell what their table holds.
    resumable: Vec<(usize, String)>,
    /// What those destinations hold, per partition.
    pub ledger: Ledger,
    /// The last sequence number read per partition, to notice a partition read again.
    last_seen: HashMap<String, i64>,
    /// The partitions whose lookup is under way, with the events read since.
    waiting: HashMap<String, VecDeque<Waiting>>,
    /// Events in `waiting`.
    held: usize,
    tasks: JoinSet<Answers>,
    /// The partition each lookup task asks about.
    asking: HashMap<Id, String>,
    turns: Arc<Semaphore>,
}

impl Lookups {
    /// Lookups for the destinations named `names` (in configuration order), of which those
    /// in `resumable` can be asked.
    pub fn new(names: &[String], resumable: impl Fn(usize) -> bool) -> Self {
        Lookups {
            resumable: (names.iter().enumerate())
                .filter(|(i, _)| resumable(*i))
                .map(|(i, name)| (i, name.clone()))
                .collect(),
            ledger: Ledger::new(names.len()),
            last_seen: HashMap::new(),
            waiting: HashMap::new(),
            held: 0,
            tasks: JoinSet::new(),
            asking: HashMap::new(),
            turns: Arc::new(Semaphore::new(CONCURRENT_LOOKUPS)),
        }
    }

    /// Takes an event just read: gives it back when it may be processed now, or keeps it
    /// until its partition's lookup answers (starting one if the partition is new or read
    /// again).
    pub fn admit<K: Sink>(
        &mut self,
        sink: &K,
        event: SourceEvent,
        ticket: Ticket,
    ) -> Option<(SourceEvent, Ticket)> {
        if self.resumable.is_empty() {
            return Some((event, ticket));
        }
        let (partition, seq) = (&event.meta.partition, event.meta.sequence_number);
        let read_again = match self.last_seen.get_mut(partition.as_str()) {
            Some(last) => std::mem::replace(last, seq) >= seq,
            None => {
                self.last_seen.insert(partition.clone(), seq);
                true
            }
        };
        if let Some(queue) = self.waiting.get_mut(partition.as_str()) {
            queue.push_back(Waiting {
                event,
                ticket,
                read_again,
            });
            self.held += 1;
            return None;
        }
        if !read_again {
            return Some((event, ticket));
        }
        let partition = partition.clone();
        self.start(sink, &partition);
        let first = Waiting {
            event,
            ticket,
            read_again: false,
        };
        self.waiting.insert(partition, VecDeque::from([first]));
        self.held += 1;
        None
    }

    /// Whether a lookup is under way.
    pub fn busy(&self) -> bool {
        !self.tasks.is_empty()
    }

    /// Events waiting for a lookup.
    pub fn held(&self) -> usize {
        self.held
    }

    /// The next lookup to answer; pending forever while none is under way.
    pub async fn next(&mut self) -> Result<(Id, Answers), JoinError> {
        match self.tasks.join_next_with_id().await {
            Some(done) => done,
            None => std::future::pending().await,
        }
    }

    /// Learns a lookup's answer and gives back its partition with the events that may now be
    /// processed, in read order: all of them, or those before the point where the partition
    /// was read again. Call [`Lookups::processed`] once they are.
    pub fn answered(
        &mut self,
        done: Result<(Id, Answers), JoinError>,
    ) -> Option<(String, Vec<(SourceEvent, Ticket)>)> {
        let id = match &done {
            Ok((id, _)) => *id,
            Err(e) => e.id(),
        };
        let partition = self.asking.remove(&id)?;
        match done {
            Ok((_, answers)) => self.learn(&partition, answers),
            Err(e) => {
                tracing::warn!(partition = %partition, error = %e, "a lookup of what the table already holds ended abnormally: events read again may be ingested twice")
            }
        }
        let queue = self.waiting.get_mut(&partition)?;
        let mut ready = Vec::new();
        while let Some(next) = queue.pop_front() {
            if next.read_again {
                queue.push_front(next);
                break;
            }
            ready.push((next.event, next.ticket));
        }
        self.held -= ready.len();
        if queue.is_empty() {
            self.waiting.remove(&partition);
        }
        Some((partition, ready))
    }

    /// The events [`Lookups::answered`] gave back are processed: if `partition` was read
    /// again after them, the lookup for the rest of its events starts now.
    pub fn processed<K: Sink>(&mut self, sink: &K, partition: &str) {
        let Some(queue) = self.waiting.get_mut(partition) else {
            return;
        };
        let due = match queue.front_mut() {
            Some(next) if next.read_again => {
                next.read_again = false;
                true
            }
            _ => false,
        };
        if due {
            self.start(sink, partition);
        }
    }

    /// Stops every lookup; the events waiting are dropped (their tickets stay open, so they
    /// are read again from the last checkpoint).
    pub fn abandon(&mut self) -> usize {
        self.tasks.abort_all();
        self.waiting.clear();
        std::mem::take(&mut self.held)
    }

    /// Asks every resumable destination's sink about `partition` in a task of its own. The
    /// chain of events taken from it starts over (it is read from a new position).
    fn start<K: Sink>(&mut self, sink: &K, partition: &str) {
        self.ledger.restart(partition);
        let asks: Vec<_> = (self.resumable.iter())
            .map(|&(d, _)| (d, sink.ingested(d, partition)))
            .collect();
        let turns = self.turns.clone();
        let handle = self.tasks.spawn(async move {
            // Closed never: a failed acquire only means asking without waiting for a turn.
            let _turn = turns.acquire_owned().await;
            let mut answers = Vec::with_capacity(asks.len());
            for (d, ask) in asks {
                answers.push((d, ask.await));
            }
            answers
        });
        self.asking.insert(handle.id(), partition.to_string());
    }

    fn learn(&mut self, partition: &str, answers: Answers) {
        for (d, answer) in answers {
            let name = (self.resumable.iter())
                .find(|(i, _)| *i == d)
                .map_or("", |(_, name)| name.as_str());
            match answer {
                Ok(ranges) => {
                    tracing::debug!(destination = %name, partition = %partition, ranges = ranges.len(), "looked up what the table already holds");
                    self.ledger.learn(d, partition, ranges);
                }
                Err(e) => tracing::warn!(
                    destination = %name,
                    partition = %partition,
                    error = %e,
                    "cannot tell which events the table already holds: events read again may be ingested twice"
                ),
            }
        }
    }
}
