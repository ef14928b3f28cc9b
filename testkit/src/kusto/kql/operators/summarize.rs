//! `summarize`: groups rows by the `by` expressions and folds each group through the
//! aggregations of [`super::super::aggregate`].

use super::super::aggregate::{compile_agg, key_of, Agg, State};
use super::super::ast::{ExprKind, NamedExpr};
use super::super::compile::{derive_name, Ctx, Schema, TExpr};
use super::super::error::KqlError;
use super::super::eval::eval;
use super::super::rows::Rows;
use super::super::value::{Type, Value};
use super::shared::{check_unique, err};
use std::collections::HashMap;

/// A compiled `summarize`: its output schema, group keys and aggregations. Shared by the
/// row-by-row fold below and the columnar one of `scan_summarize`.
pub(super) struct Plan {
    /// The output columns: keys, then each aggregation's.
    pub out_schema: Schema,
    /// The `by` expressions.
    pub keys: Vec<TExpr>,
    /// The aggregations.
    pub aggs: Vec<Agg>,
}

/// One group: its key values and the aggregations' states.
pub(super) type Group = (Vec<Value>, Vec<State>);

/// `summarize` over decoded rows.
pub(super) fn summarize(
    ctx: &Ctx,
    aggs: &[NamedExpr],
    by: &[NamedExpr],
    rows: Vec<Vec<Value>>,
    pos: usize,
) -> Result<Rows, KqlError> {
    let plan = plan(ctx, aggs, by, pos)?;
    // Groups in order of first appearance.
    let mut index: HashMap<Vec<String>, usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    for r in &rows {
        let kv: Vec<Value> = plan
            .keys
            .iter()
            .map(|k| eval(k, r))
            .collect::<Result<_, _>>()?;
        let kk: Vec<String> = kv.iter().map(key_of).collect();
        let gi = match index.get(&kk) {
            Some(&i) => i,
            None => {
                groups.push((kv, plan.aggs.iter().map(Agg::start).collect()));
                index.insert(kk, groups.len() - 1);
                groups.len() - 1
            }
        };
        for (agg, st) in plan.aggs.iter().zip(groups[gi].1.iter_mut()) {
            agg.add(st, r)?;
        }
    }
    finish(plan, groups)
}

/// Compiles a `summarize` against its input schema.
pub(super) fn plan(
    ctx: &Ctx,
    aggs: &[NamedExpr],
    by: &[NamedExpr],
    pos: usize,
) -> Result<Plan, KqlError> {
    let mut out_schema = Vec::new();
    let mut keys = Vec::new();
    for b in by {
        let t = ctx.compile(&b.expr)?;
        if matches!(t.ty, Type::Dynamic | Type::Decimal) {
            return Err(err(
                format!(
                    "Grouping by a value of type '{}' is not supported",
                    t.ty.name()
                ),
                b.expr.pos,
            ));
        }
        let name = match &b.name {
            Some((n, _)) => n.clone(),
            None => match &b.expr.kind {
                ExprKind::Call(f, args) if (f == "bin" || f == "floor") && args.len() == 2 => {
                    derive_name(&args[0])
                }
                _ => derive_name(&b.expr),
            }
            .ok_or_else(|| {
                err(
                    "Name the grouping expression explicitly (Name = expression)",
                    b.expr.pos,
                )
            })?,
        };
        out_schema.push((name, t.ty));
        keys.push(t);
    }
    // Group keys that are plain input columns (left out of arg_max(x, *)).
    let by_columns: Vec<String> = by
        .iter()
        .filter(|b| {
            b.name
                .as_ref()
                .is_none_or(|(n, _)| matches!(&b.expr.kind, ExprKind::Name(c) if c == n))
        })
        .filter_map(|b| match &b.expr.kind {
            ExprKind::Name(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    let mut compiled: Vec<Agg> = Vec::new();
    for a in &super::super::aggregate::expand_percentiles(aggs)? {
        let mut agg = compile_agg(
            ctx,
            a.name.as_ref().map(|(n, _)| n.as_str()),
            &a.expr,
            &by_columns,
        )?;
        if a.name.is_none() {
            // Kusto numbers repeated default names: set_y, set_y1, ...
            let base = agg.name.clone();
            let mut k = 1;
            while out_schema.iter().any(|(n, _)| *n == agg.name) {
                agg.name = format!("{base}{k}");
                k += 1;
            }
        }
        out_schema.extend(agg.columns());
        compiled.push(agg);
    }
    check_unique(&out_schema, pos)?;
    Ok(Plan {
        out_schema,
        keys,
        aggs: compiled,
    })
}

/// The output rows of the folded groups (one row of empty aggregations when there are no
/// keys and no input rows, as Kusto returns).
pub(super) fn finish(plan: Plan, mut groups: Vec<Group>) -> Result<Rows, KqlError> {
    if groups.is_empty() && plan.keys.is_empty() {
        groups.push((Vec::new(), plan.aggs.iter().map(Agg::start).collect()));
    }
    let mut out = Vec::with_capacity(groups.len());
    for (kv, states) in groups {
        let mut row = kv;
        for (agg, st) in plan.aggs.iter().zip(states) {
            row.extend(agg.finish(st)?);
        }
        out.push(row);
    }
    Ok(Rows {
        schema: plan.out_schema,
        rows: out,
    })
}
