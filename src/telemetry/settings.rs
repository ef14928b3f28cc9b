//! `[log]` and `[metrics]`: how the service logs and where it serves its metrics, first as
//! written (serde types that refuse unknown keys), then validated with each problem's key
//! path.

use crate::settings_check::Checker;
use serde::Deserialize;
use std::net::SocketAddr;

/// `[metrics]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address of the Prometheus endpoint (default `0.0.0.0:9464`).
    pub listen: Option<String>,
}

/// `[log]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `error`, `warn`, `info` (default), `debug`, `trace`, or a full filter such as
    /// `info,iotc_adx::sink=debug`. `RUST_LOG` overrides it.
    pub level: Option<String>,
    /// `human` (default) or `json`.
    #[serde(default)]
    pub format: LogFormat,
}

/// `[log] format = "..."`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Readable lines for a terminal.
    #[default]
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Validated `[metrics]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    /// Listen address of the Prometheus endpoint.
    pub listen: SocketAddr,
}

/// Validated `[log]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// A `tracing` filter directive (`info`, `info,iotc_adx=debug`, ...).
    pub filter: String,
    /// Output format.
    pub format: LogFormat,
}

impl MetricsSettings {
    /// Checks `[metrics]`; problems are recorded under `metrics.<key>`.
    pub(crate) fn from_config(c: &mut Checker, m: MetricsConfig) -> Option<Self> {
        let text = m.listen.as_deref().unwrap_or("0.0.0.0:9464");
        match text.parse::<SocketAddr>() {
            Ok(listen) => Some(MetricsSettings { listen }),
            Err(_) => {
                c.problem(
                    "metrics.listen",
                    format!("{text:?} is not a socket address such as \"0.0.0.0:9464\""),
                );
                None
            }
        }
    }
}

impl LogSettings {
    /// Checks `[log]`; problems are recorded under `log.<key>`.
    pub(crate) fn from_config(c: &mut Checker, l: LogConfig) -> Option<Self> {
        let filter = l.level.unwrap_or_else(|| "info".to_string());
        // A bare word is a target name to `tracing`, so "loud" would silently log nothing:
        // accept bare words only when they are levels.
        const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
        let bare = !filter.contains(['=', ',']);
        if bare && !LEVELS.contains(&filter.to_ascii_lowercase().as_str()) {
            c.problem("log.level", format!("{filter:?} is not a level: expected one of {} or a filter such as \"info,iotc_adx=debug\"", LEVELS.join(", ")));
            return None;
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&filter) {
            c.problem("log.level", format!("{filter:?} is not a log level or filter: {e} (try \"info\" or \"info,iotc_adx=debug\")"));
            return None;
        }
        Some(LogSettings {
            filter,
            format: l.format,
        })
    }
}
