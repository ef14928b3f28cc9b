//! `make_list`, `make_set`, `make_bag` (non-null values, input order, an optional
//! most-elements limit, 1,048,576 by default as in Kusto) and the conditional aggregations
//! `sumif`, `avgif`, `minif`, `maxif`, `dcountif`, `make_list_if`, `make_set_if`,
//! `make_bag_if` (the value over the rows where the predicate is true).

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

/// The aggregation names this file compiles.
pub const NAMES: &[&str] = &[
    "make_list",
    "make_set",
    "make_bag",
    "make_list_if",
    "make_set_if",
    "make_bag_if",
    "sumif",
    "avgif",
    "minif",
    "maxif",
    "dcountif",
];

/// Compiles one of [`NAMES`].
pub fn compile(
    ctx: &Ctx,
    fname: &str,
    name: Option<&str>,
    args: &[Expr],
    pos: usize,
) -> Result<Agg, KqlError> {
    let (func, prefix) = match fname {
        "make_list" | "make_list_if" => (AggFn::MakeList, "list"),
        "make_set" | "make_set_if" => (AggFn::MakeSet, "set"),
        "make_bag" | "make_bag_if" => (AggFn::MakeBag, "bag"),
        "sumif" => (AggFn::SumIf, "sumif"),
        "avgif" => (AggFn::AvgIf, "avgif"),
        "minif" => (AggFn::Min, "minif"),
        "maxif" => (AggFn::Max, "maxif"),
        _ => (AggFn::DCountIf, "dcountif"),
    };
    let lists = matches!(func, AggFn::MakeList | AggFn::MakeSet | AggFn::MakeBag);
    let conditional = fname.ends_with("if");
    let (x, predicate, max) = match (args, lists, conditional) {
        ([x], true, false) => (x, None, None),
        ([x, m], true, false) => (x, None, Some(m)),
        ([x, p], true, true) => (x, Some(p), None),
        ([x, p, m], true, true) => (x, Some(p), Some(m)),
        ([x, p], false, _) => (x, Some(p), None),
        _ => {
            let expected = match (lists, conditional) {
                (true, false) => "(expression [, maxSize])",
                (true, true) => "(expression, predicate [, maxSize])",
                _ => "(expression, predicate)",
            };
            return Err(err(format!("{fname} expects {expected}"), pos));
        }
    };
    let arg = ctx.compile(x)?;
    let mut param = MAX_SIZE;
    if let Some(e) = max {
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
    let mut filter = None;
    if let Some(p) = predicate {
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
    let ty = match (func, arg.ty) {
        (AggFn::MakeBag, Type::Dynamic) | (AggFn::MakeList | AggFn::MakeSet, _) => Type::Dynamic,
        (AggFn::SumIf, t @ (Type::Long | Type::Real)) => t,
        (AggFn::SumIf, Type::Int) => Type::Long,
        (AggFn::AvgIf, Type::Long | Type::Int | Type::Real) => Type::Real,
        (AggFn::DCountIf, t) if !matches!(t, Type::Dynamic | Type::Decimal) => Type::Long,
        (
            AggFn::Min | AggFn::Max,
            t @ (Type::Int | Type::Long | Type::Real | Type::DateTime | Type::TimeSpan),
        ) => t,
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
