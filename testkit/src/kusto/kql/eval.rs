//! Evaluation of typed expressions over one row, with Kusto's null and conversion semantics.

use super::ast::BinOp;
use super::compile::{Func, TExpr, TKind};
use super::error::KqlError;
use super::timefmt::{self, TICKS_PER_DAY};
use super::value::{Type, Value};
use serde_json::Value as Json;
use std::cmp::Ordering;

fn err(msg: impl Into<String>, pos: usize) -> KqlError {
    KqlError::new(msg, pos)
}

/// Ticks between 0001-01-01 and 1970-01-01: datetime bins must divide it so that binning is
/// the same whichever origin Kusto uses.
const EPOCH_OFFSET_TICKS: i64 = 719_162 * TICKS_PER_DAY;

/// Evaluates `e` over `row`.
pub fn eval(e: &TExpr, row: &[Value]) -> Result<Value, KqlError> {
    let v = match &e.kind {
        TKind::Col(i) => row.get(*i).cloned().unwrap_or(Value::Null),
        TKind::Lit(v) => v.clone(),
        TKind::Neg(x) => match eval(x, row)? {
            Value::Long(i) => Value::Long(
                i.checked_neg()
                    .ok_or_else(|| err("Arithmetic overflow", e.pos))?,
            ),
            Value::Real(f) => Value::Real(-f),
            Value::TimeSpan(t) => Value::TimeSpan(
                t.checked_neg()
                    .ok_or_else(|| err("Arithmetic overflow", e.pos))?,
            ),
            _ => Value::Null,
        },
        TKind::Arith(op, l, r) => arith(*op, eval(l, row)?, eval(r, row)?, e.pos)?,
        TKind::Cmp(op, l, r) => {
            let (a, b) = (eval(l, row)?, eval(r, row)?);
            if l.ty == Type::Bool && r.ty == Type::Bool && a.is_null() && b.is_null() {
                Value::Bool(false)
            } else {
                compare(*op, &a, &b, e.pos)?
            }
        }
        // A null operand counts as false (the logical operators reference: `bool(null) and
        // true` is false, `bool(null) or true` is true).
        TKind::And(l, r) => Value::Bool(
            as_bool(&eval(l, row)?) == Some(true) && as_bool(&eval(r, row)?) == Some(true),
        ),
        TKind::Or(l, r) => Value::Bool(
            as_bool(&eval(l, row)?) == Some(true) || as_bool(&eval(r, row)?) == Some(true),
        ),
        TKind::StrOp(op, negated, cs, l, r) => {
            let (Value::Str(a), Value::Str(b)) = (eval(l, row)?, eval(r, row)?) else {
                return Ok(Value::Null);
            };
            let (a, b) = if *cs {
                (a, b)
            } else {
                (a.to_lowercase(), b.to_lowercase())
            };
            let hit = match op.as_str() {
                "contains" => a.contains(&b),
                "startswith" => a.starts_with(&b),
                "endswith" => a.ends_with(&b),
                _ => has_term(&a, &b),
            };
            Value::Bool(hit != *negated)
        }
        TKind::In(negated, ci, l, list) => {
            let x = eval(l, row)?;
            let mut found = false;
            for item in list {
                let y = eval(item, row)?;
                let op = if *ci { BinOp::EqTilde } else { BinOp::Eq };
                if compare(op, &x, &y, item.pos)? == Value::Bool(true) {
                    found = true;
                    break;
                }
            }
            Value::Bool(found != *negated)
        }
        TKind::Between(negated, x, lo, hi) => {
            let xv = eval(x, row)?;
            let lov = eval(lo, row)?;
            let mut hiv = eval(hi, row)?;
            if let (Value::DateTime(l), Value::TimeSpan(t)) = (&lov, &hiv) {
                hiv = Value::DateTime(
                    l.checked_add(*t)
                        .ok_or_else(|| err("Arithmetic overflow", hi.pos))?,
                );
            }
            match (
                compare(BinOp::Ge, &xv, &lov, e.pos)?,
                compare(BinOp::Le, &xv, &hiv, e.pos)?,
            ) {
                (Value::Bool(a), Value::Bool(b)) => Value::Bool((a && b) != *negated),
                _ => Value::Null,
            }
        }
        TKind::Member(b, k) => match eval(b, row)? {
            Value::Dynamic(Json::Object(m)) => m.get(k).map_or(Value::Null, dynamic),
            _ => Value::Null,
        },
        TKind::Index(b, i) => match eval(b, row)? {
            Value::Dynamic(Json::Array(a)) => usize::try_from(*i)
                .ok()
                .and_then(|i| a.get(i))
                .map_or(Value::Null, dynamic),
            _ => Value::Null,
        },
        TKind::Func(f, args) => call(*f, args, row, e)?,
    };
    Ok(widen(v, e.ty))
}

/// Wraps a JSON value as a dynamic value (JSON null becomes null).
fn dynamic(j: &Json) -> Value {
    if j.is_null() {
        Value::Null
    } else {
        Value::Dynamic(j.clone())
    }
}

/// Converts a long to a real when the static type says real (numeric widening in iff/coalesce).
fn widen(v: Value, ty: Type) -> Value {
    match (v, ty) {
        (Value::Long(i), Type::Real) => Value::Real(i as f64),
        (Value::Null, Type::String) => Value::Str(String::new()),
        (v, _) => v,
    }
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => None,
    }
}

/// `has`: `needle` occurs in `hay` on term boundaries (terms are maximal runs of ASCII
/// alphanumeric characters).
fn has_term(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let first_alnum = needle
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let last_alnum = needle
        .chars()
        .last()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let mut from = 0;
    while let Some(off) = hay[from..].find(needle) {
        let start = from + off;
        let end = start + needle.len();
        let before_ok = !first_alnum
            || !hay[..start]
                .chars()
                .last()
                .is_some_and(|c| c.is_ascii_alphanumeric());
        let after_ok = !last_alnum
            || !hay[end..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric());
        if before_ok && after_ok {
            return true;
        }
        from = start + hay[start..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

fn overflow(pos: usize) -> KqlError {
    err("Arithmetic overflow", pos)
}

fn checked_dt(t: Option<i64>, pos: usize) -> Result<Value, KqlError> {
    match t {
        Some(t) if timefmt::datetime_in_range(t) => Ok(Value::DateTime(t)),
        _ => Err(err(
            "The result of a datetime computation is outside the datetime range",
            pos,
        )),
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Long(i) => Some(*i as f64),
        Value::Real(f) => Some(*f),
        _ => None,
    }
}

/// Arithmetic with Kusto's typing (already checked by the compiler); null in, null out.
fn arith(op: BinOp, a: Value, b: Value, pos: usize) -> Result<Value, KqlError> {
    use Value::*;
    if a.is_null() || b.is_null() {
        return Ok(Null);
    }
    Ok(match (op, &a, &b) {
        (_, Long(x), Long(y)) => {
            let (x, y) = (*x, *y);
            if matches!(op, BinOp::Div | BinOp::Mod) && y == 0 {
                return Err(err(
                    "Division by zero is not supported by the emulator",
                    pos,
                ));
            }
            Long(
                match op {
                    BinOp::Add => x.checked_add(y),
                    BinOp::Sub => x.checked_sub(y),
                    BinOp::Mul => x.checked_mul(y),
                    BinOp::Div => x.checked_div(y),
                    // Kusto's modulo is never negative: 0 <= N % D < abs(D).
                    _ => x.checked_rem_euclid(y),
                }
                .ok_or_else(|| overflow(pos))?,
            )
        }
        (_, Long(_) | Real(_), Long(_) | Real(_)) => {
            let (x, y) = (
                as_f64(&a).unwrap_or(f64::NAN),
                as_f64(&b).unwrap_or(f64::NAN),
            );
            Real(match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Mod => x.rem_euclid(y),
                _ => x / y,
            })
        }
        (BinOp::Add, DateTime(d), TimeSpan(t)) | (BinOp::Add, TimeSpan(t), DateTime(d)) => {
            checked_dt(d.checked_add(*t), pos)?
        }
        (BinOp::Sub, DateTime(d), TimeSpan(t)) => checked_dt(d.checked_sub(*t), pos)?,
        (BinOp::Sub, DateTime(x), DateTime(y)) => {
            TimeSpan(x.checked_sub(*y).ok_or_else(|| overflow(pos))?)
        }
        (BinOp::Add, TimeSpan(x), TimeSpan(y)) => {
            TimeSpan(x.checked_add(*y).ok_or_else(|| overflow(pos))?)
        }
        (BinOp::Sub, TimeSpan(x), TimeSpan(y)) => {
            TimeSpan(x.checked_sub(*y).ok_or_else(|| overflow(pos))?)
        }
        (BinOp::Div, TimeSpan(x), TimeSpan(y)) => Real(*x as f64 / *y as f64),
        (BinOp::Mul, TimeSpan(t), Long(n)) | (BinOp::Mul, Long(n), TimeSpan(t)) => {
            TimeSpan(t.checked_mul(*n).ok_or_else(|| overflow(pos))?)
        }
        _ => return Err(err("Unsupported operand values", pos)),
    })
}

/// Orders two non-null values of compatible types; None when they cannot be ordered (NaN).
pub fn order(a: &Value, b: &Value) -> Option<Ordering> {
    use Value::*;
    match (a, b) {
        (Long(x), Long(y)) | (DateTime(x), DateTime(y)) | (TimeSpan(x), TimeSpan(y)) => {
            Some(x.cmp(y))
        }
        (Long(_) | Real(_), Long(_) | Real(_)) => as_f64(a)?.partial_cmp(&as_f64(b)?),
        (Str(x), Str(y)) | (Guid(x), Guid(y)) => Some(x.cmp(y)),
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Turns a dynamic operand into a scalar comparable with `other`, or refuses.
fn undynamic(d: &Json, other: &Value, pos: usize) -> Result<Value, KqlError> {
    Ok(match (d, other) {
        (Json::Number(n), Value::Long(_) | Value::Real(_)) => match n.as_i64() {
            Some(i) => Value::Long(i),
            None => Value::Real(n.as_f64().unwrap_or(f64::NAN)),
        },
        (Json::String(s), Value::Str(_)) => Value::Str(s.clone()),
        (Json::Bool(b), Value::Bool(_)) => Value::Bool(*b),
        _ => {
            return Err(err(
                format!("Comparing the dynamic value {d} with a value of another kind is not supported by the emulator; convert it explicitly"),
                pos,
            ))
        }
    })
}

/// Comparison operators; null in, null out.
fn compare(op: BinOp, a: &Value, b: &Value, pos: usize) -> Result<Value, KqlError> {
    // Kusto: null == null and null != null are null; null == x is false, null != x is true;
    // ordering comparisons with a null are null. The `bool` type's own rule (the logical
    // operators reference) differs: bool(null) == bool(null) and != are both false.
    if a.is_null() || b.is_null() {
        let equality = matches!(op, BinOp::Eq | BinOp::Ne | BinOp::EqTilde | BinOp::NeTilde);
        if a.is_null() && b.is_null() || !equality {
            return Ok(Value::Null);
        }
        return Ok(Value::Bool(matches!(op, BinOp::Ne | BinOp::NeTilde)));
    }
    if let Value::Dynamic(d) = a {
        return compare(op, &undynamic(d, b, pos)?, b, pos);
    }
    if let Value::Dynamic(d) = b {
        return compare(op, a, &undynamic(d, a, pos)?, pos);
    }
    let res = match op {
        BinOp::EqTilde | BinOp::NeTilde => {
            let (Value::Str(x), Value::Str(y)) = (a, b) else {
                return Err(err("'=~' requires strings", pos));
            };
            (x.to_lowercase() == y.to_lowercase()) == (op == BinOp::EqTilde)
        }
        _ => {
            let ord = order(a, b);
            match op {
                BinOp::Eq => ord == Some(Ordering::Equal),
                BinOp::Ne => ord != Some(Ordering::Equal),
                BinOp::Lt => ord == Some(Ordering::Less),
                BinOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                BinOp::Gt => ord == Some(Ordering::Greater),
                _ => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
            }
        }
    };
    Ok(Value::Bool(res))
}

/// Formats a real the way Kusto's tostring() does, for the values where that is unambiguous.
fn real_to_string(f: f64, pos: usize) -> Result<String, KqlError> {
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
fn parse_integer(s: &str, pos: usize) -> Result<Option<i64>, KqlError> {
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
fn parse_real(s: &str) -> Option<f64> {
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

fn to_integer(v: Value, pos: usize) -> Result<Option<i64>, KqlError> {
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
fn to_text(v: Value, pos: usize) -> Result<String, KqlError> {
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

fn call(f: Func, args: &[TExpr], row: &[Value], e: &TExpr) -> Result<Value, KqlError> {
    let pos = e.pos;
    let arg = |i: usize| -> Result<Value, KqlError> {
        match args.get(i) {
            Some(a) => eval(a, row),
            None => Err(err("missing argument", pos)),
        }
    };
    Ok(match f {
        Func::Bin => {
            let (x, s) = (arg(0)?, arg(1)?);
            if x.is_null() || s.is_null() {
                return Ok(Value::Null);
            }
            // Kusto: a negative bin size gives null; a zero size is refused here.
            let bad = || err("A bin size of zero is not supported by the emulator", pos);
            match (&x, &s) {
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
            }
        }
        Func::ToString => Value::Str(to_text(arg(0)?, pos)?),
        Func::Ext(x) => {
            let values = args
                .iter()
                .map(|a| eval(a, row))
                .collect::<Result<Vec<_>, _>>()?;
            super::functions::eval(x, values, |v| to_text(v, pos), pos)?
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
                timefmt::parse_datetime_text(&s).map_or(Value::Null, Value::DateTime)
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
            for i in 0..args.len() {
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
