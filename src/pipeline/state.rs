//! Everything a run holds: the [`Pipeline`] (processor, batchers, lookups, sink, dead letters,
//! deliveries in flight, counters) and why a run stops ([`PipelineError`]). The loop
//! (`mod.rs`) and the delivery bookkeeping (`deliveries.rs`) both work on it.

use super::lookups::Lookups;
use super::metrics::Meters;
use super::processor::Processor;
use super::summary::{DestinationSummary, Summary};
use crate::batch::{Batch, Lanes};
use crate::checkpoint::{AckTracker, CheckpointError, Ticket};
use crate::deadletter::{DeadLetterError, DeadLetterStore};
use crate::destination::DestinationSettings;
use crate::sink::{Outcome, Sink, SinkError};
use crate::source::SourceError;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::task::{Id, JoinSet};

/// After a shutdown signal, how long deliveries in flight may take to finish, unless
/// [`Pipeline::with_drain_grace`] says otherwise. Kubernetes allows 30 s by default between
/// SIGTERM and SIGKILL; what is not confirmed by then is read again from the last checkpoint.
pub const DRAIN_GRACE: Duration = Duration::from_secs(25);

/// A run stopped on an error that would otherwise lose data.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The source failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The sink failed.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// A dead letter could not be stored.
    #[error(transparent)]
    DeadLetter(#[from] DeadLetterError),
    /// A checkpoint could not be written.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

/// Everything a run needs.
pub struct Pipeline<K: Sink> {
    pub(super) processor: Processor,
    /// Open batches, per destination.
    pub(super) batchers: Vec<Lanes>,
    /// What resumable destinations already hold, and the lookups that tell.
    pub(super) lookups: Lookups,
    pub(super) sink: K,
    pub(super) dead_letters: Box<dyn DeadLetterStore>,
    pub(super) summary: Summary,
    pub(super) acks: AckTracker,
    /// Closed batches waiting for a free slot, in closing order.
    pub(super) waiting: VecDeque<Batch>,
    pub(super) tasks: JoinSet<Result<Outcome, SinkError>>,
    pub(super) in_flight: HashMap<Id, InFlight>,
    /// Deliveries in flight per destination.
    pub(super) busy: Vec<usize>,
    pub(super) drain_grace: Duration,
    pub(super) meters: Meters,
}

impl<K: Sink> Pipeline<K> {
    /// Builds a pipeline over these destinations.
    pub fn new(
        destinations: Vec<DestinationSettings>,
        sink: K,
        dead_letters: Box<dyn DeadLetterStore>,
    ) -> Self {
        let batchers = destinations
            .iter()
            .enumerate()
            .map(|(i, d)| Lanes::new(i, d.batch, sink.resumable(i)))
            .collect();
        let summary = Summary {
            destinations: destinations
                .iter()
                .map(|d| DestinationSummary {
                    name: d.name.clone(),
                    table: format!("{}.{}", d.database, d.table),
                    ..DestinationSummary::default()
                })
                .collect(),
            dead_letter_location: dead_letters.location(),
            ..Summary::default()
        };
        let busy = vec![0; destinations.len()];
        let names: Vec<String> = destinations.iter().map(|d| d.name.clone()).collect();
        let meters = Meters::new(&names.iter().map(String::as_str).collect::<Vec<_>>());
        Pipeline {
            meters,
            lookups: Lookups::new(&names, |i| sink.resumable(i)),
            processor: Processor::new(destinations),
            batchers,
            sink,
            dead_letters,
            summary,
            acks: AckTracker::new(),
            waiting: VecDeque::new(),
            tasks: JoinSet::new(),
            in_flight: HashMap::new(),
            busy,
            drain_grace: DRAIN_GRACE,
        }
    }

    /// Sets how long deliveries in flight may take after a shutdown signal.
    pub fn with_drain_grace(mut self, grace: Duration) -> Self {
        self.drain_grace = grace;
        self
    }
}

/// A batch being delivered.
pub(super) struct InFlight {
    pub(super) destination: usize,
    pub(super) rows: u64,
    pub(super) tickets: Vec<Ticket>,
    /// The earliest enqueued time of its events (Unix milliseconds).
    pub(super) oldest_enqueued_ms: Option<i64>,
    /// The batch's span: its delivery and what follows are logged inside it.
    pub(super) span: tracing::Span,
}
