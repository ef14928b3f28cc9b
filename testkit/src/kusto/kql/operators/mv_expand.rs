//! `mv-expand`: one row per element of a dynamic array (or per entry of a property bag). A
//! null value makes one row with null; an empty array or bag makes none. Several expressions
//! expand side by side (missing elements are null). `to typeof(T)` casts each element, and an
//! element that is not a `T` becomes null (a cast, not a conversion).

use super::super::ast::Expr;
use super::super::compile::Ctx;
use super::super::error::KqlError;
use super::super::eval::eval;
use super::super::rows::Rows;
use super::super::value::{from_wire, Type, Value};
use serde_json::{json, Value as Json};

/// One expansion: output name, expression, element type.
pub(super) type Item = (Option<String>, Expr, Option<String>);

fn err(msg: impl Into<String>, pos: usize) -> KqlError {
    KqlError::new(msg, pos)
}

/// The elements a value expands to.
fn elements(v: Value, bags_as_arrays: bool) -> Vec<Value> {
    match v {
        Value::Null => vec![Value::Null],
        Value::Dynamic(Json::Array(a)) => a.into_iter().map(dynamic).collect(),
        Value::Dynamic(Json::Object(o)) => o
            .into_iter()
            .map(|(k, v)| {
                dynamic(if bags_as_arrays {
                    json!([k, v])
                } else {
                    json!({ k: v })
                })
            })
            .collect(),
        other => vec![other],
    }
}

fn dynamic(j: Json) -> Value {
    if j.is_null() {
        Value::Null
    } else {
        Value::Dynamic(j)
    }
}

/// `element` as a `ty`, or null when it is not one.
fn cast(element: Value, ty: Type) -> Value {
    match (&element, ty) {
        (_, Type::Dynamic) | (Value::Null, _) => element,
        (Value::Dynamic(j), _) => from_wire(j, ty)
            .filter(|v| !matches!((v, j), (Value::Str(_), j) if !j.is_string()))
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// Expands `input`.
pub(super) fn mv_expand(
    input: Rows,
    ctx_now: i64,
    bags_as_arrays: bool,
    index: Option<&str>,
    items: &[Item],
    limit: Option<i64>,
    pos: usize,
) -> Result<Rows, KqlError> {
    let ctx = Ctx {
        schema: &input.schema,
        now: ctx_now,
    };
    let mut schema = input.schema.clone();
    let mut targets = Vec::new();
    let mut compiled = Vec::new();
    for (name, e, ty) in items {
        let t = ctx.compile(e)?;
        if t.ty != Type::Dynamic {
            return Err(err(
                format!("mv-expand needs a dynamic value, not '{}'", t.ty.name()),
                e.pos,
            ));
        }
        let out_ty = match ty {
            None => Type::Dynamic,
            Some(k) => {
                Type::from_kind(k).ok_or_else(|| err(format!("'{k}' is not a type"), e.pos))?
            }
        };
        let name = name
            .clone()
            .or_else(|| super::derive_name(e))
            .ok_or_else(|| err("Name the expanded expression (Name = expression)", e.pos))?;
        let slot = match schema.iter().position(|(n, _)| *n == name) {
            Some(i) => {
                schema[i].1 = out_ty;
                i
            }
            None => {
                schema.push((name, out_ty));
                schema.len() - 1
            }
        };
        targets.push((slot, out_ty));
        compiled.push(t);
    }
    if let Some(i) = index {
        schema.push((i.to_string(), Type::Long));
    }
    let mut rows = Vec::new();
    for row in input.rows {
        let lists: Vec<Vec<Value>> = compiled
            .iter()
            .map(|t| eval(t, &row).map(|v| elements(v, bags_as_arrays)))
            .collect::<Result<_, _>>()?;
        let n = lists.iter().map(Vec::len).max().unwrap_or(0);
        let n = limit.map_or(n, |l| n.min(l.max(0) as usize));
        for k in 0..n {
            let mut out = row.clone();
            out.resize(input.schema.len(), Value::Null);
            for _ in input.schema.len()..schema.len() {
                out.push(Value::Null);
            }
            for ((slot, ty), list) in targets.iter().zip(&lists) {
                out[*slot] = cast(list.get(k).cloned().unwrap_or(Value::Null), *ty);
            }
            if index.is_some() {
                let last = out.len() - 1;
                out[last] = Value::Long(k as i64);
            }
            rows.push(out);
        }
    }
    let _ = pos;
    Ok(Rows { schema, rows })
}
