//! Kusto scalar types and runtime values, and their conversion from/to the JSON wire forms.

use super::timefmt;
use serde_json::Value as Json;

/// A Kusto scalar type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Bool,
    Int,
    Long,
    Real,
    Decimal,
    String,
    DateTime,
    TimeSpan,
    Guid,
    Dynamic,
}

impl Type {
    /// Kusto's name for the type, as used in result schemas.
    pub fn name(self) -> &'static str {
        match self {
            Type::Bool => "bool",
            Type::Int => "int",
            Type::Long => "long",
            Type::Real => "real",
            Type::Decimal => "decimal",
            Type::String => "string",
            Type::DateTime => "datetime",
            Type::TimeSpan => "timespan",
            Type::Guid => "guid",
            Type::Dynamic => "dynamic",
        }
    }

    /// Parses a column kind as the emulator stores it (Kusto names and common aliases).
    pub fn from_kind(kind: &str) -> Option<Type> {
        Some(match kind.to_ascii_lowercase().as_str() {
            "bool" | "boolean" => Type::Bool,
            "int" | "int32" => Type::Int,
            "long" | "int64" => Type::Long,
            "real" | "double" => Type::Real,
            "decimal" => Type::Decimal,
            "string" => Type::String,
            "datetime" | "date" => Type::DateTime,
            "timespan" | "time" => Type::TimeSpan,
            "guid" | "uniqueid" => Type::Guid,
            "dynamic" => Type::Dynamic,
            _ => return None,
        })
    }

    /// int, long or real.
    pub fn is_numeric(self) -> bool {
        matches!(self, Type::Int | Type::Long | Type::Real)
    }
}

/// A runtime value. `int` and `long` are both held as `Long`; the static type tells them apart.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Long(i64),
    Real(f64),
    Decimal(String),
    Str(String),
    DateTime(i64),
    TimeSpan(i64),
    Guid(String),
    Dynamic(Json),
}

impl Value {
    /// Whether this is a null (strings are never null in Kusto; they are empty instead).
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// Converts a stored wire-form JSON value of column type `ty` into a runtime value.
pub fn from_wire(v: &Json, ty: Type) -> Option<Value> {
    if v.is_null() {
        return Some(match ty {
            Type::String => Value::Str(String::new()),
            _ => Value::Null,
        });
    }
    Some(match ty {
        Type::Bool => match v {
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => match n.as_i64()? {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                _ => return None,
            },
            Json::String(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
            Json::String(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => return None,
        },
        Type::Int | Type::Long => {
            let n = match v {
                Json::Number(n) => match n.as_i64() {
                    Some(i) => i,
                    None => {
                        let f = n.as_f64()?;
                        if f.fract() != 0.0 || f.abs() > 9.0e15 {
                            return None;
                        }
                        f as i64
                    }
                },
                Json::String(s) => s.trim().parse().ok()?,
                _ => return None,
            };
            if ty == Type::Int && i32::try_from(n).is_err() {
                return None;
            }
            Value::Long(n)
        }
        Type::Real => match v {
            Json::Number(n) => Value::Real(n.as_f64()?),
            Json::String(s) => Value::Real(match s.as_str() {
                "NaN" => f64::NAN,
                "Infinity" => f64::INFINITY,
                "-Infinity" => f64::NEG_INFINITY,
                other => other.trim().parse().ok().filter(|f: &f64| f.is_finite())?,
            }),
            _ => return None,
        },
        Type::Decimal => match v {
            Json::String(s) => Value::Decimal(s.clone()),
            Json::Number(n) => Value::Decimal(n.to_string()),
            _ => return None,
        },
        Type::String => match v {
            Json::String(s) => Value::Str(s.clone()),
            _ => return None,
        },
        Type::DateTime => match v {
            Json::String(s) => Value::DateTime(timefmt::parse_datetime(s)?),
            _ => return None,
        },
        Type::TimeSpan => match v {
            Json::String(s) => Value::TimeSpan(timefmt::parse_timespan_clock(s)?),
            _ => return None,
        },
        Type::Guid => match v {
            Json::String(s) if is_guid(s) => Value::Guid(s.to_ascii_lowercase()),
            _ => return None,
        },
        Type::Dynamic => Value::Dynamic(v.clone()),
    })
}

/// Whether `s` is a guid in 8-4-4-4-12 hex form.
pub fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Converts a runtime value of type `ty` to its wire form; None if it cannot be represented
/// (a datetime outside Kusto's range).
pub fn to_wire(v: &Value, ty: Type) -> Option<Json> {
    Some(match v {
        Value::Null => match ty {
            Type::String => Json::String(String::new()),
            _ => Json::Null,
        },
        Value::Bool(b) => Json::Bool(*b),
        Value::Long(i) => Json::from(*i),
        Value::Real(f) => real_to_wire(*f),
        Value::Decimal(s) | Value::Str(s) | Value::Guid(s) => Json::String(s.clone()),
        Value::DateTime(t) => Json::String(timefmt::format_datetime(*t)?),
        Value::TimeSpan(t) => Json::String(timefmt::format_timespan(*t)),
        Value::Dynamic(j) => j.clone(),
    })
}

/// A real in wire form: a JSON number, or "NaN"/"Infinity"/"-Infinity".
pub fn real_to_wire(f: f64) -> Json {
    if f.is_nan() {
        Json::String("NaN".into())
    } else if f == f64::INFINITY {
        Json::String("Infinity".into())
    } else if f == f64::NEG_INFINITY {
        Json::String("-Infinity".into())
    } else {
        serde_json::Number::from_f64(f)
            .map(Json::Number)
            .unwrap_or(Json::Null)
    }
}
