//! Result serialisation: v1 (`{"Tables":[...]}`, used by management commands, streaming
//! ingestion and `/v1/rest/query`) and v2 (a JSON array of frames, used by `/v2/rest/query`).

use super::kql::{Column, DataTable};
use super::values::dotnet_type;
use serde_json::{json, Value};

/// A table built from (name, kind) columns and rows, for command results.
pub fn table(name: &str, columns: &[(&str, &str)], rows: Vec<Vec<Value>>) -> DataTable {
    DataTable {
        name: name.into(),
        columns: columns
            .iter()
            .map(|(n, k)| Column {
                name: (*n).into(),
                kind: (*k).into(),
            })
            .collect(),
        rows,
    }
}

fn v1_table(name: &str, t: &DataTable) -> Value {
    let columns: Vec<Value> = t
        .columns
        .iter()
        .map(|c| json!({"ColumnName": c.name, "DataType": dotnet_type(&c.kind), "ColumnType": c.kind}))
        .collect();
    json!({"TableName": name, "Columns": columns, "Rows": t.rows})
}

/// A v1 response holding one table.
pub fn v1(t: &DataTable) -> Value {
    json!({"Tables": [v1_table("Table_0", t)]})
}

/// A v1 query response: the result, then (as the service does) a table of contents.
pub fn v1_query(t: &DataTable) -> Value {
    let toc = table(
        "Table_1",
        &[
            ("Ordinal", "long"),
            ("Kind", "string"),
            ("Name", "string"),
            ("Id", "string"),
            ("PrettyName", "string"),
        ],
        vec![vec![
            json!(0),
            json!("QueryResult"),
            json!("PrimaryResult"),
            json!(uuid::Uuid::new_v4().to_string()),
            json!(""),
        ]],
    );
    json!({"Tables": [v1_table("Table_0", t), v1_table("Table_1", &toc)]})
}

/// A v2 response (DataSetHeader, @ExtendedProperties, PrimaryResult,
/// QueryCompletionInformation, DataSetCompletion) with the query's visualization (the
/// `render` annotation) and a partial failure:
/// `error` (a OneApiError object) goes in as a row of the primary table, as the service
/// reports errors found after rows were sent, and the completion frame says `HasErrors`.
pub fn v2_with(t: &DataTable, visualization: Option<&Value>, error: Option<Value>) -> Value {
    let columns: Vec<Value> = t
        .columns
        .iter()
        .map(|c| json!({"ColumnName": c.name, "ColumnType": c.kind}))
        .collect();
    let now = super::values::format_datetime(&chrono::Utc::now());
    let has_errors = error.is_some();
    let mut rows: Vec<Value> = t.rows.iter().map(|r| Value::Array(r.clone())).collect();
    if let Some(e) = error {
        rows.push(json!({"OneApiErrors": [e]}));
    }
    json!([
        {"FrameType": "DataSetHeader", "IsProgressive": false, "Version": "v2.0", "IsFragmented": false, "ErrorReportingPlacement": "InData"},
        {"FrameType": "DataTable", "TableId": 0, "TableKind": "QueryProperties", "TableName": "@ExtendedProperties",
         "Columns": [{"ColumnName": "TableId", "ColumnType": "int"}, {"ColumnName": "Key", "ColumnType": "string"}, {"ColumnName": "Value", "ColumnType": "dynamic"}],
         "Rows": [[1, "Visualization", visualization.cloned().unwrap_or(json!({"Visualization": null}))]]},
        {"FrameType": "DataTable", "TableId": 1, "TableKind": "PrimaryResult", "TableName": "PrimaryResult", "Columns": columns, "Rows": rows},
        {"FrameType": "DataTable", "TableId": 2, "TableKind": "QueryCompletionInformation", "TableName": "QueryCompletionInformation",
         "Columns": [{"ColumnName": "Timestamp", "ColumnType": "datetime"}, {"ColumnName": "ClientRequestId", "ColumnType": "string"},
                     {"ColumnName": "ActivityId", "ColumnType": "guid"}, {"ColumnName": "SubActivityId", "ColumnType": "guid"},
                     {"ColumnName": "ParentActivityId", "ColumnType": "guid"}, {"ColumnName": "Level", "ColumnType": "int"},
                     {"ColumnName": "LevelName", "ColumnType": "string"}, {"ColumnName": "StatusCode", "ColumnType": "int"},
                     {"ColumnName": "StatusCodeName", "ColumnType": "string"}, {"ColumnName": "EventType", "ColumnType": "int"},
                     {"ColumnName": "EventTypeName", "ColumnType": "string"}, {"ColumnName": "Payload", "ColumnType": "string"}],
         "Rows": [[now, "", uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string(),
                   4, "Info", 0, "S_OK (0)", 4, "QueryInfo", "{\"Count\":1,\"Text\":\"Query completed successfully\"}"]]},
        {"FrameType": "DataSetCompletion", "HasErrors": has_errors, "Cancelled": false}
    ])
}
