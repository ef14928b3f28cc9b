//! Evaluation of the built-in scalar functions; the further functions of
//! [`super::super::functions`] are evaluated there.

use super::super::compile::Func;
use super::super::error::KqlError;
use super::super::timefmt;
use super::super::value::Value;
use super::convert::{as_f64, err, overflow, parse_real, to_integer, to_text, EPOCH_OFFSET_TICKS};
use serde_json::Value as Json;
use std::cmp::Ordering;

/// Calls `f` on `count` arguments; `arg(i)` evaluates the i-th only when it is needed (`iff`
/// and `coalesce` leave the rest unevaluated, as Kusto does).
pub(super) fn call(
    f: Func,
    count: usize,
    arg: impl Fn(usize) -> Result<Value, KqlError>,
    pos: usize,
) -> Result<Value, KqlError> {
    Ok(match f {
        Func::Bin => bin(arg(0)?, arg(1)?, pos)?,
        Func::ToString => Value::Str(to_text(arg(0)?, pos)?),
        Func::Ext(x) => {
            let values = (0..count).map(&arg).collect::<Result<Vec<_>, _>>()?;
            super::super::functions::eval(x, values, |v| to_text(v, pos), pos)?
        }
        Func::ToInt => match to_integer(arg(0)?, pos)? {
            Some(i) if i32::try_from(i).is_ok() => Value::Long(i),
            _ => Value::Null,
        },
        Func::ToLong => to_integer(arg(0)?, pos)?.map_or(Value::Null, Value::Long),
        Func::ToReal => match arg(0)? {
            Value::Long(i) => Value::Real(i as f64),
            Value::Real(f) => Value::Real(f),
            Value::Bool(b) => Value::Real(if b { 1.0 } else { 0.0 }),
            Value::Str(s) | Value::Dynamic(Json::String(s)) => {
                parse_real(&s).map_or(Value::Null, Value::Real)
            }
            Value::Dynamic(Json::Number(n)) => n.as_f64().map_or(Value::Null, Value::Real),
            Value::Dynamic(Json::Bool(b)) => Value::Real(if b { 1.0 } else { 0.0 }),
            _ => Value::Null,
        },
        Func::ToDateTime => match arg(0)? {
            Value::DateTime(t) => Value::DateTime(t),
            Value::Str(s) | Value::Dynamic(Json::String(s)) => {
                match timefmt::parse_datetime_text(&s) {
                    Some(t) => Value::DateTime(t),
                    None if timefmt::is_ambiguous_numeric_date(&s) => {
                        return Err(err(format!("todatetime('{s}'): the emulator does not guess the order of day and month; use ISO 8601 (yyyy-MM-dd)"), pos))
                    }
                    None => Value::Null,
                }
            }
            _ => Value::Null,
        },
        Func::StrLen => match arg(0)? {
            Value::Str(s) => {
                if s.chars().any(|c| u32::from(c) > 0xFFFF) {
                    return Err(err("strlen() of text outside the Basic Multilingual Plane is not supported by the emulator", pos));
                }
                Value::Long(s.chars().count() as i64)
            }
            _ => Value::Null,
        },
        Func::ToLower => match arg(0)? {
            Value::Str(s) => Value::Str(s.to_lowercase()),
            other => other,
        },
        Func::ToUpper => match arg(0)? {
            Value::Str(s) => Value::Str(s.to_uppercase()),
            other => other,
        },
        Func::Iff => {
            if arg(0)? == Value::Bool(true) {
                arg(1)?
            } else {
                arg(2)?
            }
        }
        Func::Coalesce => {
            let mut out = Value::Null;
            for i in 0..count {
                let v = arg(i)?;
                let empty = v.is_null() || matches!(&v, Value::Str(s) if s.is_empty());
                if !empty {
                    out = v;
                    break;
                }
            }
            out
        }
        Func::IsNull => Value::Bool(arg(0)?.is_null()),
        Func::IsNotNull => Value::Bool(!arg(0)?.is_null()),
        Func::IsEmpty | Func::IsNotEmpty => {
            let empty =
                match arg(0)? {
                    Value::Null => true,
                    Value::Str(s) | Value::Dynamic(Json::String(s)) => s.is_empty(),
                    Value::Dynamic(Json::Array(_) | Json::Object(_)) => return Err(err(
                        "isempty() of a dynamic array or object is not supported by the emulator",
                        pos,
                    )),
                    _ => false,
                };
            Value::Bool(empty == (f == Func::IsEmpty))
        }
        Func::Not => match arg(0)? {
            Value::Bool(b) => Value::Bool(!b),
            _ => Value::Null,
        },
    })
}

/// `bin(x, size)`: Kusto gives null for a negative size; a zero size is refused here.
fn bin(x: Value, s: Value, pos: usize) -> Result<Value, KqlError> {
    if x.is_null() || s.is_null() {
        return Ok(Value::Null);
    }
    // Kusto: a negative bin size gives null; a zero size is refused here.
    let bad = || err("A bin size of zero is not supported by the emulator", pos);
    Ok(match (&x, &s) {
        (Value::Long(x), Value::Long(s)) => {
            if *s < 0 {
                return Ok(Value::Null);
            }
            if *s == 0 {
                return Err(bad());
            }
            Value::Long(
                x.div_euclid(*s)
                    .checked_mul(*s)
                    .ok_or_else(|| overflow(pos))?,
            )
        }
        (Value::DateTime(t), Value::TimeSpan(s)) => {
            if *s < 0 {
                return Ok(Value::Null);
            }
            if *s == 0 {
                return Err(bad());
            }
            if EPOCH_OFFSET_TICKS % s != 0 {
                return Err(err("bin() of a datetime with this bin size is not supported by the emulator (use a size that divides a day)", pos));
            }
            Value::DateTime(
                t.div_euclid(*s)
                    .checked_mul(*s)
                    .ok_or_else(|| overflow(pos))?,
            )
        }
        (Value::TimeSpan(t), Value::TimeSpan(s)) => {
            if *s < 0 {
                return Ok(Value::Null);
            }
            if *s == 0 {
                return Err(bad());
            }
            Value::TimeSpan(
                t.div_euclid(*s)
                    .checked_mul(*s)
                    .ok_or_else(|| overflow(pos))?,
            )
        }
        _ => {
            let (x, s) = (
                as_f64(&x).unwrap_or(f64::NAN),
                as_f64(&s).unwrap_or(f64::NAN),
            );
            if s < 0.0 {
                return Ok(Value::Null);
            }
            if s.partial_cmp(&0.0) != Some(Ordering::Greater) {
                return Err(bad());
            }
            Value::Real((x / s).floor() * s)
        }
    })
}
