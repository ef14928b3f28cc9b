//! The synchronous heart of the pipeline: one event in, the rows it gives each destination
//! and the failures it met out. No I/O happens here, so the same code serves the runner, the
//! `transform` preview, the golden tests and the benchmark.

use crate::deadletter::Stage;
use crate::decode::decode;
use crate::destination::DestinationSettings;
use crate::event::SourceEvent;
use crate::transform::ApplyError;

/// A failure of one event, at one stage, for one destination or for all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Where it failed.
    pub stage: Stage,
    /// The destination index, for failures after decoding.
    pub destination: Option<usize>,
    /// Why, in words.
    pub reason: String,
    /// The kind of problem, a short fixed name (for metrics).
    pub kind: &'static str,
}

/// What one event produced; reused from event to event to keep buffers allocated.
#[derive(Debug, Default)]
pub struct Output {
    payloads: Vec<Vec<u8>>,
    rows: Vec<usize>,
    accepted: Vec<bool>,
    /// Failures, in destination order.
    pub failures: Vec<Failure>,
}

impl Output {
    /// An empty output for `destinations` destinations.
    pub fn new(destinations: usize) -> Self {
        Output {
            payloads: vec![Vec::new(); destinations],
            rows: vec![0; destinations],
            accepted: vec![false; destinations],
            failures: Vec::new(),
        }
    }

    /// Whether destination `index`'s filter accepted the event.
    pub fn accepted(&self, index: usize) -> bool {
        self.accepted.get(index).copied().unwrap_or(false)
    }

    /// How many destinations' filters accepted the event.
    pub fn matched(&self) -> usize {
        self.accepted.iter().filter(|a| **a).count()
    }

    /// The multijson rows destination `index` got from the event, and their count.
    pub fn rows(&self, index: usize) -> (&[u8], usize) {
        (
            self.payloads.get(index).map_or(&[][..], Vec::as_slice),
            self.rows.get(index).copied().unwrap_or(0),
        )
    }

    fn clear(&mut self) {
        self.payloads.iter_mut().for_each(Vec::clear);
        self.rows.iter_mut().for_each(|n| *n = 0);
        self.accepted.iter_mut().for_each(|a| *a = false);
        self.failures.clear();
    }
}

/// Runs decode → route → transform → coerce for every destination.
#[derive(Debug, Clone)]
pub struct Processor {
    destinations: Vec<DestinationSettings>,
    /// Whether any filter or transform reads `$meta`; building it costs about a tenth of
    /// the per-message budget, so it is skipped when nothing needs it.
    needs_meta: bool,
}

impl Processor {
    /// A processor for these destinations (indices follow their order).
    pub fn new(destinations: Vec<DestinationSettings>) -> Self {
        let needs_meta = destinations
            .iter()
            .any(|d| d.filter.uses_meta() || d.transform.uses_meta());
        Processor {
            destinations,
            needs_meta,
        }
    }

    /// The destinations.
    pub fn destinations(&self) -> &[DestinationSettings] {
        &self.destinations
    }

    /// Processes one event into `out` (which is cleared first).
    pub fn process(&self, event: &SourceEvent, out: &mut Output) {
        out.clear();
        if out.payloads.len() < self.destinations.len() {
            *out = Output::new(self.destinations.len());
        }
        let message = match decode(&event.body) {
            Ok(m) => m,
            Err(e) => {
                out.failures.push(Failure {
                    stage: Stage::Decode,
                    destination: None,
                    reason: e.to_string(),
                    kind: e.kind(),
                });
                return;
            }
        };
        let meta = if self.needs_meta {
            event.meta.to_value()
        } else {
            serde_json::Value::Null
        };
        for (i, d) in self.destinations.iter().enumerate() {
            match d.filter.check(&message, &meta) {
                Ok(Ok(())) => {}
                Ok(Err(_rejected)) => continue,
                Err(e) => {
                    let reason = format!("filter predicate failed: {e}");
                    out.failures.push(Failure {
                        stage: Stage::Route,
                        destination: Some(i),
                        reason,
                        kind: "predicate_failed",
                    });
                    continue;
                }
            }
            out.accepted[i] = true;
            match d
                .transform
                .apply_encoded(message.value(), &meta, &d.schema, &mut out.payloads[i])
            {
                Ok(n) => out.rows[i] = n,
                Err(ApplyError::Transform(e)) => {
                    out.failures.push(Failure {
                        stage: Stage::Transform,
                        destination: Some(i),
                        reason: e.to_string(),
                        kind: "expression_failed",
                    });
                }
                Err(ApplyError::Rows(e)) => {
                    let reason = format!("table {}: {e}", d.table);
                    out.failures.push(Failure {
                        stage: Stage::Coerce,
                        destination: Some(i),
                        reason,
                        kind: e.kind(),
                    });
                }
            }
        }
    }
}
