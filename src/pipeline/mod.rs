//! The pipeline: source → decode → route → transform → batch → sink → checkpoint, with
//! failures going to the dead-letter store.
//!
//! The source runs in a task of its own and hands events over a bounded channel. The rest runs
//! in one loop: each event is processed synchronously ([`Processor`]), its rows go to the
//! destination's batcher, and full or old batches are sent to the sink, several at once per
//! destination up to the sink's limit, each in a task of its own. While a destination has no
//! free slot, the loop stops taking events from the channel, so a slow or throttled sink slows
//! reading instead of filling memory. As deliveries complete, the [`AckTracker`] works out how
//! far each partition is done and the source's checkpointer is told.
//!
//! On shutdown the source stops, every open batch is sent, deliveries are awaited (for at most
//! [`DRAIN_GRACE`] after a signal) and the dead-letter store is flushed.

mod meters;
mod processor;
mod summary;

pub use processor::{Failure, Output, Processor};
pub use summary::{DestinationSummary, Summary};

use crate::ack::{AckTracker, Ticket};
use crate::batch::{Batch, Lanes};
use crate::config::DestinationSettings;
use crate::deadletter::{DeadLetter, DeadLetterError, DeadLetterStore, Stage};
use crate::event::SourceEvent;
use crate::resume::Ledger;
use crate::sink::{LateRejection, Outcome, Sink, SinkError};
use crate::source::{Checkpointer, Source, SourceError};
use meters::Meters;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::{Id, JoinError, JoinSet};
use tracing::Instrument;

/// Events read from the source per hand-over.
const READ_BATCH: usize = 1024;
/// Hand-overs that may wait in the channel: bounds memory to about 4 × 1024 events.
const CHANNEL_DEPTH: usize = 4;
/// How often the checkpointer hears from the pipeline even when nothing happens, so that
/// progress it held back (written at most every `checkpoint_every_ms`) reaches the store on
/// a quiet partition too.
const CHECKPOINT_TICK: Duration = Duration::from_secs(1);
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
}

/// A batch being delivered.
struct InFlight {
    destination: usize,
    rows: u64,
    tickets: Vec<Ticket>,
    /// The earliest enqueued time of its events (Unix milliseconds).
    oldest_enqueued_ms: Option<i64>,
    /// The batch's span: its delivery and what follows are logged inside it.
    span: tracing::Span,
}

/// Everything a run needs.
pub struct Pipeline<K: Sink> {
    processor: Processor,
    /// Open batches, per destination.
    batchers: Vec<Lanes>,
    /// What resumable destinations already hold, per partition.
    ledger: Ledger,
    /// The last sequence number read per partition, to notice a partition read again from an
    /// older position.
    last_seen: HashMap<String, i64>,
    sink: K,
    dead_letters: Box<dyn DeadLetterStore>,
    summary: Summary,
    acks: AckTracker,
    /// Closed batches waiting for a free slot, in closing order.
    waiting: VecDeque<Batch>,
    tasks: JoinSet<Result<Outcome, SinkError>>,
    in_flight: HashMap<Id, InFlight>,
    /// Deliveries in flight per destination.
    busy: Vec<usize>,
    drain_grace: Duration,
    meters: Meters,
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
        let names: Vec<&str> = destinations.iter().map(|d| d.name.as_str()).collect();
        let meters = Meters::new(&names);
        Pipeline {
            meters,
            ledger: Ledger::new(destinations.len()),
            processor: Processor::new(destinations),
            batchers,
            last_seen: HashMap::new(),
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

    /// Runs until the source is exhausted or `shutdown` completes, then drains and returns
    /// the summary.
    pub async fn run<S: Source>(
        mut self,
        mut source: S,
        shutdown: impl Future<Output = ()>,
    ) -> Result<Summary, PipelineError> {
        let started = Instant::now();
        let mut checkpointer = source.checkpointer();
        let (tx, mut rx) = mpsc::channel::<Result<Vec<SourceEvent>, SourceError>>(CHANNEL_DEPTH);
        let reader = tokio::spawn(read_source(source, tx));
        tokio::pin!(shutdown);
        let mut output = Output::new(self.batchers.len());
        let mut late = self.sink.late_rejections();
        let mut tick = tokio::time::interval(CHECKPOINT_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let deadline = self.batchers.iter().filter_map(Lanes::deadline).min();
            // Full destinations hold reading back: this is the backpressure.
            let can_read = self.waiting.is_empty();
            tokio::select! {
                biased;
                () = &mut shutdown => {
                    self.summary.interrupted = true;
                    break;
                }
                Some(done) = self.tasks.join_next_with_id(), if !self.tasks.is_empty() => self.complete(done)?,
                Some(rejection) = recv_late(&mut late) => self.late_rejection(rejection)?,
                () = sleep_until(deadline) => self.close_due(),
                _ = tick.tick() => {}
                received = rx.recv(), if can_read => match received {
                    Some(Ok(events)) => {
                        self.meters.received(&events);
                        self.resume(&events).await;
                        for event in &events {
                            self.handle(event, &mut output)?;
                        }
                    }
                    Some(Err(e)) => return Err(e.into()),
                    None => break,
                },
            }
            self.launch_waiting();
            self.checkpoint(&mut checkpointer).await?;
        }
        // Stop reading; events still in the channel were never processed and are not lost:
        // with a replayable source they are read again next time.
        drop(rx);
        reader.abort();
        for lanes in &mut self.batchers {
            self.waiting.extend(lanes.take_all());
        }
        self.launch_waiting();
        let grace = self
            .summary
            .interrupted
            .then(|| tokio::time::Instant::now() + self.drain_grace);
        while !self.tasks.is_empty() {
            let next = match grace {
                Some(until) => {
                    match tokio::time::timeout_at(until, self.tasks.join_next_with_id()).await {
                        Ok(next) => next,
                        Err(_) => break,
                    }
                }
                None => self.tasks.join_next_with_id().await,
            };
            let Some(done) = next else { break };
            self.complete(done)?;
            self.launch_waiting();
            self.checkpoint(&mut checkpointer).await?;
        }
        let abandoned = self.tasks.len() + self.waiting.len();
        self.summary.unconfirmed_batches = abandoned;
        if abandoned > 0 {
            tracing::warn!(
                batches = abandoned,
                events = self.acks.in_flight(),
                "stopping with deliveries unconfirmed: their events are read again from the last checkpoint"
            );
            self.tasks.abort_all();
        }
        self.dead_letters.flush()?;
        checkpointer.finish().await?;
        self.summary.acknowledged = self.acks.done();
        self.summary.elapsed = started.elapsed();
        Ok(self.summary)
    }

    fn handle(&mut self, event: &SourceEvent, output: &mut Output) -> Result<(), PipelineError> {
        self.summary.messages += 1;
        self.summary.bytes += event.body.len() as u64;
        let ticket = self.acks.open(
            &event.meta.partition,
            event.meta.sequence_number,
            &event.meta.offset,
            event.meta.enqueued_time.timestamp_millis(),
        );
        self.processor.process(event, output);
        for failure in &output.failures {
            let destination = failure
                .destination
                .map(|i| self.processor.destinations()[i].name.clone());
            tracing::debug!(stage = %failure.stage, destination = destination.as_deref(), location = %event.meta.location(), reason = %failure.reason, "dead-lettered");
            let letter = DeadLetter::new(
                event,
                failure.stage,
                failure.kind,
                failure.reason.clone(),
                destination,
            );
            self.dead_letters.put(&letter)?;
            *self.summary.dead_letters.entry(failure.stage).or_default() += 1;
            self.meters.dead_letter(failure.stage, failure.kind, 1);
        }
        if output.matched() == 0 && output.failures.is_empty() {
            self.summary.unrouted += 1;
            self.meters.unrouted();
        }
        let now = Instant::now();
        for i in 0..self.batchers.len() {
            if output.accepted(i) {
                self.summary.destinations[i].matched += 1;
                self.meters.destinations[i].routed.inc();
            }
            let (rows, count) = output.rows(i);
            if count == 0 {
                continue;
            }
            self.meters.destinations[i].produced.inc_by(count as u64);
            if self.batchers[i].per_partition()
                && self
                    .ledger
                    .covers(i, &event.meta.partition, event.meta.sequence_number)
            {
                // Read again after a restart or a takeover, and already in the table.
                self.summary.destinations[i].skipped += count as u64;
                self.meters.destinations[i].skipped.inc_by(count as u64);
                continue;
            }
            if self.batchers[i].per_partition() {
                self.ledger
                    .taken(i, &event.meta.partition, event.meta.sequence_number);
            }
            self.acks.add_batch_ref(ticket);
            self.waiting
                .extend(self.batchers[i].push(rows, count, ticket, now));
        }
        // Dead letters are written before the event can count as done.
        self.acks.release(ticket);
        Ok(())
    }

    fn close_due(&mut self) {
        let now = Instant::now();
        for lanes in &mut self.batchers {
            self.waiting.extend(lanes.take_due(now));
        }
    }

    /// Before events are processed: for each partition seen for the first time, or read again
    /// from an older position, asks the sink what each resumable destination already holds
    /// of it. A failed lookup is logged and the run goes on (rows may then come twice, but
    /// none is lost).
    async fn resume(&mut self, events: &[SourceEvent]) {
        let resumable: Vec<usize> = (0..self.batchers.len())
            .filter(|&i| self.batchers[i].per_partition())
            .collect();
        if resumable.is_empty() {
            return;
        }
        let mut starts: Vec<String> = Vec::new();
        for event in events {
            let (partition, seq) = (&event.meta.partition, event.meta.sequence_number);
            let restarted = match self.last_seen.get_mut(partition.as_str()) {
                Some(last) => std::mem::replace(last, seq) >= seq,
                None => {
                    self.last_seen.insert(partition.clone(), seq);
                    true
                }
            };
            if restarted && !starts.contains(partition) {
                starts.push(partition.clone());
            }
        }
        for partition in starts {
            self.ledger.restart(&partition);
            for &d in &resumable {
                match self.sink.ingested(d, &partition).await {
                    Ok(ranges) => {
                        tracing::debug!(destination = %self.processor.destinations()[d].name, partition = %partition, ranges = ranges.len(), "looked up what the table already holds");
                        self.ledger.learn(d, &partition, ranges);
                    }
                    Err(e) => tracing::warn!(
                        destination = %self.processor.destinations()[d].name,
                        partition = %partition,
                        error = %e,
                        "cannot tell which events the table already holds: events read again may be ingested twice"
                    ),
                }
            }
        }
    }

    /// Sends waiting batches whose destination has a free slot, keeping each destination's
    /// batches in order.
    fn launch_waiting(&mut self) {
        if self.waiting.is_empty() {
            return;
        }
        let limit = self.sink.max_in_flight().max(1);
        let mut blocked = vec![false; self.busy.len()];
        let mut kept = VecDeque::new();
        while let Some(mut batch) = self.waiting.pop_front() {
            let d = batch.destination;
            if blocked[d] || self.busy[d] >= limit {
                blocked[d] = true;
                kept.push_back(batch);
                continue;
            }
            batch.origin = self.acks.spans(&batch.tickets);
            let meters = &self.meters.destinations[d];
            meters.batch_rows.observe(batch.rows as f64);
            meters.batch_bytes.observe(batch.payload.len() as f64);
            let partitions: Vec<&str> = batch.origin.iter().map(|s| s.partition.as_str()).collect();
            let span = tracing::info_span!(
                "batch",
                destination = %self.processor.destinations()[d].name,
                partition = %partitions.join(","),
                rows = batch.rows,
                bytes = batch.payload.len(),
            );
            let flight = InFlight {
                destination: d,
                rows: batch.rows as u64,
                oldest_enqueued_ms: self.acks.oldest_enqueued_ms(&batch.tickets),
                tickets: std::mem::take(&mut batch.tickets),
                span: span.clone(),
            };
            let handle = self.tasks.spawn(self.sink.deliver(batch).instrument(span));
            self.in_flight.insert(handle.id(), flight);
            self.busy[d] += 1;
        }
        self.waiting = kept;
    }

    fn complete(
        &mut self,
        done: Result<(Id, Result<Outcome, SinkError>), JoinError>,
    ) -> Result<(), PipelineError> {
        let (id, result) = match done {
            Ok((id, result)) => (id, result),
            Err(e) => {
                let destination = self
                    .in_flight
                    .get(&e.id())
                    .map_or(usize::MAX, |f| f.destination);
                return Err(SinkError::Aborted {
                    destination,
                    reason: e.to_string(),
                }
                .into());
            }
        };
        let Some(flight) = self.in_flight.remove(&id) else {
            return Ok(());
        };
        self.busy[flight.destination] -= 1;
        let d = flight.destination;
        let _span = flight.span.enter();
        match result? {
            Outcome::Accepted(delivery) => {
                let meters = &self.meters.destinations[d];
                meters.ingested.inc_by(flight.rows);
                if let Some(oldest) = flight.oldest_enqueued_ms {
                    let now = chrono::Utc::now().timestamp_millis();
                    meters
                        .latency
                        .observe((now - oldest).max(0) as f64 / 1000.0);
                }
                tracing::debug!(target = %delivery.target, sent_bytes = delivery.bytes, "batch accepted");
                let summary = &mut self.summary.destinations[d];
                summary.rows += flight.rows;
                summary.batches += 1;
                summary.bytes += delivery.bytes;
                summary.last_target = Some(delivery.target);
            }
            Outcome::Rejected { reason, payload } => {
                let name = self.processor.destinations()[d].name.clone();
                let spans = self.acks.spans(&flight.tickets);
                tracing::warn!(destination = %name, rows = flight.rows, %reason, "Data Explorer refused a batch: its rows are dead-lettered");
                self.dead_letters
                    .put(&DeadLetter::for_rows(reason, name, spans, &payload))?;
                // The letter must be durable before its events may be checkpointed.
                self.dead_letters.flush()?;
                *self.summary.dead_letters.entry(Stage::Ingest).or_default() +=
                    flight.tickets.len() as u64;
                self.meters
                    .dead_letter(Stage::Ingest, "rejected", flight.tickets.len() as u64);
            }
        }
        for ticket in flight.tickets {
            self.acks.release(ticket);
        }
        Ok(())
    }

    fn late_rejection(&mut self, r: LateRejection) -> Result<(), PipelineError> {
        // Events are unknown when the batch's blob could not be read: count the letter.
        let events: u64 = r.events.iter().map(|s| s.events as u64).sum::<u64>().max(1);
        let receipt = r.receipt;
        self.dead_letters.put(&DeadLetter::for_late_failure(
            r.reason,
            r.destination,
            r.events,
            r.blob,
            r.rows.as_deref(),
        ))?;
        self.dead_letters.flush()?;
        if let Some(receipt) = receipt {
            self.sink.late_rejection_stored(receipt);
        }
        *self.summary.dead_letters.entry(Stage::Ingest).or_default() += events;
        self.meters
            .dead_letter(Stage::Ingest, "failed_after_queueing", events);
        Ok(())
    }

    async fn checkpoint<C: Checkpointer>(
        &mut self,
        checkpointer: &mut C,
    ) -> Result<(), PipelineError> {
        let progress = self.acks.take_progress();
        if !progress.is_empty() {
            // Dead letters of the events being checkpointed must be durable first.
            self.dead_letters.flush()?;
        }
        // Also with nothing new: the checkpointer may write what it held back.
        checkpointer.commit(progress).await?;
        Ok(())
    }
}

async fn recv_late(late: &mut Option<mpsc::Receiver<LateRejection>>) -> Option<LateRejection> {
    match late {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

async fn read_source<S: Source>(
    mut source: S,
    tx: mpsc::Sender<Result<Vec<SourceEvent>, SourceError>>,
) {
    loop {
        let next = source.next_batch(READ_BATCH).await;
        let done = !matches!(next, Ok(Some(_)));
        let message = match next {
            Ok(Some(events)) => Ok(events),
            Ok(None) => return,
            Err(e) => Err(e),
        };
        if tx.send(message).await.is_err() || done {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
