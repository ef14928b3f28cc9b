//! Sources written in the query: `datatable(...)[...]` (constant values, checked against the
//! declared column types) and `range x from a to b step s` (longs, reals, datetimes or
//! timespans; at most a million rows).

use super::super::ast::Expr;
use super::super::compile::Ctx;
use super::super::error::KqlError;
use super::super::eval::eval;
use super::super::rows::Rows;
use super::super::value::{Type, Value};

/// Most rows `range` makes.
const MAX_RANGE_ROWS: i64 = 1_000_000;

fn err(msg: impl Into<String>, pos: usize) -> KqlError {
    KqlError::new(msg, pos)
}

/// Evaluates an expression that needs no columns (a literal, `now()`, arithmetic on them).
pub(super) fn constant(e: &Expr, now: i64) -> Result<(Value, Type), KqlError> {
    let ctx = Ctx { schema: &[], now };
    let t = ctx.compile(e)?;
    Ok((eval(&t, &[])?, t.ty))
}

/// The rows of `datatable(columns)[values]`.
pub(super) fn datatable(
    columns: &[(String, String)],
    values: &[Expr],
    pos: usize,
) -> Result<Rows, KqlError> {
    let mut schema = Vec::new();
    for (name, kind) in columns {
        let ty = Type::from_kind(kind)
            .ok_or_else(|| err(format!("'{kind}' is not a type the emulator supports"), pos))?;
        schema.push((name.clone(), ty));
    }
    if schema.is_empty() || !values.len().is_multiple_of(schema.len()) {
        return Err(err(
            format!(
                "datatable has {} columns but {} values: each row needs one value per column",
                schema.len(),
                values.len()
            ),
            pos,
        ));
    }
    let mut rows = Vec::new();
    for chunk in values.chunks(schema.len()) {
        let mut row = Vec::new();
        for (e, (name, ty)) in chunk.iter().zip(&schema) {
            let (v, vt) = constant(e, 0)?;
            let v = match (v, vt, *ty) {
                (Value::Null, _, _) => Value::Null,
                (v, a, b) if a == b => v,
                (Value::Long(i), Type::Long | Type::Int, Type::Real) => Value::Real(i as f64),
                (v @ Value::Long(_), Type::Long, Type::Int)
                | (v @ Value::Long(_), Type::Int, Type::Long) => v,
                (_, a, _) => {
                    return Err(err(
                        format!(
                            "A value of type '{}' cannot go in the {} column '{name}'",
                            a.name(),
                            ty.name()
                        ),
                        e.pos,
                    ))
                }
            };
            row.push(v);
        }
        rows.push(row);
    }
    Ok(Rows { schema, rows })
}

/// The rows of `range name from a to b step s`.
pub(super) fn range(
    name: &str,
    from: &Expr,
    to: &Expr,
    step: &Expr,
    now: i64,
) -> Result<Rows, KqlError> {
    let ((a, at), (b, _), (s, st)) = (
        constant(from, now)?,
        constant(to, now)?,
        constant(step, now)?,
    );
    let too_many = || {
        err(
            format!("range makes more than {MAX_RANGE_ROWS} rows"),
            step.pos,
        )
    };
    let mut rows = Vec::new();
    let ty = match (a, b, s) {
        (Value::Long(a), Value::Long(b), Value::Long(s)) if s != 0 => {
            if (b - a) / s >= MAX_RANGE_ROWS {
                return Err(too_many());
            }
            let mut x = a;
            while (s > 0 && x <= b) || (s < 0 && x >= b) {
                rows.push(vec![Value::Long(x)]);
                x += s;
            }
            if at == Type::Int {
                Type::Int
            } else {
                Type::Long
            }
        }
        (Value::DateTime(a), Value::DateTime(b), Value::TimeSpan(s))
        | (Value::TimeSpan(a), Value::TimeSpan(b), Value::TimeSpan(s))
            if s > 0 =>
        {
            if (b - a) / s >= MAX_RANGE_ROWS {
                return Err(too_many());
            }
            let mut x = a;
            while x <= b {
                rows.push(vec![if at == Type::DateTime {
                    Value::DateTime(x)
                } else {
                    Value::TimeSpan(x)
                }]);
                x += s;
            }
            at
        }
        (a, b, s) => {
            let n = |v: &Value| match v {
                Value::Long(i) => Some(*i as f64),
                Value::Real(r) => Some(*r),
                _ => None,
            };
            let (Some(a), Some(b), Some(s)) = (n(&a), n(&b), n(&s)) else {
                return Err(err(
                    format!(
                        "range cannot go from a {} in steps of {}",
                        at.name(),
                        st.name()
                    ),
                    from.pos,
                ));
            };
            if s == 0.0 || ((b - a) / s) >= MAX_RANGE_ROWS as f64 {
                return Err(too_many());
            }
            let mut i = 0.0;
            while (s > 0.0 && a + i * s <= b) || (s < 0.0 && a + i * s >= b) {
                rows.push(vec![Value::Real(a + i * s)]);
                i += 1.0;
            }
            Type::Real
        }
    };
    Ok(Rows {
        schema: vec![(name.to_string(), ty)],
        rows,
    })
}
