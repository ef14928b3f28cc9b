//! The pipeline's handles on the process metrics ([`crate::telemetry::metrics`]), looked up
//! once per destination and partition so that counting an event costs an atomic add, not a
//! label lookup.

use crate::deadletter::Stage;
use crate::event::SourceEvent;
use crate::telemetry::metrics::{metrics, PipelineMetrics};
use prometheus::{Histogram, IntCounter};
use std::collections::HashMap;

/// One destination's metrics.
pub(super) struct DestinationMeters {
    pub routed: IntCounter,
    pub produced: IntCounter,
    pub ingested: IntCounter,
    pub skipped: IntCounter,
    pub batch_rows: Histogram,
    pub batch_bytes: Histogram,
    pub latency: Histogram,
}

/// Every metric the pipeline updates.
pub(super) struct Meters {
    metrics: &'static PipelineMetrics,
    /// Per destination, in configuration order.
    pub destinations: Vec<DestinationMeters>,
    /// Events and bytes received, per partition.
    partitions: HashMap<String, (IntCounter, IntCounter)>,
}

impl Meters {
    /// Handles for these destinations.
    pub fn new(names: &[&str]) -> Self {
        let m = &metrics().pipeline;
        let destinations = names
            .iter()
            .map(|&name| DestinationMeters {
                routed: m.messages_routed.with_label_values(&[name]),
                produced: m.rows_produced.with_label_values(&[name]),
                ingested: m.rows_ingested.with_label_values(&[name]),
                skipped: m.rows_skipped.with_label_values(&[name]),
                batch_rows: m.batch_rows.with_label_values(&[name]),
                batch_bytes: m.batch_bytes.with_label_values(&[name]),
                latency: m.end_to_end_latency_seconds.with_label_values(&[name]),
            })
            .collect();
        Meters {
            metrics: m,
            destinations,
            partitions: HashMap::new(),
        }
    }

    /// Counts events and body bytes received, per partition.
    pub fn received(&mut self, events: &[SourceEvent]) {
        let mut rest = events;
        while let Some(first) = rest.first() {
            let partition = &first.meta.partition;
            let run = rest
                .iter()
                .position(|e| e.meta.partition != *partition)
                .unwrap_or(rest.len());
            let bytes: usize = rest[..run].iter().map(|e| e.body.len()).sum();
            let (count, size) = self.partitions.entry(partition.clone()).or_insert_with(|| {
                (
                    self.metrics.events_received.with_label_values(&[partition]),
                    self.metrics.bytes_received.with_label_values(&[partition]),
                )
            });
            count.inc_by(run as u64);
            size.inc_by(bytes as u64);
            rest = &rest[run..];
        }
    }

    /// A decoded message no destination took.
    pub fn unrouted(&self) {
        self.metrics.messages_unrouted.inc();
    }

    /// A dead letter at `stage`, for a problem of `kind`.
    pub fn dead_letter(&self, stage: Stage, kind: &str, count: u64) {
        self.metrics
            .dead_letters
            .with_label_values(&[stage.as_str(), kind])
            .inc_by(count);
    }
}
