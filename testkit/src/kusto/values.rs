//! Kusto scalar types: their names (with aliases), their .NET names for v1 results, and the
//! conversion of an ingested value (JSON or CSV text) into the wire form the tables store.
//! A value that does not fit its column is an error, as in the service's strict ingestion.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

/// The canonical Kusto type name for a type name or alias, if it is one.
pub fn canonical_type(name: &str) -> Option<&'static str> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "bool" | "boolean" => "bool",
        "int" | "int32" => "int",
        "long" | "int64" => "long",
        "real" | "double" => "real",
        "decimal" => "decimal",
        "string" => "string",
        "datetime" | "date" => "datetime",
        "timespan" | "time" => "timespan",
        "guid" | "uniqueid" => "guid",
        "dynamic" => "dynamic",
        _ => return None,
    })
}

/// The .NET type name v1 results carry in `DataType`.
pub fn dotnet_type(kind: &str) -> &'static str {
    match kind {
        "bool" => "Boolean",
        "int" => "Int32",
        "long" => "Int64",
        "real" => "Double",
        "decimal" => "Decimal",
        "datetime" => "DateTime",
        "timespan" => "TimeSpan",
        "guid" => "Guid",
        "dynamic" => "Object",
        _ => "String",
    }
}

/// Why a value does not fit a column.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot convert {value} to {kind}")]
pub struct ConvertError {
    /// The offending value, as JSON text (shortened).
    pub value: String,
    /// The target type.
    pub kind: String,
}

fn fail(value: &Value, kind: &str) -> ConvertError {
    let mut text = value.to_string();
    if text.len() > 80 {
        let mut cut = 80;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    ConvertError {
        value: text,
        kind: kind.into(),
    }
}

/// Converts a JSON value into the wire form of `kind`.
pub fn from_json(value: &Value, kind: &str) -> Result<Value, ConvertError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let err = || fail(value, kind);
    match kind {
        "string" => Ok(match value {
            Value::String(s) => Value::String(s.clone()),
            other => Value::String(other.to_string()),
        }),
        "dynamic" => Ok(value.clone()),
        _ => match value {
            Value::String(s) => from_text(s, kind).map_err(|_| err()),
            Value::Number(n) => match kind {
                "long" => n
                    .as_i64()
                    .map(Value::from)
                    .or_else(|| integral(n.as_f64()?))
                    .ok_or_else(err),
                "int" => n
                    .as_i64()
                    .map(Value::from)
                    .or_else(|| integral(n.as_f64()?))
                    .filter(|v| v.as_i64().is_some_and(|i| i32::try_from(i).is_ok()))
                    .ok_or_else(err),
                // The service stores a 64-bit double: the same number as the text's nearest
                // double, which a query returns in its shortest round-trip form.
                "real" => n
                    .as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(err),
                "decimal" => Ok(Value::String(n.to_string())),
                "bool" => match n.as_i64() {
                    Some(0) => Ok(Value::Bool(false)),
                    Some(1) => Ok(Value::Bool(true)),
                    _ => Err(err()),
                },
                _ => Err(err()),
            },
            Value::Bool(b) => match kind {
                "bool" => Ok(Value::Bool(*b)),
                "long" | "int" => Ok(Value::from(i64::from(*b))),
                _ => Err(err()),
            },
            _ => Err(err()),
        },
    }
}

/// Like [`from_json`], taking the value: strings and dynamic values are moved into the
/// row as they are instead of copied.
pub fn from_json_owned(value: Value, kind: &str) -> Result<Value, ConvertError> {
    match (kind, value) {
        ("string", v @ Value::String(_)) | ("dynamic", v) => Ok(v),
        (_, v) => from_json(&v, kind),
    }
}

fn integral(f: f64) -> Option<Value> {
    (f.fract() == 0.0 && f.abs() < 9.0e18).then(|| Value::from(f as i64))
}

/// Converts text (a CSV field or a JSON string) into the wire form of `kind`. Empty text is
/// null for every type but string.
pub fn from_text(text: &str, kind: &str) -> Result<Value, ConvertError> {
    let err = || fail(&Value::String(text.to_string()), kind);
    let t = text.trim();
    if kind == "string" {
        return Ok(Value::String(text.to_string()));
    }
    if t.is_empty() {
        return Ok(Value::Null);
    }
    match kind {
        "long" => t.parse::<i64>().map(Value::from).map_err(|_| err()),
        "int" => t.parse::<i32>().map(Value::from).map_err(|_| err()),
        "real" => match t {
            "NaN" | "nan" => Ok(Value::String("NaN".into())),
            "Infinity" | "inf" | "+Infinity" => Ok(Value::String("Infinity".into())),
            "-Infinity" | "-inf" => Ok(Value::String("-Infinity".into())),
            _ => {
                let f = t.parse::<f64>().map_err(|_| err())?;
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(err)
            }
        },
        "decimal" => t
            .parse::<f64>()
            .map(|_| Value::String(t.to_string()))
            .map_err(|_| err()),
        "bool" => match t.to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(Value::Bool(true)),
            "false" | "0" => Ok(Value::Bool(false)),
            _ => Err(err()),
        },
        "datetime" => parse_datetime(t)
            .map(|d| Value::String(format_datetime(&d)))
            .ok_or_else(err),
        "timespan" => parse_timespan(t)
            .map(|ticks| Value::String(format_timespan(ticks)))
            .ok_or_else(err),
        "guid" => uuid::Uuid::parse_str(t)
            .map(|u| Value::String(u.hyphenated().to_string()))
            .map_err(|_| err()),
        "dynamic" => {
            Ok(serde_json::from_str(t).unwrap_or_else(|_| Value::String(text.to_string())))
        }
        _ => Err(err()),
    }
}

/// Parses the ISO 8601 forms Data Explorer accepts (with or without offset, fraction or time).
pub fn parse_datetime(t: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    let t = t.strip_suffix('Z').unwrap_or(t);
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, f) {
            return Some(Utc.from_utc_datetime(&d));
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| Utc.from_utc_datetime(&d))
}

/// Formats a datetime as the service does: UTC, 7 fractional digits, `Z`.
pub fn format_datetime(d: &DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    // Written field by field: chrono's `format` parses its pattern for every value, which
    // profiles of streaming ingestion showed among the emulator's top costs.
    if (0..=9999).contains(&d.year()) {
        return format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
            d.year(),
            d.month(),
            d.day(),
            d.hour(),
            d.minute(),
            d.second(),
            d.timestamp_subsec_nanos() / 100
        );
    }
    format!(
        "{}.{:07}Z",
        d.format("%Y-%m-%dT%H:%M:%S"),
        d.timestamp_subsec_nanos() / 100
    )
}

/// A datetime from a Unix time in units of `per_second` (1 = seconds, 1000 = milliseconds, ...).
pub fn datetime_from_unix(value: f64, per_second: f64) -> Option<String> {
    let nanos = value / per_second * 1e9;
    if !nanos.is_finite() || nanos.abs() > 9.0e18 {
        return None;
    }
    Some(format_datetime(&Utc.timestamp_nanos(nanos.round() as i64)))
}

const TICKS_PER_SECOND: i128 = 10_000_000;
/// .NET TimeSpan's range, in days.
const MAX_DAYS: i128 = 10_675_199;

/// Parses `[-][d.]hh:mm:ss[.fffffff]` or a Kusto literal such as `30s`, `5m`, `1h`, `2d`, `10ms`
/// into 100 ns ticks.
pub fn parse_timespan(t: &str) -> Option<i128> {
    let (negative, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let ticks = if body.contains(':') {
        let (days, clock) = match body
            .split_once(':')
            .and_then(|(head, _)| head.split_once('.'))
        {
            Some((d, _)) => (d.parse::<i128>().ok()?, &body[body.find('.')? + 1..]),
            None => (0, body),
        };
        let mut parts = clock.split(':');
        let h: i128 = parts.next()?.parse().ok()?;
        let m: i128 = parts.next()?.parse().ok()?;
        let s_text = parts.next().unwrap_or("0");
        if parts.next().is_some() || m > 59 {
            return None;
        }
        let (s, frac) = s_text.split_once('.').unwrap_or((s_text, ""));
        let s: i128 = s.parse().ok()?;
        if s > 59
            || frac.len() > 7
            || !frac.chars().all(|c| c.is_ascii_digit())
            || days > MAX_DAYS
            || h > MAX_DAYS * 24
        {
            return None;
        }
        let frac_ticks: i128 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<7}").parse().ok()?
        };
        ((days * 24 + h) * 3600 + m * 60 + s) * TICKS_PER_SECOND + frac_ticks
    } else {
        let unit_at = body.find(|c: char| c.is_ascii_alphabetic())?;
        let (number, unit) = body.split_at(unit_at);
        let n: f64 = number.parse().ok()?;
        let per = match unit {
            "d" => 86_400.0,
            "h" => 3_600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
        let ticks = (n * per * TICKS_PER_SECOND as f64).round();
        if !ticks.is_finite() || ticks.abs() > (MAX_DAYS * 86_400 * TICKS_PER_SECOND) as f64 {
            return None;
        }
        ticks as i128
    };
    Some(if negative { -ticks } else { ticks })
}

/// Formats ticks as `[-][d.]hh:mm:ss[.fffffff]`.
pub fn format_timespan(ticks: i128) -> String {
    let sign = if ticks < 0 { "-" } else { "" };
    let t = ticks.abs();
    let frac = t % TICKS_PER_SECOND;
    let secs = t / TICKS_PER_SECOND;
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let days = if d > 0 {
        format!("{d}.")
    } else {
        String::new()
    };
    let frac = if frac > 0 {
        format!(".{frac:07}")
    } else {
        String::new()
    };
    format!("{sign}{days}{h:02}:{m:02}:{s:02}{frac}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_convert_or_fail() {
        assert_eq!(
            from_json(&json!("2020-08-05T22:26:55.455Z"), "datetime").unwrap(),
            json!("2020-08-05T22:26:55.4550000Z")
        );
        assert_eq!(
            from_json(&json!("2020-08-05T23:26:55+01:00"), "datetime").unwrap(),
            json!("2020-08-05T22:26:55.0000000Z")
        );
        assert!(from_json(&json!("yesterday"), "datetime").is_err());
        assert_eq!(from_json(&json!("42"), "long").unwrap(), json!(42));
        assert!(from_json(&json!(1.5), "long").is_err());
        assert!(from_json(&json!(3_000_000_000i64), "int").is_err());
        assert_eq!(from_json(&json!(1), "string").unwrap(), json!("1"));
        assert_eq!(
            from_json(&json!({"a":1}), "dynamic").unwrap(),
            json!({"a":1})
        );
        assert_eq!(
            from_text("1.02:03:04.5", "timespan").unwrap(),
            json!("1.02:03:04.5000000")
        );
        assert_eq!(from_text("90s", "timespan").unwrap(), json!("00:01:30"));
        assert!(from_text("99999999999999999999999999999999999.00:00:00", "timespan").is_err());
        assert!(from_text("1e300d", "timespan").is_err());
        assert_eq!(from_text("", "long").unwrap(), Value::Null);
        assert!(from_text("x", "bool").is_err());
        assert_eq!(
            datetime_from_unix(1_600_000_000_000.0, 1000.0).unwrap(),
            "2020-09-13T12:26:40.0000000Z"
        );
    }
}
