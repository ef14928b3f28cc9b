//! The run history also kept in a Data Explorer table the user names
//! (`[reports.history] table`): shared by every replica, queryable beside the data, kept by
//! the table's own retention. The table and its JSON mapping are created (merged) at start;
//! each run's record is streamed in as one JSON row. The SQLite file stays: it holds the alert
//! state and answers `report history` and `/reports`.

use super::history::RunRecord;
use crate::schema::{kql_string, quote_name};
use iotc_adx_kusto::{KustoClient, KustoError, StreamingRequest};
use std::io::Write;

/// The columns of the history table, in order, with their types.
const COLUMNS: [(&str, &str); 11] = [
    ("Id", "string"),
    ("Report", "string"),
    ("Trigger", "string"),
    ("Scheduled", "datetime"),
    ("Started", "datetime"),
    ("DurationMs", "long"),
    ("Status", "string"),
    ("Rows", "long"),
    ("Delivered", "long"),
    ("Step", "string"),
    ("Error", "string"),
];

/// The mapping the rows are streamed through.
const MAPPING: &str = "iotc_adx_report_runs";

/// A Data Explorer table of runs.
#[derive(Clone)]
pub struct HistoryTable {
    client: KustoClient,
    database: String,
    table: String,
}

impl HistoryTable {
    /// The table `table` of `database` on `client`'s cluster.
    pub fn new(client: KustoClient, database: String, table: String) -> Self {
        HistoryTable {
            client,
            database,
            table,
        }
    }

    /// Creates (or completes) the table and its mapping, and turns streaming ingestion on.
    pub async fn ensure(&self) -> Result<(), KustoError> {
        let t = quote_name(&self.table);
        let columns: Vec<String> = COLUMNS.iter().map(|(n, k)| format!("{n}:{k}")).collect();
        let mapping: Vec<serde_json::Value> = COLUMNS
            .iter()
            .map(|(n, k)| serde_json::json!({"column": n, "datatype": k, "Properties": {"Path": format!("$.{n}")}}))
            .collect();
        let mapping = serde_json::Value::Array(mapping).to_string();
        for csl in [
            format!(".create-merge table {t} ({})", columns.join(", ")),
            format!(
                ".create-or-alter table {t} ingestion json mapping {} {}",
                kql_string(MAPPING),
                kql_string(&mapping)
            ),
            format!(".alter table {t} policy streamingingestion enable"),
        ] {
            self.client.mgmt(&self.database, &csl).await?;
        }
        Ok(())
    }

    /// Streams one run's record into the table.
    pub async fn append(&self, r: &RunRecord) -> Result<(), KustoError> {
        let row = serde_json::json!({
            "Id": r.id, "Report": r.report, "Trigger": r.trigger,
            "Scheduled": r.scheduled, "Started": r.started, "DurationMs": r.duration_ms,
            "Status": r.status.as_str(), "Rows": r.rows, "Delivered": r.delivered,
            "Step": r.step, "Error": r.error,
        });
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        // Writing into memory cannot fail.
        let _ = gz.write_all(row.to_string().as_bytes());
        let body = gz.finish().unwrap_or_default();
        self.client
            .streaming_ingest(StreamingRequest {
                database: &self.database,
                table: &self.table,
                mapping: MAPPING,
                body: body.into(),
                client_request_id: format!("iotc-adx.report-history;{}", r.id),
            })
            .await
    }
}
