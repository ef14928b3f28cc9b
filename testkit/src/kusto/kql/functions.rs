//! Scalar functions beyond the core set (`compile.rs`): strings (`strcat`, `substring`,
//! `replace_string`), numbers (`round`, `abs`), conditionals (`case`), dynamic values
//! (`parse_json`/`todynamic`, `array_length`), `tobool`, and the datetime functions of
//! [`super::datefns`]. Each is type-checked here and evaluated by [`eval`]; what is not here
//! is refused by name.

use super::datefns::{self, Period};
use super::error::KqlError;
use super::typed::{Ext, Func, TExpr, TKind};
use super::value::{Type, Value};
use serde_json::Value as Json;

fn err(msg: impl Into<String>, pos: usize) -> KqlError {
    KqlError::new(msg, pos)
}

fn period(name: &str) -> Option<(bool, Period)> {
    let (start, rest) = if let Some(r) = name.strip_prefix("startof") {
        (true, r)
    } else {
        (false, name.strip_prefix("endof")?)
    };
    let p = match rest {
        "day" => Period::Day,
        "week" => Period::Week,
        "month" => Period::Month,
        "year" => Period::Year,
        _ => return None,
    };
    Some((start, p))
}

/// The function called `name`, when it is one of this module's.
pub fn lookup(name: &str) -> Option<Ext> {
    Some(match name {
        "strcat" => Ext::StrCat,
        "split" => Ext::Split,
        "indexof" => Ext::IndexOf,
        "substring" => Ext::Substring,
        "replace_string" => Ext::ReplaceString,
        "round" => Ext::Round,
        "abs" => Ext::Abs,
        "case" => Ext::Case,
        "parse_json" | "todynamic" => Ext::ParseJson,
        "array_length" => Ext::ArrayLength,
        "tobool" | "toboolean" => Ext::ToBool,
        "dayofweek" => Ext::DayOfWeek,
        "datetime_add" => Ext::DateTimeAdd,
        "datetime_diff" => Ext::DateTimeDiff,
        "bin_at" => Ext::BinAt,
        "format_datetime" => Ext::FormatDateTime,
        other if super::strings::lookup(other).is_some() => {
            Ext::Str(super::strings::lookup(other)?)
        }
        other => match period(other)? {
            (true, p) => Ext::StartOf(p),
            (false, p) => Ext::EndOf(p),
        },
    })
}

/// Type-checks a call of `ext` over its compiled arguments.
pub fn typed(ext: Ext, name: &str, compiled: Vec<TExpr>, pos: usize) -> Result<TExpr, KqlError> {
    let types: Vec<Type> = compiled.iter().map(|c| c.ty).collect();
    let bad = || {
        let shown: Vec<&str> = types.iter().map(|t| t.name()).collect();
        err(
            format!(
                "Function '{name}' does not accept arguments of types ({})",
                shown.join(", ")
            ),
            pos,
        )
    };
    use Type::*;
    let ty = match (ext, types.as_slice()) {
        (Ext::StrCat, t) if (1..=64).contains(&t.len()) => String,
        (Ext::Split, [String, String]) => Dynamic,
        (Ext::IndexOf, [String, String]) => Long,
        (Ext::Substring, [String, Long | Int] | [String, Long | Int, Long | Int]) => String,
        (Ext::ReplaceString, [String, String, String]) => String,
        (Ext::Round, [t @ (Real | Long | Int)] | [t @ (Real | Long | Int), Long | Int]) => {
            if *t == Real {
                Real
            } else {
                Long
            }
        }
        (Ext::Abs, [t @ (Real | Long | Int | TimeSpan)]) => *t,
        (Ext::Case, t) => case_type(t).ok_or_else(bad)?,
        (Ext::ParseJson, [String | Dynamic]) => Dynamic,
        (Ext::ArrayLength, [Dynamic]) => Long,
        (Ext::ToBool, [Bool | Long | Int | String | Dynamic]) => Bool,
        (Ext::StartOf(_) | Ext::EndOf(_), [DateTime]) => DateTime,
        (Ext::DayOfWeek, [DateTime]) => TimeSpan,
        (Ext::DateTimeAdd, [String, Long | Int, DateTime]) => DateTime,
        (Ext::DateTimeDiff, [String, DateTime, DateTime]) => Long,
        (Ext::BinAt, [t @ (DateTime | TimeSpan), TimeSpan, f]) if f == t => *t,
        (Ext::BinAt, [t @ (Long | Real), Long | Real, Long | Real]) => {
            if *t == Long && types[1] == Long && types[2] == Long {
                Long
            } else {
                Real
            }
        }
        (Ext::FormatDateTime, [DateTime, String]) => String,
        (Ext::Str(f), t) => super::strings::result_type(f, t).ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    Ok(TExpr {
        kind: TKind::Func(Func::Ext(ext), compiled),
        ty,
        pos,
    })
}

/// `case(p1, v1, ..., else)`: bool predicates, values of one type.
fn case_type(t: &[Type]) -> Option<Type> {
    if t.len() < 3 || t.len().is_multiple_of(2) {
        return None;
    }
    let values: Vec<Type> = t
        .iter()
        .skip(1)
        .step_by(2)
        .copied()
        .chain(t.last().copied())
        .collect();
    if t.iter()
        .step_by(2)
        .take(t.len() / 2)
        .any(|p| *p != Type::Bool)
    {
        return None;
    }
    values.iter().try_fold(values[0], |acc, v| match (acc, *v) {
        (a, b) if a == b => Some(a),
        (Type::Int, Type::Long) | (Type::Long, Type::Int) => Some(Type::Long),
        (a, b) if a.is_numeric() && b.is_numeric() => Some(Type::Real),
        _ => None,
    })
}

/// Evaluates `ext` over its evaluated arguments.
pub fn eval(
    ext: Ext,
    v: Vec<Value>,
    text: impl Fn(Value) -> Result<String, KqlError>,
    pos: usize,
) -> Result<Value, KqlError> {
    use Value as V;
    Ok(match (ext, v.as_slice()) {
        (Ext::StrCat, _) => {
            let mut out = String::new();
            for x in v {
                out.push_str(&text(x)?);
            }
            V::Str(out)
        }
        (Ext::Split, [V::Str(s), V::Str(d)]) => {
            if d.is_empty() {
                return Err(err("split's delimiter must not be empty", pos));
            }
            V::Dynamic(Json::Array(
                s.split(d.as_str())
                    .map(|p| Json::String(p.into()))
                    .collect(),
            ))
        }
        (Ext::IndexOf, [V::Str(s), V::Str(l)]) => V::Long(
            s.find(l.as_str())
                .map_or(-1, |b| s[..b].chars().count() as i64),
        ),
        (Ext::Substring, [V::Str(s), V::Long(start), rest @ ..]) => {
            let chars: Vec<char> = s.chars().collect();
            let from = (*start).clamp(0, chars.len() as i64) as usize;
            let len = match rest.first() {
                Some(V::Long(n)) => (*n).max(0) as usize,
                Some(_) => return Ok(V::Null),
                None => chars.len(),
            };
            V::Str(chars[from..].iter().take(len).collect())
        }
        (Ext::ReplaceString, [V::Str(s), V::Str(a), V::Str(b)]) => V::Str(if a.is_empty() {
            s.clone()
        } else {
            s.replace(a.as_str(), b)
        }),
        (Ext::Round, [x, rest @ ..]) => round(x, rest.first()),
        (Ext::Abs, [V::Long(x)]) => V::Long(
            x.checked_abs()
                .ok_or_else(|| err("Arithmetic overflow", pos))?,
        ),
        (Ext::Abs, [V::Real(x)]) => V::Real(x.abs()),
        (Ext::Abs, [V::TimeSpan(x)]) => V::TimeSpan(x.saturating_abs()),
        (Ext::Case, _) => {
            let pairs = v.len() / 2;
            (0..pairs)
                .find(|i| v[2 * i] == V::Bool(true))
                .map_or_else(|| v[v.len() - 1].clone(), |i| v[2 * i + 1].clone())
        }
        (Ext::ParseJson, [V::Str(s)]) => match serde_json::from_str::<Json>(s) {
            Ok(Json::Null) => V::Null,
            Ok(j) => V::Dynamic(j),
            Err(_) => V::Dynamic(Json::String(s.clone())),
        },
        (Ext::ParseJson, [V::Dynamic(Json::String(s))]) => {
            return eval(Ext::ParseJson, vec![V::Str(s.clone())], text, pos)
        }
        (Ext::ParseJson, [x]) => x.clone(),
        (Ext::ArrayLength, [V::Dynamic(Json::Array(a))]) => V::Long(a.len() as i64),
        (Ext::ToBool, [x]) => to_bool(x),
        (Ext::StartOf(p), [V::DateTime(t)]) => opt_dt(datefns::start_of(p, *t)),
        (Ext::EndOf(p), [V::DateTime(t)]) => opt_dt(datefns::end_of(p, *t)),
        (Ext::DayOfWeek, [V::DateTime(t)]) => V::TimeSpan(datefns::day_of_week(*t)),
        (Ext::DateTimeAdd, [V::Str(part), V::Long(n), V::DateTime(t)]) => {
            opt_dt(datefns::add(part, *n, *t, pos)?)
        }
        (Ext::DateTimeDiff, [V::Str(part), V::DateTime(a), V::DateTime(b)]) => {
            datefns::diff(part, *a, *b, pos)?.map_or(V::Null, V::Long)
        }
        (Ext::BinAt, [x, size, fixed]) => bin_at(x, size, fixed, pos)?,
        (Ext::FormatDateTime, [V::DateTime(t), V::Str(f)]) => {
            datefns::format(*t, f, pos)?.map_or(V::Null, V::Str)
        }
        (Ext::Str(f), _) => return super::strings::eval(f, v, text, pos),
        _ => V::Null,
    })
}

fn opt_dt(t: Option<i64>) -> Value {
    t.filter(|t| super::timefmt::datetime_in_range(*t))
        .map_or(Value::Null, Value::DateTime)
}

/// Half away from zero, to `digits` decimals.
fn round(x: &Value, digits: Option<&Value>) -> Value {
    let d = match digits {
        None => 0,
        Some(Value::Long(d)) => *d,
        Some(_) => return Value::Null,
    };
    match x {
        Value::Long(i) => Value::Long(*i),
        Value::Real(f) => {
            let scale = 10f64.powi(d.clamp(-300, 300) as i32);
            Value::Real((f * scale).round() / scale)
        }
        _ => Value::Null,
    }
}

fn to_bool(x: &Value) -> Value {
    match x {
        Value::Bool(b) => Value::Bool(*b),
        Value::Long(i) => Value::Bool(*i != 0),
        Value::Str(s) | Value::Dynamic(Json::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::Null,
        },
        Value::Dynamic(Json::Bool(b)) => Value::Bool(*b),
        Value::Dynamic(Json::Number(n)) => {
            n.as_f64().map_or(Value::Null, |f| Value::Bool(f != 0.0))
        }
        _ => Value::Null,
    }
}

/// `fixed + floor((x - fixed) / size) * size`.
fn bin_at(x: &Value, size: &Value, fixed: &Value, pos: usize) -> Result<Value, KqlError> {
    let zero = || err("A bin size of zero is not supported by the emulator", pos);
    Ok(match (x, size, fixed) {
        (Value::DateTime(x), Value::TimeSpan(s), Value::DateTime(f)) => {
            if *s <= 0 {
                return Err(zero());
            }
            Value::DateTime(f + (x - f).div_euclid(*s) * s)
        }
        (Value::TimeSpan(x), Value::TimeSpan(s), Value::TimeSpan(f)) => {
            if *s <= 0 {
                return Err(zero());
            }
            Value::TimeSpan(f + (x - f).div_euclid(*s) * s)
        }
        (Value::Long(x), Value::Long(s), Value::Long(f)) => {
            if *s <= 0 {
                return Err(zero());
            }
            Value::Long(f + (x - f).div_euclid(*s) * s)
        }
        (x, s, f) => {
            let n = |v: &Value| match v {
                Value::Long(i) => Some(*i as f64),
                Value::Real(r) => Some(*r),
                _ => None,
            };
            match (n(x), n(s), n(f)) {
                (Some(x), Some(s), Some(f)) if s > 0.0 => {
                    Value::Real(f + ((x - f) / s).floor() * s)
                }
                (Some(_), Some(_), Some(_)) => return Err(zero()),
                _ => Value::Null,
            }
        }
    })
}
