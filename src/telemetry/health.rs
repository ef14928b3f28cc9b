//! What `/readyz` answers from: the stages report here whether they work (the source is
//! connected, the sink answered), and the endpoint turns that into ready or not, with the
//! reason. Kept apart from the stages so that none of them knows about HTTP.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long the sink may fail without a single success before the service reports itself not
/// ready: a few retries are normal, a minute of nothing but failures is not.
pub const SINK_FAILING_FOR: Duration = Duration::from_secs(60);

/// The state of the checks `/readyz` reports.
#[derive(Debug)]
pub struct Health {
    state: Mutex<State>,
    sink_failing_for: Duration,
}

#[derive(Debug)]
struct State {
    config: bool,
    /// `None` while connected; otherwise why not.
    source: Option<String>,
    sink: SinkState,
}

#[derive(Debug)]
enum SinkState {
    /// Not contacted yet.
    Unknown,
    /// The last contact succeeded.
    Reachable,
    /// Every contact since `since` failed; the last one for `reason`.
    Failing { since: Instant, reason: String },
}

/// One check's result, as `/readyz` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    /// The check's name: `config`, `source` or `sink`.
    pub name: &'static str,
    /// Whether it passes.
    pub ok: bool,
    /// `ok`, or what is wrong.
    pub detail: String,
}

/// The answer of `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Readiness {
    /// All checks pass.
    pub ready: bool,
    /// Every check, in a fixed order.
    pub checks: Vec<Check>,
}

impl Default for Health {
    fn default() -> Self {
        Health::new(SINK_FAILING_FOR)
    }
}

impl Health {
    /// Nothing known yet: not ready. `sink_failing_for` is how long the sink may fail before
    /// the service stops being ready.
    pub fn new(sink_failing_for: Duration) -> Self {
        Health {
            state: Mutex::new(State {
                config: false,
                source: Some("not connected yet".into()),
                sink: SinkState::Unknown,
            }),
            sink_failing_for,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The configuration was loaded and validated.
    pub fn config_loaded(&self) {
        self.lock().config = true;
    }

    /// The source is connected (or opened).
    pub fn source_connected(&self) {
        self.lock().source = None;
    }

    /// The source lost its connection and is reconnecting; `reason` names the kind of
    /// problem, never a secret.
    pub fn source_disconnected(&self, reason: &str) {
        self.lock().source = Some(reason.to_string());
    }

    /// The sink answered (it accepted, or refused a batch for a reason of its own).
    pub fn sink_reachable(&self) {
        self.lock().sink = SinkState::Reachable;
    }

    /// A request to the sink failed for `reason` (unreachable, server error, credentials).
    pub fn sink_failed(&self, reason: &str) {
        let mut state = self.lock();
        let since = match &state.sink {
            SinkState::Failing { since, .. } => *since,
            _ => Instant::now(),
        };
        state.sink = SinkState::Failing {
            since,
            reason: reason.to_string(),
        };
    }

    /// Whether the service is ready, and why not.
    pub fn readiness(&self) -> Readiness {
        let state = self.lock();
        let config = Check {
            name: "config",
            ok: state.config,
            detail: if state.config { "ok" } else { "not loaded yet" }.into(),
        };
        let source = Check {
            name: "source",
            ok: state.source.is_none(),
            detail: state.source.clone().unwrap_or_else(|| "ok".into()),
        };
        let sink = match &state.sink {
            SinkState::Unknown => Check {
                name: "sink",
                ok: false,
                detail: "not contacted yet".into(),
            },
            SinkState::Reachable => Check {
                name: "sink",
                ok: true,
                detail: "ok".into(),
            },
            SinkState::Failing { since, reason } => {
                let failing = since.elapsed();
                Check {
                    name: "sink",
                    ok: failing < self.sink_failing_for,
                    detail: format!("failing for {} s: {reason}", failing.as_secs()),
                }
            }
        };
        let checks = vec![config, source, sink];
        Readiness {
            ready: checks.iter().all(|c| c.ok),
            checks,
        }
    }
}

/// The process's health, which the stages report to and `/readyz` reads.
pub fn health() -> &'static Health {
    static HEALTH: OnceLock<Health> = OnceLock::new();
    HEALTH.get_or_init(Health::default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_once_config_source_and_sink_are_fine() {
        let h = Health::new(Duration::from_secs(60));
        assert!(!h.readiness().ready);
        h.config_loaded();
        h.source_connected();
        assert!(!h.readiness().ready, "the sink has not answered yet");
        h.sink_reachable();
        let r = h.readiness();
        assert!(r.ready, "{r:?}");
        h.source_disconnected("reconnecting to Event Hubs");
        let r = h.readiness();
        assert!(!r.ready);
        assert_eq!(r.checks[1].detail, "reconnecting to Event Hubs");
    }

    #[test]
    fn a_sink_failing_briefly_is_still_ready_but_not_for_long() {
        let h = Health::new(Duration::from_millis(50));
        h.config_loaded();
        h.source_connected();
        h.sink_failed("503 from the service");
        assert!(h.readiness().ready, "a first failure is within the grace");
        std::thread::sleep(Duration::from_millis(80));
        h.sink_failed("503 from the service");
        let r = h.readiness();
        assert!(!r.ready, "{r:?}");
        assert!(r.checks[2].detail.contains("503"), "{r:?}");
        h.sink_reachable();
        assert!(h.readiness().ready);
    }
}
