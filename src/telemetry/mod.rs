//! Telemetry: logs and the Prometheus metrics registry; the health endpoints build on this module.

pub mod log;
pub mod metrics;
