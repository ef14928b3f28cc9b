//! Deliveries: closed batches are sent to the sink, several at once per destination up to
//! its limit, each in a task of its own; as each ends, its rows are counted (or, refused,
//! dead-lettered) and its events' tickets released so that checkpoints can move.

use super::state::{InFlight, Pipeline, PipelineError};
use crate::deadletter::{DeadLetter, Stage};
use crate::sink::{LateRejection, Outcome, Sink, SinkError};
use std::collections::VecDeque;
use tokio::task::{Id, JoinError, JoinSet};
use tracing::Instrument;

impl<K: Sink> Pipeline<K> {
    /// Sends waiting batches whose destination has a free slot, keeping each destination's
    /// batches in order.
    pub(super) fn launch_waiting(&mut self) {
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

    pub(super) fn complete(
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
                    source: e,
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

    pub(super) fn late_rejection(&mut self, r: LateRejection) -> Result<(), PipelineError> {
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
}

/// The next delivery to end, waiting at most until `grace` (when given).
pub(super) async fn next_done(
    tasks: &mut JoinSet<Result<Outcome, SinkError>>,
    grace: Option<tokio::time::Instant>,
) -> Option<Result<(Id, Result<Outcome, SinkError>), JoinError>> {
    match grace {
        Some(until) => tokio::time::timeout_at(until, tasks.join_next_with_id())
            .await
            .ok()
            .flatten(),
        None => tasks.join_next_with_id().await,
    }
}
