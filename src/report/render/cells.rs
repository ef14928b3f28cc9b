//! A result's cells as people read them, shared by the HTML table and the plain-text part:
//! datetimes in the report's time zone, numbers with grouped thousands (and at most three
//! decimals), nulls empty, dynamic values as compact JSON. Numeric columns are right-aligned.

use crate::report::result::ResultColumn;
use chrono::{DateTime, Timelike};
use chrono_tz::Tz;
use serde_json::Value;

/// Whether a column of this Kusto type holds numbers (right-aligned).
pub fn is_numeric(kind: &str) -> bool {
    matches!(kind, "long" | "int" | "real" | "double" | "decimal")
}

/// A datetime (RFC 3339 text) in `tz`: `2026-12-03 10:00`, with seconds when they are not
/// zero; other text unchanged.
pub fn datetime(text: &str, tz: Tz) -> String {
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) => {
            let local = t.with_timezone(&tz);
            if local.second() == 0 && local.nanosecond() == 0 {
                local.format("%Y-%m-%d %H:%M").to_string()
            } else {
                local.format("%Y-%m-%d %H:%M:%S").to_string()
            }
        }
        Err(_) => text.to_string(),
    }
}

/// One cell as text.
pub fn text(v: &Value, column: &ResultColumn, tz: Tz) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) if column.r#type == "datetime" => datetime(s, tz),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if is_numeric(&column.r#type) || n.is_f64() => {
                iotc_adx_charts::style::number(f)
            }
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// Every row as cell texts.
pub fn rows(columns: &[ResultColumn], rows: &[Vec<Value>], tz: Tz) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().zip(columns).map(|(v, c)| text(v, c, tz)).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn col(kind: &str) -> ResultColumn {
        ResultColumn {
            name: "c".into(),
            r#type: kind.into(),
        }
    }

    #[test]
    fn cells_read_as_people_expect() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(
            text(&json!("2026-12-03T09:00:00Z"), &col("datetime"), berlin),
            "2026-12-03 10:00"
        );
        assert_eq!(
            text(&json!("2026-12-03T09:00:05.5Z"), &col("datetime"), Tz::UTC),
            "2026-12-03 09:00:05"
        );
        assert_eq!(text(&json!(1234567), &col("long"), Tz::UTC), "1,234,567");
        assert_eq!(text(&json!(21.456789), &col("real"), Tz::UTC), "21.457");
        assert_eq!(text(&Value::Null, &col("real"), Tz::UTC), "");
        assert_eq!(
            text(&json!({"a": [1]}), &col("dynamic"), Tz::UTC),
            "{\"a\":[1]}"
        );
    }
}
