//! Coercion of transform output to a table's columns, written straight into the multijson
//! payload Data Explorer ingests.
//!
//! Each value is checked against its column's Kusto type and written in the wire form the
//! service expects (ISO 8601 with 7 fractional digits for datetime, `d.hh:mm:ss.fffffff` for
//! timespan, decimal as a string, ...). A value that cannot be converted is an error naming the
//! row, the column and the value: never a silent null.

use crate::decode::{json_type, with_article};
use crate::schema::{Column, KustoType, TableSchema};
use crate::transform::jmespath::{Elements, Entries, JsonType, View};
use crate::transform::json_text::write_str;
use crate::transform::number_text::{integer_text, is_decimal_text, IntegerText};
use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde_json::{Number, Value};
use std::borrow::Cow;

/// Why transform output does not fit the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    /// The transform returned something that is neither an object, an array nor null.
    #[error("the transform returned {}: expected an object (one row), an array of objects (one row each) or null (no row)", with_article(.found))]
    NotRows {
        /// The JSON type returned.
        found: &'static str,
    },
    /// An array element is not an object.
    #[error("row {row} is {}, not an object", with_article(.found))]
    RowNotObject {
        /// 1-based row number.
        row: usize,
        /// The JSON type of the element.
        found: &'static str,
    },
    /// A row has a field that is not a column.
    #[error("row {row} has the field `{field}`, which is not a column of the table (columns: {columns})")]
    UnknownColumn {
        /// 1-based row number.
        row: usize,
        /// The field.
        field: String,
        /// The table's column names, comma-separated.
        columns: String,
    },
    /// A value cannot be converted to its column's type.
    #[error("row {row}, column `{column}` ({kind}): {problem}")]
    BadValue {
        /// 1-based row number.
        row: usize,
        /// The column.
        column: String,
        /// The column's type.
        kind: KustoType,
        /// What is wrong with the value.
        problem: String,
    },
}

impl RowError {
    /// A short, fixed name for the kind of problem (a metric label: never the details).
    pub fn kind(&self) -> &'static str {
        match self {
            RowError::NotRows { .. } => "not_rows",
            RowError::RowNotObject { .. } => "row_not_object",
            RowError::UnknownColumn { .. } => "unknown_column",
            RowError::BadValue { .. } => "bad_value",
        }
    }
}

/// Encodes the transform's result as multijson rows (one JSON object per line, keys in
/// column order) appended to `out`, returning how many rows were written.
///
/// On error nothing is appended: `out` is restored to its length on entry, so a message
/// either contributes all of its rows or none. A thin wrapper over [`encode_view`] for
/// callers holding a `serde_json::Value` (the preview command, tests).
pub fn encode_rows(
    result: &Value,
    schema: &TableSchema,
    out: &mut Vec<u8>,
) -> Result<usize, RowError> {
    encode_view(View::json(result), schema, out)
}

/// Like [`encode_rows`], but reads the result through a [`View`] straight from the
/// transform's evaluation ([`crate::transform::Transform::apply_encoded`]), so the result is
/// never copied into a `serde_json::Value`: cells that point into the message are written
/// from it, and built strings, numbers and booleans are written directly where the column
/// type allows. Output and errors are the same as [`encode_rows`] on the copied result.
pub fn encode_view(
    result: View<'_>,
    schema: &TableSchema,
    out: &mut Vec<u8>,
) -> Result<usize, RowError> {
    let start = out.len();
    let outcome = encode_result(result, schema, out);
    if outcome.is_err() {
        out.truncate(start);
    }
    outcome
}

/// Most tables have fewer columns than this; their row slots live on the stack.
const STACK_COLUMNS: usize = 32;

/// Dispatches on the result's shape: null (no row), an object (one row) or an array of them.
fn encode_result(
    result: View<'_>,
    schema: &TableSchema,
    out: &mut Vec<u8>,
) -> Result<usize, RowError> {
    let columns = schema.columns().len();
    let mut stack = [None; STACK_COLUMNS];
    let mut heap = Vec::new();
    let slots: &mut [Option<View<'_>>] = if columns <= STACK_COLUMNS {
        &mut stack[..columns]
    } else {
        heap.resize(columns, None);
        &mut heap
    };
    if let Some(entries) = result.entries() {
        return encode_row(entries, 1, schema, slots, out).map(|()| 1);
    }
    if let Some(rows) = result.elements() {
        return encode_array(rows, schema, slots, out);
    }
    match result.json_type() {
        JsonType::Null => Ok(0),
        other => Err(RowError::NotRows {
            found: other.name(),
        }),
    }
}

fn encode_array<'v>(
    rows: Elements<'v>,
    schema: &TableSchema,
    slots: &mut [Option<View<'v>>],
    out: &mut Vec<u8>,
) -> Result<usize, RowError> {
    let mut written = 0;
    for (i, row) in rows.enumerate() {
        if let Some(entries) = row.entries() {
            encode_row(entries, i + 1, schema, slots, out)?;
            written += 1;
            continue;
        }
        match row.json_type() {
            // A projection never yields null elements, but a literal array could: no row.
            JsonType::Null => {}
            other => {
                return Err(RowError::RowNotObject {
                    row: i + 1,
                    found: other.name(),
                })
            }
        }
    }
    Ok(written)
}

/// Writes one row: its fields are first matched to column slots (so an unknown field is
/// reported before any bad value, as before), then the cells are written in column order.
fn encode_row<'v>(
    row: Entries<'v>,
    number: usize,
    schema: &TableSchema,
    slots: &mut [Option<View<'v>>],
    out: &mut Vec<u8>,
) -> Result<(), RowError> {
    assign_slots(row, number, schema, slots)?;
    out.push(b'{');
    let cells = schema
        .columns()
        .iter()
        .zip(schema.json_keys())
        .zip(slots.iter());
    for (i, ((column, key), slot)) in cells.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(key);
        match slot {
            None => out.extend_from_slice(b"null"),
            Some(value) => write_view_cell(out, *value, column.kind)
                .map_err(|problem| bad_value(number, column, problem))?,
        }
    }
    out.extend_from_slice(b"}\n");
    Ok(())
}

/// Puts each field of `row` into the slot of its column; an unknown field is an error.
fn assign_slots<'v>(
    row: Entries<'v>,
    number: usize,
    schema: &TableSchema,
    slots: &mut [Option<View<'v>>],
) -> Result<(), RowError> {
    slots.fill(None);
    let columns = schema.columns();
    // Fields usually come in column order, so the search starts after the last match.
    let mut next = 0;
    for (field, value) in row {
        let Some(i) = find_column(columns, field, next) else {
            return Err(RowError::UnknownColumn {
                row: number,
                field: field.to_string(),
                columns: columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        if let Some(slot) = slots.get_mut(i) {
            *slot = Some(value);
        }
        next = i + 1;
    }
    Ok(())
}

/// The index of the column named `name`, searching from `from` and wrapping around.
#[inline]
fn find_column(columns: &[Column], name: &str, from: usize) -> Option<usize> {
    let from = from.min(columns.len());
    let (head, tail) = columns.split_at(from);
    tail.iter()
        .position(|c| c.name == name)
        .map(|i| from + i)
        .or_else(|| head.iter().position(|c| c.name == name))
}

/// Writes one cell from a view. A value borrowed from the message goes through
/// [`write_cell`]; built strings, numbers and booleans take the fast paths of
/// [`write_built_cell`]; anything else is copied out and coerced like any other value.
fn write_view_cell(out: &mut Vec<u8>, value: View<'_>, kind: KustoType) -> Result<(), String> {
    if let Some(json) = value.as_json() {
        return write_cell(out, json, kind);
    }
    if write_built_cell(out, value, kind) {
        return Ok(());
    }
    write_cell(out, &value.to_value(), kind)
}

/// Fast paths for a built scalar whose wire form needs no conversion (or only an
/// infallible one): writes it and returns true, or writes nothing and returns false.
fn write_built_cell(out: &mut Vec<u8>, value: View<'_>, kind: KustoType) -> bool {
    match value.json_type() {
        JsonType::Null => out.extend_from_slice(b"null"),
        JsonType::String => {
            let Some(s) = value.as_str() else {
                return false;
            };
            match kind {
                KustoType::String | KustoType::Dynamic => write_str(out, s),
                KustoType::DateTime => return write_utc_datetime(out, s),
                _ => return false,
            }
        }
        JsonType::Number => match (value.as_i64(), value.as_f64()) {
            (Some(i), _) => return write_integer(out, i, kind),
            (None, Some(f)) if matches!(kind, KustoType::Real | KustoType::Dynamic) => {
                write_json(out, &f)
            }
            _ => return false,
        },
        JsonType::Bool => match (value.as_bool(), kind) {
            (Some(b), KustoType::Bool | KustoType::Dynamic) => write_json(out, &b),
            (Some(b), KustoType::String) => {
                out.extend_from_slice(if b { b"\"true\"" } else { b"\"false\"" })
            }
            _ => return false,
        },
        JsonType::Array | JsonType::Object => return false,
    }
    true
}

/// Writes an integer for the column types that take it as is (or as its decimal text);
/// returns false, writing nothing, for the others and for an `int` out of range.
fn write_integer(out: &mut Vec<u8>, i: i64, kind: KustoType) -> bool {
    match kind {
        KustoType::Long | KustoType::Real | KustoType::Dynamic => write_json(out, &i),
        KustoType::Int if i32::try_from(i).is_ok() => write_json(out, &i),
        KustoType::String | KustoType::Decimal => {
            out.push(b'"');
            write_json(out, &i);
            out.push(b'"');
        }
        _ => return false,
    }
    true
}

fn bad_value(row: usize, column: &Column, problem: String) -> RowError {
    RowError::BadValue {
        row,
        column: column.name.clone(),
        kind: column.kind,
        problem,
    }
}

fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing JSON into a Vec cannot fail: there is no I/O, and our values have string keys.
    let _ = serde_json::to_writer(&mut *out, value);
}

/// Writes one cell. The common cases (a value already in wire form) are written straight
/// into the payload; the rest go through [`coerce`].
fn write_cell(out: &mut Vec<u8>, value: &Value, kind: KustoType) -> Result<(), String> {
    match (kind, value) {
        (KustoType::Dynamic | KustoType::String, Value::String(s)) => write_str(out, s),
        (KustoType::Dynamic, _) => write_json(out, value),
        (KustoType::DateTime, Value::String(s)) if write_utc_datetime(out, s) => {}
        // As written: Data Explorer reads the same double from the same text.
        (KustoType::Real, Value::Number(n)) if n.as_f64().is_some() => write_json(out, value),
        _ => write_json(out, &coerce(value, kind)?),
    }
    Ok(())
}

/// Fast path for `YYYY-MM-DDTHH:MM:SS[.f…]Z`, IoT Central's own form: validated and written
/// quoted with exactly 7 fractional digits, without parsing into a date type. Returns false
/// (writing nothing) for any other form, which then takes the general path.
fn write_utc_datetime(out: &mut Vec<u8>, s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return false;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let separators =
        b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':';
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        digits(0..4),
        digits(5..7),
        digits(8..10),
        digits(11..13),
        digits(14..16),
        digits(17..19),
    ) else {
        return false;
    };
    let fraction = &b[19..b.len() - 1];
    let fraction_ok = fraction.is_empty()
        || (fraction.len() >= 2
            && fraction.len() <= 10
            && fraction[0] == b'.'
            && fraction[1..].iter().all(u8::is_ascii_digit));
    let valid = separators
        && fraction_ok
        && hour < 24
        && minute < 60
        && second < 60
        && NaiveDate::from_ymd_opt(year as i32, month, day).is_some();
    if !valid {
        return false;
    }
    out.push(b'"');
    out.extend_from_slice(&b[..19]);
    out.push(b'.');
    let given = fraction.get(1..).unwrap_or(&[]);
    let kept = given.len().min(7);
    out.extend_from_slice(&given[..kept]);
    out.extend(std::iter::repeat_n(b'0', 7 - kept));
    out.extend_from_slice(b"Z\"");
    true
}

/// Converts one value to the wire form of `kind`, or explains why it cannot.
///
/// Null is valid for every type (Kusto columns are nullable).
pub fn coerce(value: &Value, kind: KustoType) -> Result<Cow<'_, Value>, String> {
    if value.is_null() {
        return Ok(Cow::Borrowed(value));
    }
    let owned = match kind {
        KustoType::Dynamic => return Ok(Cow::Borrowed(value)),
        KustoType::Bool => to_bool(value)?,
        KustoType::Int => to_integer(value, i32::MIN.into(), i32::MAX.into(), "int")?,
        KustoType::Long => to_integer(value, i64::MIN, i64::MAX, "long")?,
        KustoType::Real => to_real(value)?,
        KustoType::Decimal => to_decimal(value)?,
        KustoType::String => match value {
            Value::String(_) => return Ok(Cow::Borrowed(value)),
            Value::Number(n) => Value::String(n.to_string()),
            Value::Bool(b) => Value::String(b.to_string()),
            // As Data Explorer does when a JSON object lands in a string column: its JSON text.
            other => Value::String(other.to_string()),
        },
        KustoType::DateTime => Value::String(to_datetime(value)?),
        KustoType::TimeSpan => Value::String(to_timespan(value)?),
        KustoType::Guid => Value::String(to_guid(value)?),
    };
    Ok(Cow::Owned(owned))
}

/// A short quotation of a value for error messages.
fn quote(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}...")
    } else {
        text
    }
}

fn wrong(value: &Value, expected: &str) -> String {
    format!(
        "{} is {}, expected {expected}",
        quote(value),
        with_article(json_type(value))
    )
}

fn to_bool(value: &Value) -> Result<Value, String> {
    match value {
        Value::Bool(_) => Ok(value.clone()),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
        Value::Number(n) if n.as_i64() == Some(1) => Ok(Value::Bool(true)),
        Value::Number(n) if n.as_i64() == Some(0) => Ok(Value::Bool(false)),
        _ => Err(format!(
            "{} is not a boolean: expected true, false, \"true\", \"false\", 1 or 0",
            quote(value)
        )),
    }
}

fn to_integer(value: &Value, min: i64, max: i64, name: &str) -> Result<Value, String> {
    let text = match value {
        Value::Number(n) => n.as_str(),
        Value::String(s) => s.trim(),
        _ => return Err(wrong(value, &format!("an integer ({name})"))),
    };
    let out_of_range = || {
        format!(
            "{} is out of range for {name} ({min} to {max})",
            quote(value)
        )
    };
    let n = match integer_text(text) {
        IntegerText::Integer(Some(n)) => n,
        IntegerText::Integer(None) => return Err(out_of_range()),
        IntegerText::Fractional => {
            return Err(format!(
                "{} has a fractional part, so it is not an {name}",
                quote(value)
            ))
        }
        IntegerText::NotANumber => return Err(format!("{} is not an integer", quote(value))),
    };
    if n < i128::from(min) || n > i128::from(max) {
        return Err(out_of_range());
    }
    Ok(Value::Number(Number::from(n as i64)))
}

fn to_real(value: &Value) -> Result<Value, String> {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(_) => Ok(value.clone()),
            None => Err(real_out_of_range(value)),
        },
        Value::String(s) => {
            let t = s.trim();
            match t {
                "NaN" | "nan" => return Ok(Value::String("NaN".into())),
                "Infinity" | "+Infinity" | "inf" => return Ok(Value::String("Infinity".into())),
                "-Infinity" | "-inf" => return Ok(Value::String("-Infinity".into())),
                _ => {}
            }
            let f: f64 = t
                .parse()
                .map_err(|_| format!("{} is not a number", quote(value)))?;
            Number::from_f64(f)
                .map(Value::Number)
                .ok_or_else(|| format!("{} is not a finite number", quote(value)))
        }
        _ => Err(wrong(value, "a number")),
    }
}

fn to_decimal(value: &Value) -> Result<Value, String> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return Err(wrong(value, "a decimal number or a numeric string")),
    };
    if is_decimal_text(&text) {
        Ok(Value::String(text))
    } else {
        Err(format!("{} is not a decimal number", quote(value)))
    }
}

/// A number beyond the range of a double (JSON allows `1e400`; `real` cannot hold it).
fn real_out_of_range(value: &Value) -> String {
    format!(
        "{} is out of range for real (a 64-bit double, at most about 1.8e308)",
        quote(value)
    )
}

/// Parses the date-time forms Data Explorer accepts in JSON and writes the canonical form.
fn to_datetime(value: &Value) -> Result<String, String> {
    let Value::String(s) = value else {
        return Err(match value {
            Value::Number(_) => format!(
                "{} is a number; datetime needs an ISO 8601 string (for Unix times, convert in the transform or use a long column)",
                quote(value)
            ),
            _ => wrong(value, "an ISO 8601 date-time string"),
        });
    };
    parse_datetime(s.trim())
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Nanos, true))
        .map(|t| seven_digits(&t))
        .ok_or_else(|| {
            format!(
                "{} is not an ISO 8601 date-time (such as 2026-01-31T12:00:00Z)",
                quote(value)
            )
        })
}

fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.to_utc());
    }
    // Kusto treats date-times without an offset as UTC, with a 'T' or a space.
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc());
        }
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Some(t.to_utc());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// `...:55.455000000Z` → `...:55.4550000Z`: Kusto's datetime has 100 ns ticks.
fn seven_digits(nanos: &str) -> String {
    match nanos.rfind('.') {
        Some(dot) if nanos.len() >= dot + 10 => format!("{}Z", &nanos[..dot + 8]),
        _ => nanos.to_string(),
    }
}

/// Parses `[-][d.]hh:mm:ss[.fffffff]` and writes it back normalised.
fn to_timespan(value: &Value) -> Result<String, String> {
    let Value::String(s) = value else {
        return Err(wrong(value, "a timespan string such as \"1.02:03:04.5\""));
    };
    parse_timespan(s.trim()).ok_or_else(|| {
        format!(
            "{} is not a timespan: expected [-][d.]hh:mm:ss[.fffffff]",
            quote(value)
        )
    })
}

fn parse_timespan(s: &str) -> Option<String> {
    let (negative, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (clock, fraction) = match rest.rsplit_once('.') {
        // A '.' after the seconds is a fraction; one before the hours separates days.
        Some((head, tail)) if head.matches(':').count() == 2 => (head, Some(tail)),
        _ => (rest, None),
    };
    let (days, clock) = match clock.split_once('.') {
        Some((d, c)) => (Some(d), c),
        None => (None, clock),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    let [h, m, sec] = parts.as_slice() else {
        return None;
    };
    let number = |t: &str, max: u64| -> Option<u64> {
        if t.is_empty() || t.len() > 2 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse().ok().filter(|v| *v <= max)
    };
    let (h, m, sec) = (number(h, 23)?, number(m, 59)?, number(sec, 59)?);
    let days = match days {
        Some(d) if !d.is_empty() && d.len() <= 8 && d.bytes().all(|b| b.is_ascii_digit()) => {
            d.parse::<u64>().ok()?
        }
        Some(_) => return None,
        None => 0,
    };
    let ticks_fraction = match fraction {
        Some(f) if !f.is_empty() && f.len() <= 7 && f.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{f:0<7}")
        }
        Some(_) => return None,
        None => String::new(),
    };
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if days > 0 {
        out.push_str(&format!("{days}."));
    }
    out.push_str(&format!("{h:02}:{m:02}:{sec:02}"));
    if !ticks_fraction.is_empty() && ticks_fraction != "0000000" {
        out.push('.');
        out.push_str(&ticks_fraction);
    }
    Some(out)
}

fn to_guid(value: &Value) -> Result<String, String> {
    let Value::String(s) = value else {
        return Err(wrong(value, "a GUID string"));
    };
    uuid::Uuid::parse_str(s.trim())
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| {
            format!(
                "{} is not a GUID (such as 1dffa667-9bee-4f16-b243-25ad4151475e)",
                quote(value)
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn c(v: Value, k: KustoType) -> Result<Value, String> {
        coerce(&v, k).map(Cow::into_owned)
    }

    #[test]
    fn every_type_accepts_its_good_values() {
        use KustoType::*;
        assert_eq!(c(json!("TRUE"), Bool), Ok(json!(true)));
        assert_eq!(c(json!(0), Bool), Ok(json!(false)));
        assert_eq!(c(json!(7.0), Int), Ok(json!(7)));
        assert_eq!(c(json!(" -12 "), Int), Ok(json!(-12)));
        assert_eq!(
            c(json!(9007199254740993_i64), Long),
            Ok(json!(9007199254740993_i64))
        );
        assert_eq!(c(json!("1.5e3"), Real), Ok(json!(1500.0)));
        assert_eq!(c(json!("NaN"), Real), Ok(json!("NaN")));
        assert_eq!(c(json!(88), Real), Ok(json!(88)));
        assert_eq!(c(json!(1.25), Decimal), Ok(json!("1.25")));
        assert_eq!(
            c(json!("-0.000000000000000000001"), Decimal),
            Ok(json!("-0.000000000000000000001"))
        );
        assert_eq!(c(json!(12), String), Ok(json!("12")));
        assert_eq!(c(json!({"a":1}), String), Ok(json!("{\"a\":1}")));
        assert_eq!(
            c(json!("2020-08-05T22:26:55.455Z"), DateTime),
            Ok(json!("2020-08-05T22:26:55.4550000Z"))
        );
        assert_eq!(
            c(json!("2020-08-05T23:26:55+01:00"), DateTime),
            Ok(json!("2020-08-05T22:26:55.0000000Z"))
        );
        assert_eq!(
            c(json!("2020-08-05 22:26:55.1234567891"), DateTime),
            Ok(json!("2020-08-05T22:26:55.1234567Z"))
        );
        assert_eq!(
            c(json!("2020-08-05"), DateTime),
            Ok(json!("2020-08-05T00:00:00.0000000Z"))
        );
        assert_eq!(
            c(json!("1.02:03:04.5"), TimeSpan),
            Ok(json!("1.02:03:04.5000000"))
        );
        assert_eq!(c(json!("-00:00:01"), TimeSpan), Ok(json!("-00:00:01")));
        assert_eq!(
            c(json!("{1DFFA667-9BEE-4F16-B243-25AD4151475E}"), Guid),
            Ok(json!("1dffa667-9bee-4f16-b243-25ad4151475e"))
        );
        assert_eq!(
            c(json!([1, {"b": null}]), Dynamic),
            Ok(json!([1, {"b": null}]))
        );
        for k in KustoType::ALL {
            assert_eq!(c(Value::Null, k), Ok(Value::Null), "{k}");
        }
    }

    #[test]
    fn every_type_rejects_a_wrong_value() {
        use KustoType::*;
        let cases = [
            (json!("yes"), Bool, "not a boolean"),
            (json!(3.5), Int, "fractional part"),
            (json!(3_000_000_000_i64), Int, "out of range for int"),
            (
                json!(18446744073709551615_u64),
                Long,
                "out of range for long",
            ),
            (json!("12a"), Long, "not an integer"),
            (json!({"a": 1}), Real, "is an object"),
            (json!("1.2.3"), Decimal, "not a decimal"),
            (json!(true), Decimal, "is a boolean"),
            (json!("yesterday"), DateTime, "not an ISO 8601 date-time"),
            (json!(1596666415), DateTime, "is a number; datetime needs"),
            (json!("25:00:00"), TimeSpan, "not a timespan"),
            (json!("1:2"), TimeSpan, "not a timespan"),
            (json!(5), TimeSpan, "is a number"),
            (json!("not-a-guid"), Guid, "not a GUID"),
        ];
        for (v, k, needle) in cases {
            let e = c(v.clone(), k).unwrap_err();
            assert!(e.contains(needle), "{v} as {k}: {e}");
        }
    }

    fn schema() -> TableSchema {
        TableSchema::parse("T:datetime, Device:string, Value:dynamic").unwrap()
    }

    #[test]
    fn rows_are_written_in_column_order_with_nulls() {
        let mut out = b"previous\n".to_vec();
        let n = encode_rows(
            &json!([{"Value": 1, "T": "2020-01-01"}, null, {"Device": "d"}]),
            &schema(),
            &mut out,
        )
        .unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "previous\n{\"T\":\"2020-01-01T00:00:00.0000000Z\",\"Device\":null,\"Value\":1}\n{\"T\":null,\"Device\":\"d\",\"Value\":null}\n"
        );
        assert_eq!(encode_rows(&Value::Null, &schema(), &mut Vec::new()), Ok(0));
    }

    #[test]
    fn a_bad_row_leaves_the_buffer_untouched() {
        let mut out = b"keep\n".to_vec();
        let e = encode_rows(
            &json!([{"T": "2020-01-01"}, {"T": "soon"}]),
            &schema(),
            &mut out,
        )
        .unwrap_err();
        assert_eq!(out, b"keep\n");
        assert!(
            e.to_string()
                .starts_with("row 2, column `T` (datetime): \"soon\" is not"),
            "{e}"
        );
        let e = encode_rows(&json!({"Devise": "x"}), &schema(), &mut out).unwrap_err();
        assert_eq!(e.to_string(), "row 1 has the field `Devise`, which is not a column of the table (columns: T, Device, Value)");
        assert_eq!(
            encode_rows(&json!("x"), &schema(), &mut out),
            Err(RowError::NotRows { found: "string" })
        );
        assert_eq!(
            encode_rows(&json!([1]), &schema(), &mut out),
            Err(RowError::RowNotObject {
                row: 1,
                found: "number"
            })
        );
    }

    #[test]
    fn datetime_fast_path_agrees_with_the_general_path() {
        let cases = [
            "2020-08-05T22:26:55.455Z",
            "2020-08-05T22:26:55Z",
            "2020-08-05T22:26:55.1234567891Z",
            "2024-02-29T00:00:00.1Z",
            "2023-02-29T00:00:00Z",
            "2020-13-05T22:26:55Z",
            "2020-08-05T24:00:00Z",
            "2020-08-05T22:26:55.Z",
            "2020-08-05 22:26:55Z",
            "2020-08-05T22:26:55+00:00",
        ];
        for s in cases {
            let mut fast = Vec::new();
            let general = coerce(&json!(s), KustoType::DateTime).map(|v| v.to_string());
            if write_utc_datetime(&mut fast, s) {
                assert_eq!(Ok(String::from_utf8(fast).unwrap()), general, "{s}");
            } else {
                assert!(fast.is_empty(), "{s}");
            }
        }
        let mut out = Vec::new();
        assert!(
            !write_utc_datetime(&mut out, "2023-02-29T00:00:00Z"),
            "not a leap year"
        );
        assert!(write_utc_datetime(&mut out, "2020-08-05T22:26:55.455Z"));
        assert_eq!(out, b"\"2020-08-05T22:26:55.4550000Z\"");
    }

    /// Evaluates `expr` and passes `f` a view of the result (built values need an evaluation).
    fn with_view<R>(expr: &str, f: impl FnOnce(View<'_>) -> R) -> R {
        let e = crate::transform::Expression::compile(expr).unwrap();
        e.search_view(&json!({"n": 5, "s": "x"}), &[], f).unwrap()
    }

    /// Writes a view cell and the copied value through the old path; both must agree.
    fn view_cell(expr: &str, kind: KustoType) -> (bool, Result<String, String>) {
        with_view(expr, |v| {
            let mut fast = Vec::new();
            let took_fast_path = v.as_json().is_none() && write_built_cell(&mut fast, v, kind);
            let mut viewed = Vec::new();
            let via_view = write_view_cell(&mut viewed, v, kind)
                .map(|()| String::from_utf8_lossy(&viewed).into_owned());
            let mut copied = Vec::new();
            let via_copy = write_cell(&mut copied, &v.to_value(), kind)
                .map(|()| String::from_utf8_lossy(&copied).into_owned());
            assert_eq!(via_view, via_copy, "{expr} as {kind}");
            if took_fast_path {
                assert_eq!(
                    Ok(String::from_utf8_lossy(&fast).into_owned()),
                    via_copy,
                    "{expr} as {kind}"
                );
            }
            (took_fast_path, via_view)
        })
    }

    #[test]
    fn built_scalars_take_the_fast_paths_where_the_type_allows() {
        use KustoType::*;
        let fast = [
            ("join('', [s])", String, "\"x\""),
            ("join('', [s])", Dynamic, "\"x\""),
            (
                "join('', ['2020-08-05T22:26:55.455Z'])",
                DateTime,
                "\"2020-08-05T22:26:55.4550000Z\"",
            ),
            ("n + `1`", Long, "6"),
            ("n + `1`", Int, "6"),
            ("n + `1`", Real, "6"),
            ("n + `1`", Dynamic, "6"),
            ("n - `7`", String, "\"-2\""),
            ("n - `7`", Decimal, "\"-2\""),
            ("n / `2`", Real, "2.5"),
            ("n / `2`", Dynamic, "2.5"),
            ("!s", Bool, "false"),
            ("!s", Dynamic, "false"),
            ("!!s", String, "\"true\""),
            ("not_null(missing)", Guid, "null"),
        ];
        for (expr, kind, written) in fast {
            assert_eq!(
                view_cell(expr, kind),
                (true, Ok(written.to_string())),
                "{expr} as {kind}"
            );
        }
        let fallback = [
            ("join('', ['2020-08-05 22:26:55'])", DateTime, Ok("\"2020-08-05T22:26:55.0000000Z\"")),
            ("join('', [' 7 '])", Int, Ok("7")),
            ("join('', ['true'])", Bool, Ok("true")),
            ("join('', ['00:01'])", TimeSpan, Err("\"00:01\" is not a timespan: expected [-][d.]hh:mm:ss[.fffffff]")),
            ("n * `1000000000`", Int, Err("5000000000 is out of range for int (-2147483648 to 2147483647)")),
            ("n + `1`", Bool, Err("6 is not a boolean: expected true, false, \"true\", \"false\", 1 or 0")),
            ("n + `1`", DateTime, Err("6 is a number; datetime needs an ISO 8601 string (for Unix times, convert in the transform or use a long column)")),
            ("n / `2`", String, Ok("\"2.5\"")),
            ("n / `2`", Long, Err("2.5 has a fractional part, so it is not an long")),
            ("!s", Long, Err("false is a boolean, expected an integer (long)")),
            ("{a: s}", Dynamic, Ok("{\"a\":\"x\"}")),
            ("[s, n]", String, Ok("\"[\\\"x\\\",5]\"")),
        ];
        for (expr, kind, result) in fallback {
            assert_eq!(
                view_cell(expr, kind),
                (false, result.map(str::to_string).map_err(str::to_string)),
                "{expr} as {kind}"
            );
        }
    }

    #[test]
    fn borrowed_cells_take_the_general_path() {
        for kind in KustoType::ALL {
            for expr in ["n", "s", "@"] {
                assert!(!view_cell(expr, kind).0, "{expr} as {kind} is borrowed");
            }
            assert_eq!(
                view_cell("missing", kind),
                (true, Ok("null".to_string())),
                "a built null, as {kind}"
            );
        }
        assert!(with_view("n", |v| v.as_json().is_some()));
    }

    #[test]
    fn rows_from_views() {
        let schema = schema();
        let mut out = Vec::new();
        let n = with_view(
            "[{Value: n, T: join('', ['2020-01-01'])}, `null`, not_null(missing), {Device: s}]",
            |v| encode_view(v, &schema, &mut out),
        );
        assert_eq!(n, Ok(2));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"T\":\"2020-01-01T00:00:00.0000000Z\",\"Device\":null,\"Value\":5}\n{\"T\":null,\"Device\":\"x\",\"Value\":null}\n"
        );
        let mut out = b"keep\n".to_vec();
        let e = with_view("[{Device: s}, {Device: s, Devise: n}]", |v| {
            encode_view(v, &schema, &mut out)
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "row 2 has the field `Devise`, which is not a column of the table (columns: T, Device, Value)");
        assert_eq!(out, b"keep\n");
        let e = with_view("{T: join('', ['soon']), Devise: n}", |v| {
            encode_view(v, &schema, &mut out)
        })
        .unwrap_err();
        assert!(
            matches!(e, RowError::UnknownColumn { row: 1, .. }),
            "an unknown field is reported before a bad value: {e}"
        );
        assert_eq!(
            with_view("n / `2`", |v| encode_view(v, &schema, &mut out)),
            Err(RowError::NotRows { found: "number" })
        );
        assert_eq!(
            with_view("[[s]]", |v| encode_view(v, &schema, &mut out)),
            Err(RowError::RowNotObject {
                row: 1,
                found: "array"
            })
        );
        assert_eq!(
            with_view("not_null(missing)", |v| encode_view(v, &schema, &mut out)),
            Ok(0)
        );
        assert_eq!(out, b"keep\n");
    }

    #[test]
    fn wide_tables_and_fields_out_of_column_order() {
        let columns: Vec<std::string::String> = (0..40).map(|i| format!("C{i}:long")).collect();
        let schema = TableSchema::parse(&columns.join(", ")).unwrap();
        let fields: Vec<std::string::String> =
            (0..40).rev().map(|i| format!("C{i}: n + `{i}`")).collect();
        let mut out = Vec::new();
        assert_eq!(
            with_view(&format!("{{{}}}", fields.join(", ")), |v| encode_view(
                v, &schema, &mut out
            )),
            Ok(1)
        );
        let expected: Vec<std::string::String> =
            (0..40).map(|i| format!("\"C{i}\":{}", 5 + i)).collect();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{{{}}}\n", expected.join(","))
        );
    }
}
