//! The run history and alert state, in an embedded SQLite file (through `rusqlite`, SQLite
//! compiled in: nothing to install, durable across restarts, one file to back up). Every run
//! is recorded with its report, trigger, scheduled time, start, duration, status, rows, the
//! failed step and its error; old runs are pruned by count and age per report. The alerts
//! table holds which alerts of each report are firing.

use super::outcome::RunStatus;
use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("run history {path}: {source}")]
pub struct HistoryError {
    /// The SQLite file.
    pub path: String,
    /// What SQLite said.
    #[source]
    pub source: rusqlite::Error,
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Its scheduled time came.
    Schedule,
    /// It was missed while the service was down and ran at start.
    Missed,
    /// `iotc-adx report run`.
    Demand,
}

impl Trigger {
    /// The word in the history and on the reports page.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Missed => "missed",
            Trigger::Demand => "demand",
        }
    }

    fn parse(s: &str) -> Trigger {
        match s {
            "missed" => Trigger::Missed,
            "demand" => Trigger::Demand,
            _ => Trigger::Schedule,
        }
    }
}

/// One recorded run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// The run's id.
    pub id: String,
    /// The report.
    pub report: String,
    /// What started it.
    pub trigger: Trigger,
    /// The scheduled time (the window's end).
    pub scheduled: DateTime<Utc>,
    /// When it started.
    pub started: DateTime<Utc>,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// How it ended.
    #[serde(serialize_with = "status_str")]
    pub status: RunStatus,
    /// Result rows, when the query succeeded.
    pub rows: Option<u64>,
    /// Messages delivered.
    pub delivered: u64,
    /// The step that failed.
    pub step: Option<String>,
    /// Its error.
    pub error: Option<String>,
}

fn status_str<S: serde::Serializer>(s: &RunStatus, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.as_str())
}

/// The history file.
pub struct History {
    path: String,
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, report TEXT NOT NULL, trigger TEXT NOT NULL,
    scheduled_ms INTEGER NOT NULL, started_ms INTEGER NOT NULL, duration_ms INTEGER NOT NULL,
    status TEXT NOT NULL, rows INTEGER, delivered INTEGER NOT NULL, step TEXT, error TEXT);
CREATE INDEX IF NOT EXISTS runs_by_report ON runs (report, started_ms);
CREATE TABLE IF NOT EXISTS alerts (
    report TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (report, key));
CREATE TABLE IF NOT EXISTS latest (
    report TEXT PRIMARY KEY, run_id TEXT NOT NULL, finished_ms INTEGER NOT NULL,
    result TEXT NOT NULL);
";

impl History {
    /// Opens (creating) the history at `path`.
    pub fn open(path: &Path) -> Result<Self, HistoryError> {
        let shown = path.display().to_string();
        let err = |source| HistoryError {
            path: shown.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // A missing folder shows up as SQLite's own "unable to open" below.
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        Ok(History {
            path: shown,
            conn: Mutex::new(conn),
        })
    }

    /// Runs `f` on the connection, naming the file in its error.
    pub(super) fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, HistoryError> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn).map_err(|source| HistoryError {
            path: self.path.clone(),
            source,
        })
    }

    /// Records a run, then prunes the report's runs beyond `keep_runs` or older than `keep`.
    pub fn record(
        &self,
        r: &RunRecord,
        keep_runs: u64,
        keep: Duration,
    ) -> Result<(), HistoryError> {
        let oldest = r.started.timestamp_millis() - keep.as_millis() as i64;
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO runs VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
                params![
                    r.id,
                    r.report,
                    r.trigger.as_str(),
                    r.scheduled.timestamp_millis(),
                    r.started.timestamp_millis(),
                    r.duration_ms as i64,
                    r.status.as_str(),
                    r.rows.map(|n| n as i64),
                    r.delivered as i64,
                    r.step,
                    r.error
                ],
            )?;
            c.execute(
                "DELETE FROM runs WHERE report = ?1 AND (started_ms < ?2 OR id NOT IN
                   (SELECT id FROM runs WHERE report = ?1 ORDER BY started_ms DESC LIMIT ?3))",
                params![r.report, oldest, keep_runs as i64],
            )?;
            Ok(())
        })
    }

    /// The latest runs, newest first, of one report or of all.
    pub fn runs(&self, report: Option<&str>, limit: usize) -> Result<Vec<RunRecord>, HistoryError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT id, report, trigger, scheduled_ms, started_ms, duration_ms, status, rows,
                        delivered, step, error
                 FROM runs WHERE (?1 IS NULL OR report = ?1)
                 ORDER BY started_ms DESC, rowid DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![report, limit as i64], |row| {
                Ok(RunRecord {
                    id: row.get(0)?,
                    report: row.get(1)?,
                    trigger: Trigger::parse(&row.get::<_, String>(2)?),
                    scheduled: time(row.get(3)?),
                    started: time(row.get(4)?),
                    duration_ms: row.get::<_, i64>(5)?.max(0) as u64,
                    status: RunStatus::parse(&row.get::<_, String>(6)?)
                        .unwrap_or(RunStatus::Failed),
                    rows: row.get::<_, Option<i64>>(7)?.map(|n| n.max(0) as u64),
                    delivered: row.get::<_, i64>(8)?.max(0) as u64,
                    step: row.get(9)?,
                    error: row.get(10)?,
                })
            })?;
            rows.collect()
        })
    }

    /// The latest scheduled time of a run started by the schedule (or at start for a missed
    /// one), whatever its status: where the schedule resumes after a restart.
    pub fn last_scheduled(&self, report: &str) -> Result<Option<DateTime<Utc>>, HistoryError> {
        self.with(|c| {
            c.query_row(
                "SELECT MAX(scheduled_ms) FROM runs WHERE report = ?1 AND trigger != 'demand'",
                params![report],
                |row| row.get::<_, Option<i64>>(0),
            )
            .optional()
            .map(|v| v.flatten().map(time))
        })
    }

    /// The alerts of `report` firing now.
    pub fn firing(&self, report: &str) -> Result<BTreeSet<String>, HistoryError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT key FROM alerts WHERE report = ?1")?;
            let keys = stmt.query_map(params![report], |row| row.get::<_, String>(0))?;
            keys.collect()
        })
    }

    /// Replaces the alerts of `report` firing now.
    pub fn set_firing(&self, report: &str, keys: &BTreeSet<String>) -> Result<(), HistoryError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            tx.execute("DELETE FROM alerts WHERE report = ?1", params![report])?;
            for k in keys {
                tx.execute("INSERT INTO alerts VALUES (?1, ?2)", params![report, k])?;
            }
            tx.commit()
        })
    }
}

/// Epoch milliseconds as a time.
pub(super) fn time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(report: &str, minute: i64, status: RunStatus) -> RunRecord {
        let t = Utc
            .timestamp_millis_opt(1_780_000_000_000 + minute * 60_000)
            .unwrap();
        RunRecord {
            id: format!("{report}-{minute}"),
            report: report.into(),
            trigger: Trigger::Schedule,
            scheduled: t,
            started: t,
            duration_ms: 12,
            status,
            rows: Some(3),
            delivered: 1,
            step: None,
            error: None,
        }
    }

    #[test]
    fn runs_survive_reopening_and_are_pruned() {
        let dir = tempfile_dir();
        let path = dir.join("h.db");
        {
            let h = History::open(&path).unwrap();
            for m in 0..5 {
                h.record(
                    &run("a", m, RunStatus::Succeeded),
                    3,
                    Duration::from_secs(86_400),
                )
                .unwrap();
            }
            let mut failed = run("b", 1, RunStatus::Failed);
            failed.step = Some("query".into());
            failed.error = Some("boom".into());
            h.record(&failed, 3, Duration::from_secs(86_400)).unwrap();
            h.set_firing("a", &["d1".to_string(), "d2".to_string()].into())
                .unwrap();
        }
        let h = History::open(&path).unwrap();
        let a = h.runs(Some("a"), 10).unwrap();
        assert_eq!(
            a.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["a-4", "a-3", "a-2"]
        );
        let all = h.runs(None, 10).unwrap();
        assert_eq!(all.len(), 4);
        let b = h.runs(Some("b"), 10).unwrap();
        assert_eq!(b[0].status, RunStatus::Failed);
        assert_eq!(b[0].error.as_deref(), Some("boom"));
        assert_eq!(h.last_scheduled("a").unwrap(), Some(a[0].scheduled));
        assert_eq!(h.last_scheduled("zzz").unwrap(), None);
        assert_eq!(h.firing("a").unwrap().len(), 2);
        // Age: a run a day later pushes out everything older than a day.
        h.record(
            &run("a", 24 * 60 + 10, RunStatus::Skipped),
            3,
            Duration::from_secs(86_400),
        )
        .unwrap();
        assert_eq!(h.runs(Some("a"), 10).unwrap().len(), 1);
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("iotc-adx-history-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
