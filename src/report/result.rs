//! A run's result as every later step sees it: the primary table's columns and rows, and the
//! query's `render` annotation. Conditions, messages and exports read rows as objects keyed
//! by column name, built here once.

use iotc_adx_kusto::Dataset;
use serde_json::{json, Map, Value};

/// One result column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultColumn {
    /// The column's name.
    pub name: String,
    /// Its Kusto type (`string`, `long`, `datetime`, ...).
    pub r#type: String,
}

/// The primary result of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportResult {
    /// The columns, in order.
    pub columns: Vec<ResultColumn>,
    /// The rows, one value per column.
    pub rows: Vec<Vec<Value>>,
    /// The `render` annotation (`{"Visualization":"timechart",...}`), if the query rendered.
    pub visualization: Option<Value>,
}

impl ReportResult {
    /// The primary table of `d` (empty when there is none, as for some commands).
    pub fn from_dataset(d: Dataset) -> Self {
        let visualization = d.visualization();
        let primary = d
            .tables
            .iter()
            .position(|t| t.kind.as_deref() == Some("PrimaryResult"))
            .or_else(|| d.tables.iter().position(|t| t.kind.is_none()));
        let Some(i) = primary else {
            return ReportResult {
                visualization,
                ..Default::default()
            };
        };
        let table = d.tables.into_iter().nth(i).unwrap_or_default();
        ReportResult {
            columns: table
                .columns
                .into_iter()
                .map(|c| ResultColumn {
                    name: c.name,
                    r#type: c.r#type,
                })
                .collect(),
            rows: table.rows,
            visualization,
        }
    }

    /// Row `row` as an object keyed by column name.
    pub fn object(&self, row: &[Value]) -> Map<String, Value> {
        self.columns
            .iter()
            .zip(row)
            .map(|(c, v)| (c.name.clone(), v.clone()))
            .collect()
    }

    /// Every row as an object.
    pub fn objects(&self) -> Vec<Value> {
        self.rows
            .iter()
            .map(|r| Value::Object(self.object(r)))
            .collect()
    }

    /// The value of column `name` in `row`, as text (strings bare, others as JSON, null
    /// empty): alert keys and message fields.
    pub fn text(&self, row: &[Value], name: &str) -> Option<String> {
        let i = self.columns.iter().position(|c| c.name == name)?;
        Some(match row.get(i)? {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        })
    }

    /// `{row_count, columns: [{name, type}], rows: [{...}]}`: what `when.expression` sees.
    pub fn document(&self) -> Value {
        let columns: Vec<Value> = self
            .columns
            .iter()
            .map(|c| json!({"name": c.name, "type": c.r#type}))
            .collect();
        json!({"row_count": self.rows.len(), "columns": columns, "rows": self.objects()})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iotc_adx_kusto::{Column, Table};

    fn result() -> ReportResult {
        ReportResult::from_dataset(Dataset {
            tables: vec![
                Table {
                    name: "@ExtendedProperties".into(),
                    kind: Some("QueryProperties".into()),
                    columns: vec![],
                    rows: vec![],
                },
                Table {
                    name: "PrimaryResult".into(),
                    kind: Some("PrimaryResult".into()),
                    columns: vec![
                        Column {
                            name: "DeviceId".into(),
                            r#type: "string".into(),
                        },
                        Column {
                            name: "n".into(),
                            r#type: "long".into(),
                        },
                    ],
                    rows: vec![vec![json!("d1"), json!(3)], vec![json!("d2"), Value::Null]],
                },
            ],
        })
    }

    #[test]
    fn rows_become_objects_and_documents() {
        let r = result();
        assert_eq!(r.columns.len(), 2);
        assert_eq!(r.objects()[0], json!({"DeviceId": "d1", "n": 3}));
        assert_eq!(r.text(&r.rows[0], "n").as_deref(), Some("3"));
        assert_eq!(r.text(&r.rows[1], "n").as_deref(), Some(""));
        assert_eq!(r.text(&r.rows[0], "nope"), None);
        let doc = r.document();
        assert_eq!(doc["row_count"], 2);
        assert_eq!(doc["columns"][1], json!({"name": "n", "type": "long"}));
        assert_eq!(doc["rows"][1]["DeviceId"], "d2");
        assert_eq!(
            ReportResult::from_dataset(Dataset::default()),
            ReportResult::default()
        );
    }
}
