//! Telemetry: logs, the Prometheus metrics registry, the health state and the endpoint that
//! serves them, and their settings (`[log]`, `[metrics]`).

pub mod health;
pub mod log;
pub mod metrics;
pub mod server;
pub mod settings;
