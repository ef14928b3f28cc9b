//! Query and management results: the v1 shape (`{"Tables":[...]}`, from `/v1/rest/mgmt`) and
//! the v2 frames (`[DataSetHeader, DataTable..., DataSetCompletion]`, from `/v2/rest/query`,
//! progressive frames included) turned into one [`Dataset`]. A v2 answer can be HTTP 200 and
//! still have failed part-way (`OneApiErrors` rows, `HasErrors`): that becomes an error here.

use super::status::OneApiError;
use serde_json::Value;

/// The tables of one query or command result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    /// Every table, in the order the service sent them.
    pub tables: Vec<Table>,
}

/// One result table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// `TableName` (`Table_0`, `PrimaryResult`, ...).
    pub name: String,
    /// v2 `TableKind` (`PrimaryResult`, `QueryProperties`, ...); `None` in v1 answers.
    pub kind: Option<String>,
    /// The columns, in row order.
    pub columns: Vec<Column>,
    /// The rows, each a value per column as sent (see the wire types in the fact sheet).
    pub rows: Vec<Vec<Value>>,
}

/// One column of a [`Table`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Column {
    /// `ColumnName`.
    pub name: String,
    /// The Kusto type (`ColumnType`, e.g. `long`), or v1's .NET `DataType` when that is all
    /// there is.
    pub r#type: String,
}

impl Dataset {
    /// The result a caller usually wants: the v2 `PrimaryResult` table, or the first table of a
    /// v1 answer.
    pub fn primary(&self) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.kind.as_deref() == Some("PrimaryResult"))
            .or_else(|| self.tables.iter().find(|t| t.kind.is_none()))
    }

    /// The query's `render` annotation: the `Visualization` row of the v2 `QueryProperties`
    /// table (an object such as `{"Visualization":"timechart","XColumn":...}`), or `None`
    /// when the query did not render (the row's `Visualization` is null) or the answer has
    /// no such table.
    pub fn visualization(&self) -> Option<Value> {
        let t = self
            .tables
            .iter()
            .find(|t| t.kind.as_deref() == Some("QueryProperties"))?;
        let (key, value) = (t.column("Key")?, t.column("Value")?);
        let row = t
            .rows
            .iter()
            .find(|r| r.get(key).and_then(Value::as_str) == Some("Visualization"))?;
        let v = match row.get(value)? {
            Value::String(s) => serde_json::from_str(s).ok()?,
            other => other.clone(),
        };
        match v.get("Visualization") {
            Some(Value::String(_)) => Some(v),
            _ => None,
        }
    }
}

impl Table {
    /// The index of the column called `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// Why a 200 answer could not be used.
#[derive(Debug)]
pub(super) enum ResponseError {
    /// Not the expected JSON shape.
    Malformed(String),
    /// The service reported failures inside the answer (v2 partial failure, v1 `Exceptions`).
    Failed(Vec<OneApiError>),
}

fn malformed(what: impl Into<String>) -> ResponseError {
    ResponseError::Malformed(what.into())
}

fn columns(v: &Value) -> Result<Vec<Column>, ResponseError> {
    let Some(list) = v.get("Columns").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    list.iter()
        .map(|c| {
            let name = c
                .get("ColumnName")
                .and_then(Value::as_str)
                .ok_or_else(|| malformed("a column has no ColumnName"))?;
            let ty = c
                .get("ColumnType")
                .and_then(Value::as_str)
                .or_else(|| c.get("DataType").and_then(Value::as_str))
                .unwrap_or("");
            Ok(Column {
                name: name.to_string(),
                r#type: ty.to_string(),
            })
        })
        .collect()
}

/// Appends the array rows of `v["Rows"]` to `rows`; object rows carrying `OneApiErrors`
/// (v2) or `Exceptions` (v1) go to `errors`.
fn rows_into(v: &Value, rows: &mut Vec<Vec<Value>>, errors: &mut Vec<OneApiError>) {
    let Some(list) = v.get("Rows").and_then(Value::as_array) else {
        return;
    };
    for row in list {
        match row {
            Value::Array(cells) => rows.push(cells.clone()),
            Value::Object(_) => errors.extend(row_errors(row)),
            _ => {}
        }
    }
}

fn row_errors(row: &Value) -> Vec<OneApiError> {
    let mut out: Vec<OneApiError> = row
        .get("OneApiErrors")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(OneApiError::from_value).collect())
        .unwrap_or_default();
    if let Some(ex) = row.get("Exceptions").and_then(Value::as_array) {
        out.extend(ex.iter().map(|e| {
            OneApiError {
                code: Some("PartialQueryFailure".into()),
                message: Some(
                    e.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| e.to_string()),
                ),
                permanent: None,
                activity_id: None,
            }
        }));
    }
    if out.is_empty() {
        out.push(OneApiError {
            code: Some("PartialQueryFailure".into()),
            message: Some("the answer holds a row that is an object".into()),
            permanent: None,
            activity_id: None,
        });
    }
    out
}

/// Parses a v1 answer.
pub(super) fn parse_v1(body: &[u8]) -> Result<Dataset, ResponseError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("the v1 answer is not JSON: {e}")))?;
    let tables = v
        .get("Tables")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("the v1 answer has no Tables"))?;
    let mut errors = Vec::new();
    let mut out = Dataset::default();
    for t in tables {
        let mut table = Table {
            name: t
                .get("TableName")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            kind: None,
            columns: columns(t)?,
            rows: Vec::new(),
        };
        rows_into(t, &mut table.rows, &mut errors);
        out.tables.push(table);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ResponseError::Failed(errors))
    }
}

fn frame_table(f: &Value) -> Result<Table, ResponseError> {
    let text = |k: &str| f.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(Table {
        name: text("TableName").unwrap_or_default(),
        kind: Some(text("TableKind").unwrap_or_default()),
        columns: columns(f)?,
        rows: Vec::new(),
    })
}

/// Parses a v2 answer (frames, progressive or not).
pub(super) fn parse_v2(body: &[u8]) -> Result<Dataset, ResponseError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("the v2 answer is not JSON: {e}")))?;
    if let Some(e) = v.get("error").and_then(|_| OneApiError::from_value(&v)) {
        return Err(ResponseError::Failed(vec![e]));
    }
    let frames = v
        .as_array()
        .ok_or_else(|| malformed("the v2 answer is not an array of frames"))?;
    let mut out = Dataset::default();
    let mut errors = Vec::new();
    // Progressive tables by TableId, as indexes into out.tables.
    let mut open: Vec<(i64, usize)> = Vec::new();
    let mut completed = false;
    for f in frames {
        let table_id = f.get("TableId").and_then(Value::as_i64).unwrap_or(-1);
        match f.get("FrameType").and_then(Value::as_str) {
            Some("DataTable") => {
                let mut t = frame_table(f)?;
                rows_into(f, &mut t.rows, &mut errors);
                out.tables.push(t);
            }
            Some("TableHeader") => {
                open.push((table_id, out.tables.len()));
                out.tables.push(frame_table(f)?);
            }
            Some("TableFragment") => {
                let index = open
                    .iter()
                    .find(|(id, _)| *id == table_id)
                    .map(|(_, i)| *i)
                    .ok_or_else(|| malformed(format!("a fragment of unknown table {table_id}")))?;
                let replace =
                    f.get("TableFragmentType").and_then(Value::as_str) == Some("DataReplace");
                let mut rows = Vec::new();
                rows_into(f, &mut rows, &mut errors);
                if let Some(t) = out.tables.get_mut(index) {
                    if replace {
                        t.rows = rows;
                    } else {
                        t.rows.extend(rows);
                    }
                }
            }
            Some("TableCompletion") | Some("DataSetCompletion") => {
                if let Some(list) = f.get("OneApiErrors").and_then(Value::as_array) {
                    errors.extend(list.iter().filter_map(OneApiError::from_value));
                }
                if f.get("FrameType").and_then(Value::as_str) == Some("DataSetCompletion") {
                    completed = true;
                    let has_errors = f.get("HasErrors").and_then(Value::as_bool) == Some(true);
                    let cancelled = f.get("Cancelled").and_then(Value::as_bool) == Some(true);
                    if (has_errors || cancelled) && errors.is_empty() {
                        errors.push(OneApiError {
                            code: Some(
                                if cancelled {
                                    "QueryCancelled"
                                } else {
                                    "PartialQueryFailure"
                                }
                                .into(),
                            ),
                            message: Some("the query reported errors without details".into()),
                            permanent: None,
                            activity_id: None,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Err(ResponseError::Failed(errors));
    }
    if !completed {
        return Err(malformed(
            "the v2 answer has no DataSetCompletion frame (cut short?)",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v1_tables() {
        let body = json!({"Tables":[{"TableName":"Table_0","Columns":[
            {"ColumnName":"ResourceTypeName","DataType":"String"},
            {"ColumnName":"n","DataType":"Int64","ColumnType":"long"}],
            "Rows":[["TempStorage",1],["X",null]]},
            {"TableName":"Table_1","Columns":[],"Rows":[]}]});
        let d = parse_v1(body.to_string().as_bytes()).unwrap();
        assert_eq!(d.tables.len(), 2);
        let t = d.primary().unwrap();
        assert_eq!(t.name, "Table_0");
        assert_eq!(
            t.columns[0],
            Column {
                name: "ResourceTypeName".into(),
                r#type: "String".into()
            }
        );
        assert_eq!(t.columns[1].r#type, "long");
        assert_eq!(
            t.rows,
            vec![
                vec![json!("TempStorage"), json!(1)],
                vec![json!("X"), Value::Null]
            ]
        );
        assert_eq!(t.column("n"), Some(1));
    }

    #[test]
    fn v1_errors() {
        assert!(matches!(
            parse_v1(b"nope"),
            Err(ResponseError::Malformed(_))
        ));
        assert!(matches!(parse_v1(b"{}"), Err(ResponseError::Malformed(_))));
        let body =
            json!({"Tables":[{"TableName":"T","Columns":[],"Rows":[{"Exceptions":["boom"]}]}]});
        match parse_v1(body.to_string().as_bytes()) {
            Err(ResponseError::Failed(e)) => assert_eq!(e[0].message.as_deref(), Some("boom")),
            other => panic!("{other:?}"),
        }
    }

    fn frames(primary_rows: Value, completion: Value) -> Vec<u8> {
        json!([
            {"FrameType":"DataSetHeader","IsProgressive":false,"Version":"v2.0"},
            {"FrameType":"DataTable","TableId":0,"TableKind":"QueryProperties","TableName":"@ExtendedProperties",
             "Columns":[{"ColumnName":"TableId","ColumnType":"int"}],"Rows":[]},
            {"FrameType":"DataTable","TableId":1,"TableKind":"PrimaryResult","TableName":"PrimaryResult",
             "Columns":[{"ColumnName":"x","ColumnType":"long"}],"Rows":primary_rows},
            {"FrameType":"DataTable","TableId":2,"TableKind":"QueryCompletionInformation","TableName":"QueryCompletionInformation","Columns":[],"Rows":[]},
            completion
        ])
        .to_string()
        .into_bytes()
    }

    #[test]
    fn v2_frames() {
        let d = parse_v2(&frames(
            json!([[1], [2]]),
            json!({"FrameType":"DataSetCompletion","HasErrors":false,"Cancelled":false}),
        ))
        .unwrap();
        assert_eq!(d.tables.len(), 3);
        let p = d.primary().unwrap();
        assert_eq!(p.name, "PrimaryResult");
        assert_eq!(p.kind.as_deref(), Some("PrimaryResult"));
        assert_eq!(
            p.columns,
            vec![Column {
                name: "x".into(),
                r#type: "long".into()
            }]
        );
        assert_eq!(p.rows, vec![vec![json!(1)], vec![json!(2)]]);
    }

    #[test]
    fn v2_visualization() {
        let with = |value: Value| {
            json!([
                {"FrameType":"DataSetHeader","IsProgressive":false,"Version":"v2.0"},
                {"FrameType":"DataTable","TableId":0,"TableKind":"QueryProperties","TableName":"@ExtendedProperties",
                 "Columns":[{"ColumnName":"TableId","ColumnType":"int"},{"ColumnName":"Key","ColumnType":"string"},
                            {"ColumnName":"Value","ColumnType":"dynamic"}],
                 "Rows":[[1,"Visualization",value]]},
                {"FrameType":"DataSetCompletion","HasErrors":false,"Cancelled":false}
            ])
            .to_string()
        };
        let chart = json!({"Visualization":"timechart","XColumn":"t"});
        let d = parse_v2(with(chart.clone()).as_bytes()).unwrap();
        assert_eq!(d.visualization(), Some(chart.clone()));
        // Some services send the value as a JSON string.
        let d = parse_v2(with(json!(chart.to_string())).as_bytes()).unwrap();
        assert_eq!(d.visualization(), Some(chart));
        let d = parse_v2(with(json!({"Visualization": null})).as_bytes()).unwrap();
        assert_eq!(d.visualization(), None);
    }

    #[test]
    fn v2_partial_failure() {
        let rows = json!([[1], {"OneApiErrors":[{"error":{"code":"LimitsExceeded","@message":"Query result set has exceeded the internal record count limit","@permanent":true}}]}]);
        match parse_v2(&frames(
            rows,
            json!({"FrameType":"DataSetCompletion","HasErrors":true,"Cancelled":false}),
        )) {
            Err(ResponseError::Failed(e)) => {
                assert_eq!(e.len(), 1);
                assert_eq!(e[0].code.as_deref(), Some("LimitsExceeded"));
                assert_eq!(e[0].permanent, Some(true));
            }
            other => panic!("{other:?}"),
        }
        // HasErrors with the errors on the completion frame.
        let done = json!({"FrameType":"DataSetCompletion","HasErrors":true,"Cancelled":false,
            "OneApiErrors":[{"error":{"code":"E","@message":"m","@permanent":false}}]});
        match parse_v2(&frames(json!([[1]]), done)) {
            Err(ResponseError::Failed(e)) => assert_eq!(e[0].permanent, Some(false)),
            other => panic!("{other:?}"),
        }
        // HasErrors without details still fails.
        let done = json!({"FrameType":"DataSetCompletion","HasErrors":true,"Cancelled":false});
        assert!(matches!(
            parse_v2(&frames(json!([[1]]), done)),
            Err(ResponseError::Failed(_))
        ));
    }

    #[test]
    fn v2_progressive_and_truncated() {
        let body = json!([
            {"FrameType":"DataSetHeader","IsProgressive":true,"Version":"v2.0"},
            {"FrameType":"TableHeader","TableId":1,"TableKind":"PrimaryResult","TableName":"PrimaryResult","Columns":[{"ColumnName":"x","ColumnType":"long"}]},
            {"FrameType":"TableFragment","TableId":1,"TableFragmentType":"DataAppend","Rows":[[1]]},
            {"FrameType":"TableFragment","TableId":1,"TableFragmentType":"DataAppend","Rows":[[2]]},
            {"FrameType":"TableProgress","TableId":1,"TableProgress":100.0},
            {"FrameType":"TableCompletion","TableId":1,"RowCount":2},
            {"FrameType":"DataSetCompletion","HasErrors":false,"Cancelled":false}
        ]);
        let d = parse_v2(body.to_string().as_bytes()).unwrap();
        assert_eq!(
            d.primary().unwrap().rows,
            vec![vec![json!(1)], vec![json!(2)]]
        );
        let cut = json!([{"FrameType":"DataSetHeader"}]);
        assert!(matches!(
            parse_v2(cut.to_string().as_bytes()),
            Err(ResponseError::Malformed(_))
        ));
        assert!(matches!(
            parse_v2(b"{\"Tables\":[]}"),
            Err(ResponseError::Malformed(_))
        ));
    }
}
