//! Evaluation of typed expressions over one row, with Kusto's null and conversion semantics.

use super::ast::BinOp;
use super::compile::{TExpr, TKind};
use super::error::KqlError;
use super::strings::has_term;
use super::timefmt;
use super::value::{Type, Value};
use serde_json::Value as Json;
use std::cmp::Ordering;
mod calls;
mod convert;

use convert::{as_f64, err, overflow};

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
                "matches regex" => super::strings::regex(&b, r.pos)?.is_match(&a),
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
        TKind::Func(f, args) => {
            let arg = |i: usize| match args.get(i) {
                Some(a) => eval(a, row),
                None => Err(err("missing argument", e.pos)),
            };
            calls::call(*f, args.len(), arg, e.pos)?
        }
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

fn checked_dt(t: Option<i64>, pos: usize) -> Result<Value, KqlError> {
    match t {
        Some(t) if timefmt::datetime_in_range(t) => Ok(Value::DateTime(t)),
        _ => Err(err(
            "The result of a datetime computation is outside the datetime range",
            pos,
        )),
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
