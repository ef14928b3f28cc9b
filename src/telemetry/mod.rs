//! Telemetry: logs, the Prometheus metrics registry, the health state and the endpoint that
//! serves them.

pub mod health;
pub mod log;
pub mod metrics;
pub mod server;
