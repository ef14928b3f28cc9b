//! Telemetry: logs now; metrics and health endpoints build on this module.

pub mod log;
