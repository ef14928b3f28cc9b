//! Every Prometheus metric the service exports, registered in one place so that names, units,
//! help texts and labels stay consistent (and the dashboard and alert rules in `deploy/` can be
//! checked against this list). Names follow `iotc_adx_<thing>_<unit>`; labels are
//! low-cardinality only: partition ids, destination names, ingestion modes, stages and error
//! kinds, never device ids or raw error messages.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use std::sync::OnceLock;

/// The service's metrics, created once ([`metrics`]), grouped by the stage that updates them.
pub struct Metrics {
    registry: Registry,
    names: Vec<String>,
    /// Counted by the pipeline (`pipeline/metrics.rs`): events read, routing, rows, batches, latency, dead letters.
    pub pipeline: PipelineMetrics,
    /// Counted by the Data Explorer sink (`sink/kusto/metrics.rs`): requests, retries, throttling, fallbacks.
    pub kusto_sink: KustoSinkMetrics,
    /// Measured by the Event Hubs source (`source/eventhubs/metrics.rs`): lag, checkpoint age, partitions owned.
    pub eventhubs: EventHubsMetrics,
    /// Counted by the credentials (`auth/metrics.rs`).
    pub auth: AuthMetrics,
    /// Counted by the report runner (`report/metrics.rs`): runs, durations, last success.
    pub reports: ReportMetrics,
    /// Always 1, labelled with the version.
    pub build_info: IntGaugeVec,
}

/// Counted by the pipeline (`pipeline/metrics.rs`): events read, routing, rows, batches, latency, dead letters.
pub struct PipelineMetrics {
    /// Events read from the source, by partition.
    pub events_received: IntCounterVec,
    /// Event body bytes read from the source, by partition.
    pub bytes_received: IntCounterVec,
    /// Messages a destination's filter accepted, by destination.
    pub messages_routed: IntCounterVec,
    /// Decoded messages no destination took.
    pub messages_unrouted: IntCounter,
    /// Rows the transforms produced, by destination.
    pub rows_produced: IntCounterVec,
    /// Rows Data Explorer accepted, by destination.
    pub rows_ingested: IntCounterVec,
    /// Rows not sent because the table already held them (read again after a restart).
    pub rows_skipped: IntCounterVec,
    /// Rows per batch sent, by destination.
    pub batch_rows: HistogramVec,
    /// Uncompressed bytes per batch sent, by destination.
    pub batch_bytes: HistogramVec,
    /// From an event's enqueued time to its batch's acceptance, by destination.
    pub end_to_end_latency_seconds: HistogramVec,
    /// Dead letters, by stage and reason kind.
    pub dead_letters: IntCounterVec,
}

/// Counted by the Data Explorer sink (`sink/kusto/metrics.rs`): requests, retries, throttling, fallbacks.
pub struct KustoSinkMetrics {
    /// Duration of ingestion requests, by destination, mode and outcome.
    pub ingestion_request_seconds: HistogramVec,
    /// Ingestion attempts retried, by destination and mode.
    pub ingestion_retries: IntCounterVec,
    /// Throttled answers (429, or 503 with Retry-After), by destination and mode.
    pub throttled_responses: IntCounterVec,
    /// Batches sent queued by a managed destination, by destination and reason.
    pub queued_fallbacks: IntCounterVec,
}

/// Measured by the Event Hubs source (`source/eventhubs/metrics.rs`): lag, checkpoint age, partitions owned.
pub struct EventHubsMetrics {
    /// Events enqueued in a partition beyond its checkpoint, by partition.
    pub partition_lag_events: IntGaugeVec,
    /// Seconds a partition's checkpoint has been behind the partition, by partition.
    pub checkpoint_age_seconds: IntGaugeVec,
    /// Partitions this replica owns.
    pub owned_partitions: IntGauge,
}

/// Counted by the credentials (`auth/metrics.rs`).
pub struct AuthMetrics {
    /// Failed token requests, by credential kind.
    pub token_refresh_failures: IntCounterVec,
}

/// Counted by the report runner (`report/metrics.rs`): runs, durations, last success.
pub struct ReportMetrics {
    /// Runs, by report and status (succeeded, skipped, failed, timed_out, truncated).
    pub runs: IntCounterVec,
    /// Duration of runs, by report.
    pub run_duration_seconds: HistogramVec,
    /// Unix time of the report's last successful (or skipped) run, by report.
    pub last_success_timestamp_seconds: IntGaugeVec,
}

/// Seconds buckets from 5 ms to 5 minutes (ingestion requests and end-to-end latency).
const SECONDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// Registers metrics and remembers their names (a vector with no labelled child yet is not
/// gathered, but its name must still be listed).
struct Builder {
    registry: Registry,
    names: Vec<String>,
}

impl Builder {
    fn counter(&mut self, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
        let metric = IntCounterVec::new(Opts::new(name, help), labels)
            .unwrap_or_else(|e| panic!("metric {name}: {e}"));
        self.register(name, metric)
    }

    fn gauge(&mut self, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
        let metric = IntGaugeVec::new(Opts::new(name, help), labels)
            .unwrap_or_else(|e| panic!("metric {name}: {e}"));
        self.register(name, metric)
    }

    fn histogram(
        &mut self,
        name: &str,
        help: &str,
        labels: &[&str],
        buckets: Vec<f64>,
    ) -> HistogramVec {
        let metric = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)
            .unwrap_or_else(|e| panic!("metric {name}: {e}"));
        self.register(name, metric)
    }

    /// Registers `metric`; names are fixed in this file, so a failure is a programming error
    /// that the unit tests catch.
    fn register<M: prometheus::core::Collector + Clone + 'static>(
        &mut self,
        name: &str,
        metric: M,
    ) -> M {
        self.registry
            .register(Box::new(metric.clone()))
            .unwrap_or_else(|e| panic!("metric {name}: {e}"));
        self.names.push(name.to_string());
        metric
    }
}

impl Metrics {
    fn new() -> Self {
        let mut b = Builder {
            registry: Registry::new(),
            names: Vec::new(),
        };
        let metrics = Metrics {
            pipeline: PipelineMetrics::register(&mut b),
            kusto_sink: KustoSinkMetrics::register(&mut b),
            eventhubs: EventHubsMetrics::register(&mut b),
            auth: AuthMetrics::register(&mut b),
            reports: ReportMetrics::register(&mut b),
            build_info: b.gauge(
                "iotc_adx_build_info",
                "Always 1; labelled with the version.",
                &["version"],
            ),

            registry: b.registry,
            names: b.names,
        };
        metrics
            .build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        metrics
    }

    /// The text exposition format, as served at `/metrics`.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into memory fails only for malformed metric families, which `new` rules out.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The names of every metric family (for checks of dashboards and alert rules).
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

impl PipelineMetrics {
    fn register(b: &mut Builder) -> Self {
        let destination = &["destination"];
        let partition = &["partition"];
        let unrouted = IntCounter::new(
            "iotc_adx_messages_unrouted_total",
            "Decoded messages that no destination's filter took.",
        )
        .unwrap_or_else(|e| panic!("metric: {e}"));
        PipelineMetrics {
            events_received: b.counter(
                "iotc_adx_events_received_total",
                "Events read from the source.",
                partition,
            ),
            bytes_received: b.counter(
                "iotc_adx_received_bytes_total",
                "Event body bytes read from the source.",
                partition,
            ),
            messages_routed: b.counter(
                "iotc_adx_messages_routed_total",
                "Messages a destination's filter accepted.",
                destination,
            ),
            messages_unrouted: b.register("iotc_adx_messages_unrouted_total", unrouted),
            rows_produced: b.counter(
                "iotc_adx_rows_produced_total",
                "Rows the destination's transform produced.",
                destination,
            ),
            rows_ingested: b.counter(
                "iotc_adx_rows_ingested_total",
                "Rows Data Explorer accepted.",
                destination,
            ),
            rows_skipped: b.counter(
                "iotc_adx_rows_skipped_total",
                "Rows not sent because the table already held them.",
                destination,
            ),
            batch_rows: b.histogram(
                "iotc_adx_batch_rows",
                "Rows per batch sent.",
                destination,
                prometheus::exponential_buckets(1.0, 4.0, 10).unwrap_or_default(),
            ),
            batch_bytes: b.histogram(
                "iotc_adx_batch_bytes",
                "Uncompressed bytes per batch sent.",
                destination,
                prometheus::exponential_buckets(1024.0, 4.0, 10).unwrap_or_default(),
            ),
            end_to_end_latency_seconds: b.histogram(
                "iotc_adx_end_to_end_latency_seconds",
                "From an event's enqueued time to Data Explorer accepting its rows.",
                destination,
                SECONDS.to_vec(),
            ),
            dead_letters: b.counter(
                "iotc_adx_dead_letters_total",
                "Messages or rows sent to the dead-letter store.",
                &["stage", "reason"],
            ),
        }
    }
}

impl KustoSinkMetrics {
    fn register(b: &mut Builder) -> Self {
        KustoSinkMetrics {
            ingestion_request_seconds: b.histogram(
                "iotc_adx_ingestion_request_duration_seconds",
                "Duration of ingestion requests to Data Explorer.",
                &["destination", "mode", "outcome"],
                SECONDS.to_vec(),
            ),
            ingestion_retries: b.counter(
                "iotc_adx_ingestion_retries_total",
                "Ingestion attempts retried.",
                &["destination", "mode"],
            ),
            throttled_responses: b.counter(
                "iotc_adx_throttled_responses_total",
                "Throttled answers from Data Explorer.",
                &["destination", "mode"],
            ),
            queued_fallbacks: b.counter(
                "iotc_adx_queued_fallbacks_total",
                "Batches a managed destination sent queued instead of streaming.",
                &["destination", "reason"],
            ),
        }
    }
}

impl EventHubsMetrics {
    fn register(b: &mut Builder) -> Self {
        let partition = &["partition"];
        let owned = IntGauge::new(
            "iotc_adx_owned_partitions",
            "Event Hubs partitions this replica owns.",
        )
        .unwrap_or_else(|e| panic!("metric: {e}"));
        EventHubsMetrics {
        partition_lag_events: b.gauge(
            "iotc_adx_partition_lag_events",
            "Events enqueued in a partition beyond its checkpoint.",
            partition,
        ),
        checkpoint_age_seconds: b.gauge(
            "iotc_adx_checkpoint_age_seconds",
            "Seconds the partition's checkpoint has been behind its last enqueued event (0 when up to date).",
            partition,
        ),
        owned_partitions: b.register("iotc_adx_owned_partitions", owned),
        }
    }
}

impl AuthMetrics {
    fn register(b: &mut Builder) -> Self {
        AuthMetrics {
            token_refresh_failures: b.counter(
                "iotc_adx_token_refresh_failures_total",
                "Failed token requests.",
                &["credential"],
            ),
        }
    }
}

impl ReportMetrics {
    fn register(b: &mut Builder) -> Self {
        ReportMetrics {
            runs: b.counter(
                "iotc_adx_report_runs_total",
                "Report runs, by status.",
                &["report", "status"],
            ),
            run_duration_seconds: b.histogram(
                "iotc_adx_report_run_duration_seconds",
                "Duration of report runs (query, condition, exports and deliveries).",
                &["report"],
                SECONDS.to_vec(),
            ),
            last_success_timestamp_seconds: b.gauge(
                "iotc_adx_report_last_success_timestamp_seconds",
                "Unix time of the report's last run that succeeded or was skipped.",
                &["report"],
            ),
        }
    }
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_named_after_the_convention_and_exported() {
        let m = metrics();
        m.pipeline
            .rows_ingested
            .with_label_values(&["telemetry"])
            .inc_by(3);
        m.kusto_sink
            .ingestion_request_seconds
            .with_label_values(&["telemetry", "streaming", "accepted"])
            .observe(0.2);
        let text = m.render();
        assert!(
            text.contains("iotc_adx_rows_ingested_total{destination=\"telemetry\"} 3"),
            "{text}"
        );
        assert!(text.contains("iotc_adx_build_info{version="), "{text}");
        assert!(m.names().len() >= 20, "{:?}", m.names());
        for name in m.names() {
            assert!(name.starts_with("iotc_adx_"), "{name}");
        }
    }
}
