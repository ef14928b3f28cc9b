//! The schedule loop: one task per scheduled report sleeps until its next time and runs it.
//! A run missed while the service was down runs once at start (`missed = "run_once"`), never
//! once per missed time; a run that outlasts its period skips the times it covered, so a
//! slow report cannot pile up. With several replicas a [`Gate`] (the blob lease) lets one of
//! them run each scheduled time.

use super::history::Trigger;
use super::run::Runner;
use super::settings::{MissedRuns, ReportSettings};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tokio::sync::watch;

/// Decides which replica runs a scheduled time.
#[async_trait::async_trait]
pub trait Gate: Send + Sync {
    /// Whether this replica runs `report` at `scheduled`: `Some(ticket)` when it does, `None`
    /// when another replica has it or already ran it.
    async fn claim(&self, report: &str, scheduled: DateTime<Utc>) -> Option<Box<dyn Ticket>>;
}

/// A claimed scheduled time.
#[async_trait::async_trait]
pub trait Ticket: Send {
    /// The run is over: other replicas will not run this time.
    async fn done(self: Box<Self>);
}

/// Runs every enabled, scheduled report until `shutdown` turns true.
pub struct Scheduler {
    runner: Arc<Runner>,
    reports: Vec<ReportSettings>,
    missed: MissedRuns,
    gate: Option<Arc<dyn Gate>>,
}

impl Scheduler {
    /// A scheduler for `reports` (those without a schedule or disabled are left out).
    pub fn new(
        runner: Arc<Runner>,
        reports: Vec<ReportSettings>,
        missed: MissedRuns,
        gate: Option<Arc<dyn Gate>>,
    ) -> Self {
        let reports = reports
            .into_iter()
            .filter(|r| r.enabled && r.schedule.is_some())
            .collect();
        Scheduler {
            runner,
            reports,
            missed,
            gate,
        }
    }

    /// How many reports it schedules.
    pub fn len(&self) -> usize {
        self.reports.len()
    }

    /// Whether it schedules nothing.
    pub fn is_empty(&self) -> bool {
        self.reports.is_empty()
    }

    /// Runs until `shutdown` is true; a run in progress finishes first.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let mut tasks = tokio::task::JoinSet::new();
        for report in self.reports {
            let runner = self.runner.clone();
            let gate = self.gate.clone();
            let missed = self.missed;
            let shutdown = shutdown.clone();
            tasks.spawn(async move { schedule_one(runner, report, missed, gate, shutdown).await });
        }
        while tasks.join_next().await.is_some() {}
    }
}

async fn schedule_one(
    runner: Arc<Runner>,
    report: ReportSettings,
    missed: MissedRuns,
    gate: Option<Arc<dyn Gate>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let Some(schedule) = report.schedule.clone() else {
        return;
    };
    let now = Utc::now();
    let last = match runner.history().last_scheduled(&report.name) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(report = %report.name, error = %e, "cannot read the last run; missed runs are not looked for");
            None
        }
    };
    let mut cursor = now;
    if let (MissedRuns::RunOnce, Some(last)) = (missed, last) {
        if let Some(due) = schedule.latest_at_or_before(now).filter(|d| *d > last) {
            tracing::info!(report = %report.name, scheduled = %due, "running a run missed while the service was down");
            gated_run(&runner, &report, due, Trigger::Missed, gate.as_deref()).await;
        }
    }
    loop {
        let Some(next) = schedule.next_after(cursor.max(Utc::now())) else {
            return;
        };
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        gated_run(&runner, &report, next, Trigger::Schedule, gate.as_deref()).await;
        cursor = next;
    }
}

async fn gated_run(
    runner: &Runner,
    report: &ReportSettings,
    scheduled: DateTime<Utc>,
    trigger: Trigger,
    gate: Option<&dyn Gate>,
) {
    let ticket = match gate {
        None => None,
        Some(g) => match g.claim(&report.name, scheduled).await {
            Some(t) => Some(t),
            None => {
                tracing::debug!(report = %report.name, %scheduled, "another replica runs this time");
                return;
            }
        },
    };
    runner.run(report, scheduled, trigger).await;
    if let Some(t) = ticket {
        t.done().await;
    }
}
