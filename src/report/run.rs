//! One run of one report, step by step: query → condition → (alert state) → export →
//! deliver → history. Whatever happens, the run is recorded with its status, duration, rows,
//! and the step that failed with its error, and counted in the metrics.

use super::alert;
use super::condition;
use super::deliver::Delivery;
use super::export::export_all;
use super::history::{History, RunRecord, Trigger};
use super::history_table::HistoryTable;
use super::message::Message;
use super::messages;
use super::metrics::run_finished;
use super::outcome::{RunFailure, RunStatus, Step};
use super::query::{self, Window};
use super::result::ReportResult;
use super::settings::{HistorySettings, ReportSettings};
use chrono::{DateTime, Utc};
use iotc_adx_kusto::KustoClient;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

/// What a run produced: its record, and its result when the query succeeded.
#[derive(Debug)]
pub struct RunOutput {
    /// As recorded in the history.
    pub record: RunRecord,
    /// The query's result.
    pub result: Option<ReportResult>,
}

/// Runs reports: one Data Explorer client per cluster, the deliveries of each report, the
/// history.
pub struct Runner {
    clients: HashMap<String, KustoClient>,
    deliveries: HashMap<String, Vec<Box<dyn Delivery>>>,
    http: reqwest::Client,
    history: Arc<History>,
    keep: HistorySettings,
    table: Option<(HistoryTable, tokio::sync::OnceCell<()>)>,
}

/// What the steps found before they ended, kept for the record whatever the outcome.
#[derive(Default)]
struct Progress {
    rows: Option<u64>,
    delivered: u64,
    result: Option<ReportResult>,
}

impl Runner {
    /// A runner over `clients` (by engine URL), `deliveries` (by report name) and `history`.
    pub fn new(
        clients: HashMap<String, KustoClient>,
        deliveries: HashMap<String, Vec<Box<dyn Delivery>>>,
        http: reqwest::Client,
        history: Arc<History>,
        keep: HistorySettings,
    ) -> Self {
        Runner {
            clients,
            deliveries,
            http,
            history,
            keep,
            table: None,
        }
    }

    /// Also streams every run into `table` (created at its first run).
    pub fn with_history_table(mut self, table: HistoryTable) -> Self {
        self.table = Some((table, tokio::sync::OnceCell::new()));
        self
    }

    /// The history runs are recorded in.
    pub fn history(&self) -> &Arc<History> {
        &self.history
    }

    /// Runs `report` for the time `scheduled`, records and counts the run.
    pub async fn run(
        &self,
        report: &ReportSettings,
        scheduled: DateTime<Utc>,
        trigger: Trigger,
    ) -> RunOutput {
        let started = Utc::now();
        let clock = Instant::now();
        let id = uuid::Uuid::new_v4().to_string();
        let window = Window::for_run(report, scheduled);
        let mut progress = Progress::default();
        let outcome = self.steps(report, window, &id, &mut progress).await;
        let took = clock.elapsed();
        let (status, failure) = match outcome {
            Ok(status) => (status, None),
            Err(f) => (f.status, Some(f)),
        };
        let record = RunRecord {
            id,
            report: report.name.clone(),
            trigger,
            scheduled,
            started,
            duration_ms: took.as_millis() as u64,
            status,
            rows: progress.rows,
            delivered: progress.delivered,
            step: failure.as_ref().map(|f| f.step.as_str().to_string()),
            error: failure.as_ref().map(|f| f.message.clone()),
        };
        match &failure {
            None => {
                tracing::info!(report = %report.name, %status, rows = progress.rows.unwrap_or(0),
                delivered = progress.delivered, ms = record.duration_ms, "report run finished")
            }
            Some(f) => tracing::warn!(report = %report.name, %status, step = f.step.as_str(),
                error = %f.message, "report run did not succeed"),
        }
        if let Err(e) = self
            .history
            .record(&record, self.keep.keep_runs, self.keep.keep)
        {
            tracing::error!(report = %report.name, error = %e, "cannot record the run");
        }
        self.append_to_table(&record).await;
        run_finished(&report.name, status, took, Utc::now());
        RunOutput {
            record,
            result: progress.result,
        }
    }

    /// Streams the record into the history table, when there is one; a failure is logged
    /// (the run is in the history file already).
    async fn append_to_table(&self, record: &RunRecord) {
        let Some((table, ready)) = &self.table else {
            return;
        };
        let result = async {
            ready.get_or_try_init(|| table.ensure()).await?;
            table.append(record).await
        }
        .await;
        if let Err(e) = result {
            tracing::error!(report = %record.report, error = %e, "cannot write the run to the history table");
        }
    }

    async fn steps(
        &self,
        report: &ReportSettings,
        window: Window,
        id: &str,
        progress: &mut Progress,
    ) -> Result<RunStatus, RunFailure> {
        let client = self.clients.get(report.cluster.as_str()).ok_or_else(|| {
            RunFailure::failed(Step::Query, format!("no client for {}", report.cluster))
        })?;
        let request_id = format!("iotc-adx.report.{};{id}", report.name);
        let result = query::run(client, report, window, &request_id).await?;
        progress.rows = Some(result.rows.len() as u64);
        if let Err(e) = self.history.set_latest(&report.name, id, &result) {
            tracing::warn!(report = %report.name, error = %e, "cannot keep the latest output for the reports page");
        }
        progress.result = Some(result.clone());
        let holds = condition::holds(&report.when, &result)?;
        let (messages, firing) = self.messages(report, holds, &result, window, id)?;
        if holds {
            export_all(client, &self.http, report, window, &result).await?;
        }
        progress.delivered = self.deliver(report, &messages).await?;
        if let Some(firing) = firing {
            self.history
                .set_firing(&report.name, &firing)
                .map_err(|e| RunFailure::failed(Step::History, e.to_string()))?;
        }
        Ok(if holds || !messages.is_empty() {
            RunStatus::Succeeded
        } else {
            RunStatus::Skipped
        })
    }

    /// The messages of this run and, for alerts, the alert state to keep once delivered.
    #[allow(clippy::type_complexity)]
    fn messages(
        &self,
        report: &ReportSettings,
        holds: bool,
        result: &ReportResult,
        window: Window,
        id: &str,
    ) -> Result<(Vec<Message>, Option<BTreeSet<String>>), RunFailure> {
        let base = messages::base(report, result, window, id);
        let Some(a) = &report.alert else {
            if !holds {
                return Ok((Vec::new(), None));
            }
            return Ok((messages::plain(report, result, base), None));
        };
        let before = self
            .history
            .firing(&report.name)
            .map_err(|e| RunFailure::failed(Step::History, e.to_string()))?;
        let changes = alert::changes(a, holds, result, &before);
        let messages = messages::alerts(report.for_each_row, changes.clone(), base);
        Ok((messages, Some(changes.firing)))
    }

    /// Sends every message to every delivery of the report; the first failure fails the run.
    async fn deliver(
        &self,
        report: &ReportSettings,
        messages: &[Message],
    ) -> Result<u64, RunFailure> {
        let Some(targets) = self.deliveries.get(&report.name) else {
            return Ok(0);
        };
        let mut delivered = 0;
        for m in messages {
            for t in targets {
                t.deliver(m).await.map_err(|e| {
                    RunFailure::failed(Step::Deliver, format!("{}: {e}", t.describe()))
                })?;
                delivered += 1;
            }
        }
        Ok(delivered)
    }
}
