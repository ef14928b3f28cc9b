//! Aggregation functions of `summarize`: typing, default column names and accumulation.

use super::ast::{Expr, ExprKind};
use super::compile::{derive_name, Ctx, TExpr};
use super::error::KqlError;
use super::value::{Type, Value};
use std::collections::HashSet;

pub use super::agg_types::{Agg, AggFn, State};
mod fold;

fn err(msg: impl Into<String>, pos: usize) -> KqlError {
    KqlError::new(msg, pos)
}

/// Compiles `arg_max(x, *)` / `arg_min(x, c1, c2)`; `by_columns` are input columns used
/// directly as group keys (left out of the `*` expansion, as Kusto does).
fn compile_arg(
    ctx: &Ctx,
    func: AggFn,
    fname: &str,
    args: &[Expr],
    by_columns: &[String],
    pos: usize,
) -> Result<Agg, KqlError> {
    if args.len() < 2 {
        return Err(err(
            format!("Aggregation '{fname}' expects an expression and the columns to return"),
            pos,
        ));
    }
    let key = ctx.compile(&args[0])?;
    if !matches!(
        key.ty,
        Type::Int | Type::Long | Type::Real | Type::DateTime | Type::TimeSpan
    ) {
        return Err(err(
            format!(
                "Aggregation '{fname}' does not accept an argument of type '{}'",
                key.ty.name()
            ),
            args[0].pos,
        ));
    }
    let name = derive_name(&args[0]).ok_or_else(|| {
        err(format!("The first argument of '{fname}' must be a column (or a property of a dynamic column)"), args[0].pos)
    })?;
    let mut returns = Vec::new();
    for a in &args[1..] {
        if a.kind == ExprKind::Star {
            expand_star(ctx, &[name.as_str()], by_columns, a.pos, &mut returns);
        } else {
            let n = derive_name(a).ok_or_else(|| {
                err(
                    format!("The columns returned by '{fname}' must be columns or '*'"),
                    a.pos,
                )
            })?;
            returns.push((n, ctx.compile(a)?));
        }
    }
    Ok(Agg {
        func,
        ty: key.ty,
        arg: Some(key),
        name,
        pos,
        returns,
        param: 0.0,
        filter: None,
    })
}

/// Adds to `returns` every input column but the `skip`ped ones, the group keys and those
/// already there: what `*` stands for in `arg_max(x, *)` and `take_any(*)`.
fn expand_star(
    ctx: &Ctx,
    skip: &[&str],
    by_columns: &[String],
    pos: usize,
    returns: &mut Vec<(String, TExpr)>,
) {
    for (i, (col, ty)) in ctx.schema.iter().enumerate() {
        if !skip.contains(&col.as_str())
            && !by_columns.contains(col)
            && !returns.iter().any(|(n, _)| n == col)
        {
            returns.push((
                col.clone(),
                TExpr {
                    kind: super::compile::TKind::Col(i),
                    ty: *ty,
                    pos,
                },
            ));
        }
    }
}

/// Compiles `take_any(*)`. Other forms (`take_any(x)`, several arguments) are refused, not
/// guessed at.
fn compile_take_any(
    ctx: &Ctx,
    name: Option<&str>,
    args: &[Expr],
    by_columns: &[String],
    pos: usize,
) -> Result<Agg, KqlError> {
    if name.is_some() || args.len() != 1 || args[0].kind != ExprKind::Star {
        return Err(err(
            "The emulator supports take_any only as take_any(*), unnamed",
            pos,
        ));
    }
    let mut returns = Vec::new();
    expand_star(ctx, &[], by_columns, args[0].pos, &mut returns);
    Ok(Agg {
        func: AggFn::TakeAny,
        arg: None,
        ty: Type::Dynamic,
        name: String::new(),
        pos,
        returns,
        param: 0.0,
        filter: None,
    })
}

/// Compiles `[name =] agg(arg)` against the input schema.
pub fn compile_agg(
    ctx: &Ctx,
    name: Option<&str>,
    e: &Expr,
    by_columns: &[String],
) -> Result<Agg, KqlError> {
    let ExprKind::Call(fname, args) = &e.kind else {
        return Err(err(
            "Each summarize aggregation must be a single call to count, countif, sum, avg, min, max or dcount",
            e.pos,
        ));
    };
    let func = match fname.as_str() {
        "count" => AggFn::Count,
        "countif" => AggFn::CountIf,
        "sum" => AggFn::Sum,
        "avg" => AggFn::Avg,
        "min" => AggFn::Min,
        "max" => AggFn::Max,
        "dcount" => AggFn::DCount,
        "arg_max" | "arg_min" => {
            if name.is_some() {
                return Err(err(
                    format!("Naming the result of '{fname}' is not supported by the emulator"),
                    e.pos,
                ));
            }
            let func = if fname == "arg_max" {
                AggFn::ArgMax
            } else {
                AggFn::ArgMin
            };
            return compile_arg(ctx, func, fname, args, by_columns, e.pos);
        }
        "take_any" => return compile_take_any(ctx, name, args, by_columns, e.pos),
        "percentile" => return compile_percentile(ctx, name, args, e.pos),
        f if super::aggregate_lists::NAMES.contains(&f) => {
            return super::aggregate_lists::compile(ctx, fname, name, args, e.pos)
        }
        other if ctx_is_scalar(other) => {
            return Err(err(
                format!(
                "Function '{other}' is not an aggregation; summarize needs aggregation functions"
            ),
                e.pos,
            ))
        }
        other => {
            return Err(err(
                format!("Unknown aggregation function: '{other}'."),
                e.pos,
            ))
        }
    };
    let want = if func == AggFn::Count {
        args.len().min(1)
    } else {
        1
    };
    if args.len() != want {
        return Err(err(
            format!(
                "Aggregation '{fname}' expects {want} argument(s), got {}",
                args.len()
            ),
            e.pos,
        ));
    }
    let arg = match args.first() {
        Some(a) => Some(ctx.compile(a)?),
        None => None,
    };
    let at = arg.as_ref().map(|a| a.ty);
    let bad = |t: Type| {
        err(
            format!(
                "Aggregation '{fname}' does not accept an argument of type '{}'",
                t.name()
            ),
            e.pos,
        )
    };
    let ty = match (func, at) {
        // count(x) counts rows, nulls included (as documented for Kusto).
        (AggFn::Count, _) => Type::Long,
        (AggFn::CountIf, Some(Type::Bool)) => Type::Long,
        (AggFn::Sum, Some(Type::Long)) => Type::Long,
        (AggFn::Sum, Some(Type::Real)) => Type::Real,
        (AggFn::Avg, Some(Type::Long | Type::Int | Type::Real)) => Type::Real,
        (
            AggFn::Min | AggFn::Max,
            Some(t @ (Type::Int | Type::Long | Type::Real | Type::DateTime | Type::TimeSpan)),
        ) => t,
        (AggFn::DCount, Some(t)) if !matches!(t, Type::Dynamic | Type::Decimal) => Type::Long,
        (AggFn::ArgMax | AggFn::ArgMin | AggFn::TakeAny, _) => return Err(bad(Type::Dynamic)),
        (_, Some(t)) => return Err(bad(t)),
        (_, None) => return Err(bad(Type::Dynamic)),
    };
    let name = match name {
        Some(n) => n.to_string(),
        None => match func {
            AggFn::Count if args.is_empty() => "count_".to_string(),
            AggFn::CountIf => "countif_".to_string(),
            _ => {
                let base = args.first().and_then(derive_name).ok_or_else(|| {
                    err(format!("Name the aggregation explicitly (Name = {fname}(...)): the emulator derives default names only for column arguments"), e.pos)
                })?;
                format!("{fname}_{base}")
            }
        },
    };
    Ok(Agg {
        func,
        arg,
        ty,
        name,
        pos: e.pos,
        returns: Vec::new(),
        param: 0.0,
        filter: None,
    })
}

/// `percentiles(x, p1, p2, ...)` written as the `percentile(x, p)` calls it stands for (an
/// explicit name would be ambiguous, so it is refused).
pub fn expand_percentiles(
    aggs: &[super::ast::NamedExpr],
) -> Result<Vec<super::ast::NamedExpr>, KqlError> {
    let mut out = Vec::new();
    for a in aggs {
        let ExprKind::Call(f, args) = &a.expr.kind else {
            out.push(a.clone());
            continue;
        };
        if f != "percentiles" {
            out.push(a.clone());
            continue;
        }
        if a.name.is_some() || args.len() < 2 {
            return Err(err(
                "percentiles(x, p1, p2, ...) is supported without a name (it makes percentile_x_p columns)",
                a.expr.pos,
            ));
        }
        for p in &args[1..] {
            out.push(super::ast::NamedExpr {
                name: None,
                expr: Expr {
                    kind: ExprKind::Call("percentile".into(), vec![args[0].clone(), p.clone()]),
                    pos: a.expr.pos,
                },
            });
        }
    }
    Ok(out)
}

/// `percentile(x, p)` with a constant `p` from 0 to 100.
fn compile_percentile(
    ctx: &Ctx,
    name: Option<&str>,
    args: &[Expr],
    pos: usize,
) -> Result<Agg, KqlError> {
    let [x, p] = args else {
        return Err(err(
            "percentile expects 2 arguments: (expression, percent)",
            pos,
        ));
    };
    let percent = match &p.kind {
        ExprKind::Lit(super::ast::Lit::Long(n)) => *n as f64,
        ExprKind::Lit(super::ast::Lit::Real(f)) => *f,
        _ => {
            return Err(err(
                "percentile's second argument must be a constant number",
                p.pos,
            ))
        }
    };
    if !(0.0..=100.0).contains(&percent) {
        return Err(err("percentile's percent must be from 0 to 100", p.pos));
    }
    let arg = ctx.compile(x)?;
    if !matches!(
        arg.ty,
        Type::Int | Type::Long | Type::Real | Type::DateTime | Type::TimeSpan
    ) {
        return Err(err(
            format!(
                "percentile does not accept an argument of type '{}'",
                arg.ty.name()
            ),
            x.pos,
        ));
    }
    let name = match name {
        Some(n) => n.to_string(),
        None => {
            let base = derive_name(x).ok_or_else(|| {
                err(
                    "Name the aggregation explicitly (Name = percentile(...))",
                    pos,
                )
            })?;
            format!(
                "percentile_{base}_{}",
                percent.to_string().replace('.', "_")
            )
        }
    };
    Ok(Agg {
        func: AggFn::Percentile,
        ty: arg.ty,
        arg: Some(arg),
        name,
        pos,
        returns: Vec::new(),
        param: percent,
        filter: None,
    })
}

/// The nearest-rank percentile of `values` (sorted here): the smallest value with at least
/// `percent`% of the values at or below it. Kusto estimates percentiles (T-Digest); on the
/// small exact inputs tests use, both give a value of the input, and this one is exact.
fn percentile_of(mut values: Vec<Value>, percent: f64) -> Value {
    if values.is_empty() {
        return Value::Null;
    }
    values.sort_by(|a, b| super::eval::order(a, b).unwrap_or(std::cmp::Ordering::Equal));
    let n = values.len();
    let rank = ((percent / 100.0) * n as f64).ceil() as usize;
    values.swap_remove(rank.clamp(1, n) - 1)
}

fn ctx_is_scalar(name: &str) -> bool {
    matches!(
        name,
        "tostring"
            | "toint"
            | "tolong"
            | "todouble"
            | "toreal"
            | "bin"
            | "floor"
            | "iff"
            | "iif"
            | "coalesce"
            | "strlen"
            | "tolower"
            | "toupper"
    )
}

/// Canonical text of a value for grouping and distinct counting.
pub fn key_of(v: &Value) -> String {
    match v {
        Value::Real(f) if f.is_nan() => "Real(NaN)".into(),
        Value::Real(f) if *f == 0.0 => "Real(0)".into(),
        other => format!("{other:?}"),
    }
}
