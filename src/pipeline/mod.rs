//! The pipeline: source → decode → route → transform → batch → sink, with failures going to
//! the dead-letter store.
//!
//! The source runs in a task of its own and hands events over a bounded channel, so a slow
//! sink slows reading instead of filling memory. The rest runs in one loop: each event is
//! processed synchronously ([`Processor`]), its rows go to the destination's batcher, and full
//! or old batches go to the sink. On shutdown the source stops, every open batch is delivered
//! and the dead-letter store is flushed before the summary is returned.

mod processor;
mod summary;

pub use processor::{Failure, Output, Processor};
pub use summary::{DestinationSummary, Summary};

use crate::batch::{Batch, Batcher};
use crate::config::DestinationSettings;
use crate::deadletter::{DeadLetter, DeadLetterError, DeadLetterStore};
use crate::event::SourceEvent;
use crate::sink::{Sink, SinkError};
use crate::source::{Source, SourceError};
use std::future::Future;
use std::time::Instant;
use tokio::sync::mpsc;

/// Events read from the source per hand-over.
const READ_BATCH: usize = 1024;
/// Hand-overs that may wait in the channel: bounds memory to about 4 × 1024 events.
const CHANNEL_DEPTH: usize = 4;

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

/// Everything a run needs.
pub struct Pipeline<K: Sink> {
    processor: Processor,
    batchers: Vec<Batcher>,
    sink: K,
    dead_letters: Box<dyn DeadLetterStore>,
    summary: Summary,
}

impl<K: Sink> Pipeline<K> {
    /// Builds a pipeline over these destinations.
    pub fn new(destinations: Vec<DestinationSettings>, sink: K, dead_letters: Box<dyn DeadLetterStore>) -> Self {
        let batchers = destinations.iter().enumerate().map(|(i, d)| Batcher::new(i, d.batch)).collect();
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
        Pipeline { processor: Processor::new(destinations), batchers, sink, dead_letters, summary }
    }

    /// Runs until the source is exhausted or `shutdown` completes, then drains and returns
    /// the summary.
    pub async fn run<S: Source>(mut self, source: S, shutdown: impl Future<Output = ()>) -> Result<Summary, PipelineError> {
        let started = Instant::now();
        let (tx, mut rx) = mpsc::channel::<Result<Vec<SourceEvent>, SourceError>>(CHANNEL_DEPTH);
        let reader = tokio::spawn(read_source(source, tx));
        tokio::pin!(shutdown);
        let mut output = Output::new(self.batchers.len());
        loop {
            let deadline = self.batchers.iter().filter_map(Batcher::deadline).min();
            tokio::select! {
                biased;
                () = &mut shutdown => {
                    self.summary.interrupted = true;
                    break;
                }
                () = sleep_until(deadline) => self.deliver_due().await?,
                received = rx.recv() => match received {
                    Some(Ok(events)) => {
                        for event in &events {
                            self.handle(event, &mut output).await?;
                        }
                    }
                    Some(Err(e)) => return Err(e.into()),
                    None => break,
                },
            }
        }
        // Stop reading; events still in the channel were never processed and are not lost:
        // with a replayable source they are read again next time.
        drop(rx);
        reader.abort();
        for i in 0..self.batchers.len() {
            if let Some(batch) = self.batchers[i].take() {
                self.deliver(batch).await?;
            }
        }
        self.dead_letters.flush()?;
        self.summary.elapsed = started.elapsed();
        Ok(self.summary)
    }

    async fn handle(&mut self, event: &SourceEvent, output: &mut Output) -> Result<(), PipelineError> {
        self.summary.messages += 1;
        self.summary.bytes += event.body.len() as u64;
        self.processor.process(event, output);
        for failure in &output.failures {
            let destination = failure.destination.map(|i| self.processor.destinations()[i].name.clone());
            tracing::debug!(stage = %failure.stage, destination = destination.as_deref(), location = %event.meta.location(), reason = %failure.reason, "dead-lettered");
            let letter = DeadLetter::new(event, failure.stage, failure.reason.clone(), destination);
            self.dead_letters.put(&letter)?;
            *self.summary.dead_letters.entry(failure.stage).or_default() += 1;
        }
        if output.matched() == 0 && output.failures.is_empty() {
            self.summary.unrouted += 1;
        }
        let now = Instant::now();
        for i in 0..self.batchers.len() {
            if output.accepted(i) {
                self.summary.destinations[i].matched += 1;
            }
            let (rows, count) = output.rows(i);
            for batch in self.batchers[i].push(rows, count, now) {
                self.deliver(batch).await?;
            }
        }
        Ok(())
    }

    async fn deliver_due(&mut self) -> Result<(), PipelineError> {
        let now = Instant::now();
        for i in 0..self.batchers.len() {
            if let Some(batch) = self.batchers[i].take_due(now) {
                self.deliver(batch).await?;
            }
        }
        Ok(())
    }

    async fn deliver(&mut self, batch: Batch) -> Result<(), PipelineError> {
        let index = batch.destination;
        let rows = batch.rows as u64;
        let delivery = self.sink.deliver(batch).await?;
        let d = &mut self.summary.destinations[index];
        d.rows += rows;
        d.batches += 1;
        d.bytes += delivery.bytes;
        d.last_target = Some(delivery.target);
        Ok(())
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

async fn read_source<S: Source>(mut source: S, tx: mpsc::Sender<Result<Vec<SourceEvent>, SourceError>>) {
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
