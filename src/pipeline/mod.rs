//! The pipeline: source → decode → route → transform → batch → sink → checkpoint, with
//! failures going to the dead-letter store.
//!
//! The source runs in a task of its own and hands events over a bounded channel. The rest runs
//! in one loop: each event is processed synchronously ([`Processor`]), its rows go to the
//! destination's batcher, and full or old batches are sent to the sink, several at once per
//! destination up to the sink's limit, each in a task of its own. While a destination has no
//! free slot, the loop stops taking events from the channel, so a slow or throttled sink slows
//! reading instead of filling memory. As deliveries complete, the [`AckTracker`](crate::checkpoint::AckTracker) works out how
//! far each partition is done and the source's checkpointer is told.
//!
//! The loop never waits on the network itself: deliveries (`deliveries`), dedupe lookups
//! (`lookups`) and checkpoint writes ([`CheckpointWriter`]) run in tasks of their own and
//! report back through the loop's `select!`, so a slow answer holds back only what depends
//! on it.
//!
//! On shutdown the source stops, every open batch is sent, deliveries are awaited (for at most
//! [`DRAIN_GRACE`] after a signal) and the dead-letter store is flushed.

mod deliveries;
mod lookups;
mod metrics;
mod processor;
mod state;
mod summary;

pub use processor::{Failure, Output, Processor};
pub use state::{Pipeline, PipelineError, DRAIN_GRACE};
pub use summary::{DestinationSummary, Summary};

use crate::batch::Lanes;
use crate::checkpoint::{CheckpointWriter, Ticket};
use crate::deadletter::DeadLetter;
use crate::event::SourceEvent;
use crate::sink::{LateRejection, Sink};
use crate::source::{Source, SourceError};
use deliveries::next_done;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::{Id, JoinError};

/// Events read from the source per hand-over.
const READ_BATCH: usize = 1024;
/// Hand-overs that may wait in the channel: bounds memory to about 4 × 1024 events.
const CHANNEL_DEPTH: usize = 4;
/// Events that may wait for their partition's dedupe lookup before reading stops: bounds
/// memory while a lookup is slow, and lets other partitions go on meanwhile.
const MAX_WAITING_EVENTS: usize = 8 * READ_BATCH;
/// How often the checkpointer hears from the pipeline even when nothing happens, so that
/// progress it held back (written at most every `checkpoint_every_ms`) reaches the store on
/// a quiet partition too.
const CHECKPOINT_TICK: Duration = Duration::from_secs(1);
impl<K: Sink> Pipeline<K> {
    /// Runs until the source is exhausted or `shutdown` completes, then drains and returns
    /// the summary.
    pub async fn run<S: Source>(
        mut self,
        mut source: S,
        shutdown: impl Future<Output = ()>,
    ) -> Result<Summary, PipelineError> {
        let started = Instant::now();
        let mut writer = CheckpointWriter::spawn(source.checkpointer());
        let (tx, mut rx) = mpsc::channel::<Result<Vec<SourceEvent>, SourceError>>(CHANNEL_DEPTH);
        let reader = tokio::spawn(read_source(source, tx));
        self.read(&mut rx, &mut writer, shutdown).await?;
        // Stop reading; events still in the channel or waiting for a lookup were never
        // processed and are not lost: with a replayable source they are read again next time.
        drop(rx);
        reader.abort();
        let waiting = self.lookups.abandon();
        if waiting > 0 {
            tracing::warn!(
                events = waiting,
                "stopping with events waiting to learn what the table already holds: they are read again from the last checkpoint"
            );
        }
        self.drain(&mut writer).await?;
        self.dead_letters.flush()?;
        writer.finish().await?;
        self.summary.acknowledged = self.acks.done();
        self.summary.elapsed = started.elapsed();
        Ok(self.summary)
    }

    /// The read loop: until the source is exhausted (and every lookup answered) or
    /// `shutdown` completes. Everything that waits on the network runs beside it.
    async fn read(
        &mut self,
        rx: &mut mpsc::Receiver<Result<Vec<SourceEvent>, SourceError>>,
        writer: &mut CheckpointWriter,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), PipelineError> {
        tokio::pin!(shutdown);
        let mut output = Output::new(self.batchers.len());
        let mut late = self.sink.late_rejections();
        let mut tick = tokio::time::interval(CHECKPOINT_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut exhausted = false;
        while !exhausted || self.lookups.busy() {
            let deadline = self.batchers.iter().filter_map(Lanes::deadline).min();
            // Full destinations, and events piling up behind a slow lookup, hold reading
            // back: this is the backpressure.
            let can_read =
                !exhausted && self.waiting.is_empty() && self.lookups.held() < MAX_WAITING_EVENTS;
            tokio::select! {
                biased;
                () = &mut shutdown => {
                    self.summary.interrupted = true;
                    break;
                }
                e = writer.failed() => return Err(e.into()),
                Some(done) = self.tasks.join_next_with_id(), if !self.tasks.is_empty() => self.complete(done)?,
                done = self.lookups.next(), if self.lookups.busy() => self.looked_up(done, &mut output)?,
                Some(rejection) = recv_late(&mut late) => self.late_rejection(rejection)?,
                () = sleep_until(deadline) => self.close_due(),
                _ = tick.tick() => {}
                received = rx.recv(), if can_read => match received {
                    Some(Ok(events)) => self.receive(events, &mut output)?,
                    Some(Err(e)) => return Err(e.into()),
                    None => exhausted = true,
                },
            }
            self.launch_waiting();
            self.checkpoint(writer)?;
        }
        Ok(())
    }

    /// After the read loop: sends every open batch and waits for the deliveries in flight
    /// (for at most the drain grace after a signal).
    async fn drain(&mut self, writer: &mut CheckpointWriter) -> Result<(), PipelineError> {
        for lanes in &mut self.batchers {
            self.waiting.extend(lanes.take_all());
        }
        self.launch_waiting();
        let grace = self
            .summary
            .interrupted
            .then(|| tokio::time::Instant::now() + self.drain_grace);
        while !self.tasks.is_empty() {
            let next = tokio::select! {
                biased;
                e = writer.failed() => return Err(e.into()),
                next = next_done(&mut self.tasks, grace) => next,
            };
            let Some(done) = next else { break };
            self.complete(done)?;
            self.launch_waiting();
            self.checkpoint(writer)?;
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
        Ok(())
    }

    /// Events just read: each gets its ticket, then is processed now or, while its
    /// partition's dedupe lookup is under way, once that answers.
    fn receive(
        &mut self,
        events: Vec<SourceEvent>,
        output: &mut Output,
    ) -> Result<(), PipelineError> {
        self.meters.received(&events);
        for event in events {
            let ticket = self.acks.open(
                &event.meta.partition,
                event.meta.sequence_number,
                &event.meta.offset,
                event.meta.enqueued_time.timestamp_millis(),
            );
            if let Some((event, ticket)) = self.lookups.admit(&self.sink, event, ticket) {
                self.handle(&event, ticket, output)?;
            }
        }
        Ok(())
    }

    /// A dedupe lookup answered: the events that waited for it are processed, in order.
    fn looked_up(
        &mut self,
        done: Result<(Id, lookups::Answers), JoinError>,
        output: &mut Output,
    ) -> Result<(), PipelineError> {
        let Some((partition, ready)) = self.lookups.answered(done) else {
            return Ok(());
        };
        for (event, ticket) in ready {
            self.handle(&event, ticket, output)?;
        }
        self.lookups.processed(&self.sink, &partition);
        Ok(())
    }

    /// Processes one event whose ticket is open, and releases the pipeline's reference.
    fn handle(
        &mut self,
        event: &SourceEvent,
        ticket: Ticket,
        output: &mut Output,
    ) -> Result<(), PipelineError> {
        self.summary.messages += 1;
        self.summary.bytes += event.body.len() as u64;
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
                    .lookups
                    .ledger
                    .covers(i, &event.meta.partition, event.meta.sequence_number)
            {
                // Read again after a restart or a takeover, and already in the table.
                self.summary.destinations[i].skipped += count as u64;
                self.meters.destinations[i].skipped.inc_by(count as u64);
                continue;
            }
            if self.batchers[i].per_partition() {
                self.lookups
                    .ledger
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

    /// Hands the progress made since the last call to the checkpoint writer, without
    /// waiting for it to be written.
    fn checkpoint(&mut self, writer: &CheckpointWriter) -> Result<(), PipelineError> {
        let progress = self.acks.take_progress();
        if !progress.is_empty() {
            // Dead letters of the events being checkpointed must be durable first.
            self.dead_letters.flush()?;
        }
        // Also with nothing new: the checkpointer may write what it held back.
        writer.submit(progress);
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
