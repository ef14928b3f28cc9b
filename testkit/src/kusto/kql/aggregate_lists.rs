//! `make_list`, `make_set` (non-null values, input order, an optional most-elements limit,
//! 1,048,576 by default as in Kusto) and the conditional aggregations `sumif`, `avgif`,
//! `dcountif` (the value over the rows where the predicate is true).

use super::agg_types::{Agg, AggFn};
use super::ast::{Expr, ExprKind, Lit};
use super::compile::{derive_name, Ctx};
use super::error::KqlError;
use super::value::{to_wire, Type, Value};
use serde_json::Value as Json;

/// Kusto's default and largest `maxSize`.
const MAX_SIZE: f64 = 1_048_576.0;

fn err(msg: impl Into<String>, pos: usize) -> KqlError {
    KqlError::new(msg, pos)
}

/// Compiles `make_list`/`make_set`/`sumif`/`avgif`/`dcountif`.
pub fn compile(
    ctx: &Ctx,
    fname: &str,
    name: Option<&str>,
    args: &[Expr],
    pos: usize,
) -> Result<Agg, KqlError> {
    let (func, prefix) = match fname {
        "make_list" => (AggFn::MakeList, "list"),
        "make_set" => (AggFn::MakeSet, "set"),
        "make_bag" => (AggFn::MakeBag, "bag"),
        "sumif" => (AggFn::SumIf, "sumif"),
        "avgif" => (AggFn::AvgIf, "avgif"),
        _ => (AggFn::DCountIf, "dcountif"),
    };
    let lists = matches!(func, AggFn::MakeList | AggFn::MakeSet | AggFn::MakeBag);
    let (x, extra) = match args {
        [x] if lists => (x, None),
        [x, e] => (x, Some(e)),
        _ if lists => {
            return Err(err(
                format!("{fname} expects (expression [, maxSize])"),
                pos,
            ))
        }
        _ => return Err(err(format!("{fname} expects (expression, predicate)"), pos)),
    };
    let arg = ctx.compile(x)?;
    let mut param = MAX_SIZE;
    let mut filter = None;
    match (lists, extra) {
        (true, Some(e)) => {
            param = match &e.kind {
                ExprKind::Lit(Lit::Long(n)) if *n > 0 => (*n as f64).min(MAX_SIZE),
                _ => {
                    return Err(err(
                        format!("{fname}'s maxSize must be a positive constant"),
                        e.pos,
                    ))
                }
            }
        }
        (false, Some(p)) => {
            let f = ctx.compile(p)?;
            if f.ty != Type::Bool {
                return Err(err(
                    format!(
                        "{fname}'s predicate must be of type bool, not '{}'",
                        f.ty.name()
                    ),
                    p.pos,
                ));
            }
            filter = Some(f);
        }
        _ => {}
    }
    let ty = match (func, arg.ty) {
        (AggFn::MakeBag, Type::Dynamic) | (AggFn::MakeList | AggFn::MakeSet, _) => Type::Dynamic,
        (AggFn::SumIf, t @ (Type::Long | Type::Real)) => t,
        (AggFn::SumIf, Type::Int) => Type::Long,
        (AggFn::AvgIf, Type::Long | Type::Int | Type::Real) => Type::Real,
        (AggFn::DCountIf, t) if !matches!(t, Type::Dynamic | Type::Decimal) => Type::Long,
        (_, t) => {
            return Err(err(
                format!(
                    "Aggregation '{fname}' does not accept an argument of type '{}'",
                    t.name()
                ),
                x.pos,
            ))
        }
    };
    let name = match name {
        Some(n) => n.to_string(),
        None => {
            let base = derive_name(x).ok_or_else(|| {
                err(
                    format!("Name the aggregation explicitly (Name = {fname}(...))"),
                    pos,
                )
            })?;
            format!("{prefix}_{base}")
        }
    };
    Ok(Agg {
        func,
        arg: Some(arg),
        ty,
        name,
        pos,
        returns: Vec::new(),
        param,
        filter,
    })
}

/// The property bags among `values` merged into one, at most `max` keys; a key's first value
/// wins.
pub fn merge_bags(values: Vec<Value>, max: f64) -> Value {
    let mut out = serde_json::Map::new();
    for v in values {
        if let Value::Dynamic(Json::Object(o)) = v {
            for (k, v) in o {
                if (out.len() as f64) < max && !out.contains_key(&k) {
                    out.insert(k, v);
                }
            }
        }
    }
    Value::Dynamic(Json::Object(out))
}

/// The values as a dynamic array, each in its JSON form.
pub fn to_array(values: Vec<Value>, ty: Type) -> Value {
    Value::Dynamic(Json::Array(
        values
            .iter()
            .map(|v| match v {
                Value::Dynamic(j) => j.clone(),
                other => to_wire(other, ty).unwrap_or(Json::Null),
            })
            .collect(),
    ))
}
