//! A report's latest output, kept in the history file for the reports page: the run's id, when
//! it finished, how many rows it had, and its first [`LATEST_ROWS`] rows with the columns and
//! the `render` annotation.

use super::history::{time, History, HistoryError};
use super::result::{ReportResult, ResultColumn};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

/// Rows of a run's result kept for the reports page.
pub const LATEST_ROWS: usize = 200;

impl History {
    /// Keeps the first [`LATEST_ROWS`] rows of `result` as `report`'s latest output.
    pub fn set_latest(
        &self,
        report: &str,
        run_id: &str,
        result: &ReportResult,
    ) -> Result<(), HistoryError> {
        let kept = serde_json::json!({
            "columns": result.columns.iter().map(|c| serde_json::json!({"name": c.name, "type": c.r#type})).collect::<Vec<_>>(),
            "rows": result.rows.iter().take(LATEST_ROWS).collect::<Vec<_>>(),
            "row_count": result.rows.len(),
            "visualization": result.visualization,
        });
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO latest VALUES (?1, ?2, ?3, ?4)",
                params![
                    report,
                    run_id,
                    Utc::now().timestamp_millis(),
                    kept.to_string()
                ],
            )
            .map(|_| ())
        })
    }

    /// `report`'s latest output: the run's id, when it finished, the kept rows, and how
    /// many rows the result had.
    pub fn latest(&self, report: &str) -> Result<Option<LatestOutput>, HistoryError> {
        let row = self.with(|c| {
            c.query_row(
                "SELECT run_id, finished_ms, result FROM latest WHERE report = ?1",
                params![report],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()
        })?;
        Ok(row.and_then(|(run_id, ms, text)| {
            let v: serde_json::Value = serde_json::from_str(&text).ok()?;
            let columns = v["columns"]
                .as_array()?
                .iter()
                .map(|c| ResultColumn {
                    name: c["name"].as_str().unwrap_or_default().to_string(),
                    r#type: c["type"].as_str().unwrap_or_default().to_string(),
                })
                .collect();
            let rows = serde_json::from_value(v["rows"].clone()).ok()?;
            let visualization = Some(v["visualization"].clone()).filter(|v| !v.is_null());
            Some(LatestOutput {
                run_id,
                finished: time(ms),
                row_count: v["row_count"].as_u64().unwrap_or(0),
                result: ReportResult {
                    columns,
                    rows,
                    visualization,
                },
            })
        }))
    }
}

/// A report's latest output, as the reports page shows it.
#[derive(Debug, Clone)]
pub struct LatestOutput {
    /// The run that produced it.
    pub run_id: String,
    /// When it was kept.
    pub finished: DateTime<Utc>,
    /// How many rows the result had (at most [`LATEST_ROWS`] are kept).
    pub row_count: u64,
    /// The kept columns and rows, and the `render` annotation.
    pub result: ReportResult,
}
