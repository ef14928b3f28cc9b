//! Conversions and error helpers shared by the expression evaluator and the built-in
//! functions: `tostring`'s text, integer and real parsing, overflow errors.

use super::super::error::KqlError;
use super::super::timefmt::{self, TICKS_PER_DAY};
use super::super::value::Value;
use serde_json::Value as Json;

pub(super) fn err(msg: impl Into<String>, pos: usize) -> KqlError {
    KqlError::new(msg, pos)
}

/// Ticks between 0001-01-01 and 1970-01-01: datetime bins must divide it so that binning is
/// the same whichever origin Kusto uses.
pub(super) const EPOCH_OFFSET_TICKS: i64 = 719_162 * TICKS_PER_DAY;

pub(super) fn overflow(pos: usize) -> KqlError {
    err("Arithmetic overflow", pos)
}

pub(super) fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Long(i) => Some(*i as f64),
        Value::Real(f) => Some(*f),
        _ => None,
    }
}

/// Formats a real the way Kusto's tostring() does, for the values where that is unambiguous.
pub(super) fn real_to_string(f: f64, pos: usize) -> Result<String, KqlError> {
    if f.is_nan() {
        return Ok("NaN".into());
    }
    if f.is_infinite() {
        return Ok(if f > 0.0 { "Infinity" } else { "-Infinity" }.into());
    }
    if f == 0.0 || (f.abs() >= 1e-4 && f.abs() < 1e15) {
        let s = format!("{f}");
        return Ok(if s == "-0" { "0".into() } else { s });
    }
    Err(err(
        format!("tostring() of the real {f:e} is not supported by the emulator"),
        pos,
    ))
}

/// Parses an integer string for toint/tolong: Ok(None) when it is not a number.
pub(super) fn parse_integer(s: &str, pos: usize) -> Result<Option<i64>, KqlError> {
    let t = s.trim();
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    if !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(t.parse().ok());
    }
    if parse_real(t).is_some() {
        return Err(err(format!("Converting the non-integer string '{s}' to an integer is not supported by the emulator"), pos));
    }
    Ok(None)
}

/// Parses a real string for todouble: plain decimal/exponent forms, NaN and (-)Infinity.
pub(super) fn parse_real(s: &str) -> Option<f64> {
    let t = s.trim();
    match t {
        "NaN" => return Some(f64::NAN),
        "Infinity" => return Some(f64::INFINITY),
        "-Infinity" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
        || !t.bytes().any(|b| b.is_ascii_digit())
    {
        return None;
    }
    t.parse().ok()
}

pub(super) fn to_integer(v: Value, pos: usize) -> Result<Option<i64>, KqlError> {
    Ok(match v {
        Value::Long(i) => Some(i),
        Value::Real(f) => (f.is_finite() && f.abs() < 9.2e18).then(|| f.trunc() as i64),
        Value::Bool(b) => Some(i64::from(b)),
        Value::Str(s) => parse_integer(&s, pos)?,
        Value::Dynamic(Json::Number(n)) => match n.as_i64() {
            Some(i) => Some(i),
            None => n
                .as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9.2e18)
                .map(|f| f.trunc() as i64),
        },
        Value::Dynamic(Json::String(s)) => parse_integer(&s, pos)?,
        Value::Dynamic(Json::Bool(b)) => Some(i64::from(b)),
        _ => None,
    })
}

/// A value as `tostring()` writes it (null is empty).
pub(super) fn to_text(v: Value, pos: usize) -> Result<String, KqlError> {
    Ok(match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Long(i) => i.to_string(),
        Value::Real(f) => real_to_string(f, pos)?,
        Value::Str(s) | Value::Guid(s) => s,
        Value::DateTime(t) => timefmt::format_datetime(t).unwrap_or_default(),
        Value::TimeSpan(t) => timefmt::format_timespan(t),
        Value::Dynamic(Json::String(s)) => s,
        Value::Dynamic(j) => j.to_string(),
        Value::Decimal(_) => {
            return Err(err(
                "tostring() of a decimal is not supported by the emulator",
                pos,
            ))
        }
    })
}
