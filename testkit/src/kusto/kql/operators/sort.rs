//! `order by`, `sort by` and `top`: compiled sort keys and a stable sort with Kusto's
//! null placement.

use super::super::ast::SortKey;
use super::super::compile::{Ctx, TExpr};
use super::super::error::KqlError;
use super::super::eval::{eval, order};
use super::super::value::{Type, Value};
use super::shared::err;
use std::cmp::Ordering;

/// A compiled sort key: expression, direction, whether nulls come first.
pub(super) struct Key {
    expr: TExpr,
    descending: bool,
    nulls_first: bool,
}

pub(super) fn compile_keys(ctx: &Ctx, keys: &[SortKey]) -> Result<Vec<Key>, KqlError> {
    keys.iter()
        .map(|k| {
            let expr = ctx.compile(&k.expr)?;
            // Kusto sorts numeric, date, time and string values only.
            if matches!(
                expr.ty,
                Type::Dynamic | Type::Decimal | Type::Guid | Type::Bool
            ) {
                return Err(err(
                    format!(
                        "Sorting by a value of type '{}' is not supported by the emulator",
                        expr.ty.name()
                    ),
                    k.expr.pos,
                ));
            }
            // Kusto: ascending puts nulls first, descending puts them last, unless told otherwise.
            let nulls_first = k.nulls_first.unwrap_or(!k.descending);
            Ok(Key {
                expr,
                descending: k.descending,
                nulls_first,
            })
        })
        .collect()
}

pub(super) fn sort_rows(
    rows: Vec<Vec<Value>>,
    keys: &[Key],
    pos: usize,
) -> Result<Vec<Vec<Value>>, KqlError> {
    let mut keyed = Vec::with_capacity(rows.len());
    for r in rows {
        let mut ks = Vec::with_capacity(keys.len());
        for k in keys {
            ks.push(eval(&k.expr, &r)?);
        }
        keyed.push((ks, r));
    }
    let mut failed = false;
    keyed.sort_by(|(a, _), (b, _)| {
        for (k, (x, y)) in keys.iter().zip(a.iter().zip(b)) {
            // Kusto groups NaN with null: nulls first gives null, NaN, values; nulls last gives
            // values, NaN, null.
            let class = |v: &Value| match v {
                Value::Null => {
                    if k.nulls_first {
                        0
                    } else {
                        2
                    }
                }
                Value::Real(f) if f.is_nan() => 1,
                _ => {
                    if k.nulls_first {
                        2
                    } else {
                        0
                    }
                }
            };
            let (cx, cy) = (class(x), class(y));
            let o = match cx.cmp(&cy) {
                Ordering::Equal if cx == 1 || x.is_null() => Ordering::Equal,
                Ordering::Equal => {
                    let o = order(x, y).unwrap_or_else(|| {
                        failed = true;
                        Ordering::Equal
                    });
                    if k.descending {
                        o.reverse()
                    } else {
                        o
                    }
                }
                other => other,
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    if failed {
        return Err(err("Values could not be ordered", pos));
    }
    Ok(keyed.into_iter().map(|(_, r)| r).collect())
}
