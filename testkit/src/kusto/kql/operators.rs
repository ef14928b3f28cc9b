//! Tabular operators: loads the source table, applies each `|` operator, renders the result.

use super::aggregate::{compile_agg, key_of, Agg};
use super::ast::{ExprKind, Inline, NamedExpr, OpKind, Query, SortKey};
use super::compile::{derive_name, Ctx, Schema, TExpr};
use super::error::KqlError;
use super::eval::{eval, order};
use super::table::{Catalog, Column, DataTable};
use super::value::{from_wire, to_wire, Type, Value};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

mod inline;
mod join;
mod mv_expand;
mod union;

pub use super::rows::Rows;

fn err(msg: impl Into<String>, pos: usize) -> KqlError {
    KqlError::new(msg, pos)
}

/// Looks up and decodes the query's source table.
pub fn source(q: &Query, catalog: &dyn Catalog) -> Result<Rows, KqlError> {
    if let Some(Inline::DataTable { columns, values }) = &q.inline {
        return inline::datatable(columns, values, q.table_pos);
    }
    if q.print.is_some() || q.inline.is_some() {
        // One row without columns; `run` evaluates the printed expressions over it.
        return Ok(Rows {
            schema: Vec::new(),
            rows: vec![Vec::new()],
        });
    }
    let table = catalog.table(&q.table).ok_or_else(|| {
        err(
            format!(
                "Failed to resolve table or column expression named '{}'",
                q.table
            ),
            q.table_pos,
        )
    })?;
    load(table, q.table_pos)
}

/// Applies the query's operators to the source rows with `now()` fixed at `now` ticks;
/// `joined` holds the right side of each `join`, in the order they appear.
pub fn run(
    q: &Query,
    mut data: Rows,
    now: i64,
    joined: Vec<DataTable>,
) -> Result<DataTable, KqlError> {
    let mut joined = joined.into_iter();
    if let Some(Inline::Range {
        name,
        from,
        to,
        step,
    }) = &q.inline
    {
        data = inline::range(name, from, to, step, now)?;
    }
    if let Some(Inline::Union(parts)) = &q.inline {
        let tables: Vec<DataTable> = joined.by_ref().take(parts.len()).collect();
        let rows = tables
            .iter()
            .map(|t| load(t, q.table_pos))
            .collect::<Result<_, _>>()?;
        data = union::union(rows, q.table_pos)?;
    }
    if let Some(items) = &q.print {
        // Kusto names unnamed printed columns print_0, print_1, ... by position.
        let named: Vec<NamedExpr> = items
            .iter()
            .enumerate()
            .map(|(i, it)| NamedExpr {
                name: Some(
                    it.name
                        .clone()
                        .unwrap_or_else(|| (format!("print_{i}"), it.expr.pos)),
                ),
                expr: it.expr.clone(),
            })
            .collect();
        data = apply(&OpKind::Project(named), q.table_pos, data, now)?;
    }
    for op in &q.ops {
        data = match &op.kind {
            OpKind::Join { kind, on, .. } => {
                let right = joined.next().ok_or_else(|| {
                    err("Internal error: the join's right side was not run", op.pos)
                })?;
                join::join(kind, on, data, load(&right, op.pos)?, op.pos)?
            }
            OpKind::Union(parts) => {
                let mut rows = vec![data];
                for t in joined.by_ref().take(parts.len()) {
                    rows.push(load(&t, op.pos)?);
                }
                union::union(rows, op.pos)?
            }
            OpKind::MvExpand {
                bags_as_arrays,
                index,
                items,
                limit,
            } => mv_expand::mv_expand(
                data,
                now,
                *bags_as_arrays,
                index.as_deref(),
                items,
                *limit,
                op.pos,
            )?,
            OpKind::Render { .. } => data,
            other => apply(other, op.pos, data, now)?,
        };
    }
    render(data)
}

fn load(t: &DataTable, pos: usize) -> Result<Rows, KqlError> {
    let mut schema = Vec::new();
    for c in &t.columns {
        let ty = Type::from_kind(&c.kind).ok_or_else(|| {
            err(
                format!(
                    "Column '{}' of table '{}' has the unsupported type '{}'",
                    c.name, t.name, c.kind
                ),
                pos,
            )
        })?;
        schema.push((c.name.clone(), ty));
    }
    let mut rows = Vec::with_capacity(t.rows.len());
    for (ri, r) in t.rows.iter().enumerate() {
        let mut row = Vec::with_capacity(schema.len());
        for (ci, (name, ty)) in schema.iter().enumerate() {
            let cell = r.get(ci).unwrap_or(&serde_json::Value::Null);
            let v = from_wire(cell, *ty).ok_or_else(|| {
                err(format!("Stored value {cell} in row {ri}, column '{name}' of table '{}' is not a valid {}", t.name, ty.name()), pos)
            })?;
            row.push(v);
        }
        rows.push(row);
    }
    Ok(Rows { schema, rows })
}

fn render(data: Rows) -> Result<DataTable, KqlError> {
    let columns = data
        .schema
        .iter()
        .map(|(n, t)| Column {
            name: n.clone(),
            kind: t.name().to_string(),
        })
        .collect();
    let mut rows = Vec::with_capacity(data.rows.len());
    for r in &data.rows {
        let mut out = Vec::with_capacity(r.len());
        for (v, (name, ty)) in r.iter().zip(&data.schema) {
            out.push(to_wire(v, *ty).ok_or_else(|| {
                err(format!("Value of column '{name}' cannot be represented"), 0)
            })?);
        }
        rows.push(out);
    }
    Ok(DataTable {
        name: "PrimaryResult".into(),
        columns,
        rows,
    })
}

fn check_unique(schema: &Schema, pos: usize) -> Result<(), KqlError> {
    let mut seen = HashSet::new();
    for (n, _) in schema {
        if !seen.insert(n) {
            return Err(err(
                format!("A column named '{n}' is defined more than once"),
                pos,
            ));
        }
    }
    Ok(())
}

/// The output name of `[name =] expr` in project/extend, or an error asking for one.
fn item_name(item: &NamedExpr) -> Result<String, KqlError> {
    match &item.name {
        Some((n, _)) => Ok(n.clone()),
        None => derive_name(&item.expr).ok_or_else(|| {
            err("Name computed columns explicitly (Name = expression); the emulator does not invent column names", item.expr.pos)
        }),
    }
}

fn constant_count(ctx: &Ctx, e: &super::ast::Expr, what: &str) -> Result<usize, KqlError> {
    let empty: Schema = Vec::new();
    let c = Ctx {
        schema: &empty,
        now: ctx.now,
    };
    let t = c.compile(e)?;
    match eval(&t, &[])? {
        Value::Long(n) if n >= 0 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        _ => Err(err(
            format!("The row count of '{what}' must be a non-negative long constant"),
            e.pos,
        )),
    }
}

fn apply(op: &OpKind, pos: usize, data: Rows, now: i64) -> Result<Rows, KqlError> {
    let Rows { schema, rows } = data;
    let ctx = Ctx {
        schema: &schema,
        now,
    };
    match op {
        OpKind::Where(e) => {
            let p = ctx.compile(e)?;
            if p.ty != Type::Bool {
                return Err(err(
                    format!(
                        "The filter expression of 'where' must be of type bool, not '{}'",
                        p.ty.name()
                    ),
                    e.pos,
                ));
            }
            let mut out = Vec::new();
            for r in rows {
                if eval(&p, &r)? == Value::Bool(true) {
                    out.push(r);
                }
            }
            Ok(Rows { schema, rows: out })
        }
        OpKind::Project(items) => {
            let mut exprs = Vec::new();
            let mut out_schema = Vec::new();
            for it in items {
                let t = ctx.compile(&it.expr)?;
                out_schema.push((item_name(it)?, t.ty));
                exprs.push(t);
            }
            check_unique(&out_schema, pos)?;
            let rows = rows
                .iter()
                .map(|r| exprs.iter().map(|e| eval(e, r)).collect())
                .collect::<Result<_, _>>()?;
            Ok(Rows {
                schema: out_schema,
                rows,
            })
        }
        OpKind::Extend(items) => {
            let mut schema = schema;
            let mut rows = rows;
            for it in items {
                let name = item_name(it)?;
                let t = Ctx {
                    schema: &schema,
                    now,
                }
                .compile(&it.expr)?;
                // Kusto: an existing column of that name is removed and the new value appended.
                let existing = schema.iter().position(|(n, _)| *n == name);
                for r in rows.iter_mut() {
                    let v = eval(&t, r)?;
                    if let Some(i) = existing {
                        r.remove(i);
                    }
                    r.push(v);
                }
                if let Some(i) = existing {
                    schema.remove(i);
                }
                schema.push((name, t.ty));
            }
            Ok(Rows { schema, rows })
        }
        OpKind::ProjectAway(names) => {
            let mut drop = vec![false; schema.len()];
            for (pat, p) in names {
                if let Some(prefix) = pat.strip_suffix('*') {
                    for (i, (n, _)) in schema.iter().enumerate() {
                        if n.starts_with(prefix) {
                            drop[i] = true;
                        }
                    }
                } else {
                    let i = schema.iter().position(|(n, _)| n == pat).ok_or_else(|| {
                        err(
                            format!("Failed to resolve scalar expression named '{pat}'"),
                            *p,
                        )
                    })?;
                    drop[i] = true;
                }
            }
            let rows = rows.into_iter().map(|r| keep(r, &drop)).collect();
            Ok(Rows {
                schema: keep(schema, &drop),
                rows,
            })
        }
        OpKind::ProjectRename(items) => {
            let mut schema = schema;
            for (new, old, p) in items {
                let i = schema.iter().position(|(n, _)| n == old).ok_or_else(|| {
                    err(
                        format!("Failed to resolve scalar expression named '{old}'"),
                        *p,
                    )
                })?;
                schema[i].0 = new.clone();
            }
            check_unique(&schema, pos)?;
            Ok(Rows { schema, rows })
        }
        OpKind::Summarize { aggs, by } => summarize(&ctx, aggs, by, rows, pos),
        OpKind::Sort(keys) => {
            let compiled = compile_keys(&ctx, keys)?;
            let rows = sort_rows(rows, &compiled, pos)?;
            Ok(Rows { schema, rows })
        }
        OpKind::Take(n) => {
            let n = constant_count(&ctx, n, "take")?;
            let mut rows = rows;
            rows.truncate(n);
            Ok(Rows { schema, rows })
        }
        OpKind::Top(n, key) => {
            let n = constant_count(&ctx, n, "top")?;
            let compiled = compile_keys(&ctx, std::slice::from_ref(key))?;
            let mut rows = sort_rows(rows, &compiled, pos)?;
            rows.truncate(n);
            Ok(Rows { schema, rows })
        }
        OpKind::Count => Ok(Rows {
            schema: vec![("Count".into(), Type::Long)],
            rows: vec![vec![Value::Long(rows.len() as i64)]],
        }),
        OpKind::Distinct(cols) => {
            let idx: Vec<usize> = match cols {
                None => (0..schema.len()).collect(),
                Some(cols) => cols
                    .iter()
                    .map(|(c, p)| {
                        schema.iter().position(|(n, _)| n == c).ok_or_else(|| {
                            err(
                                format!("Failed to resolve scalar expression named '{c}'"),
                                *p,
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
            };
            let out_schema: Schema = idx.iter().map(|&i| schema[i].clone()).collect();
            if let Some((n, t)) = out_schema
                .iter()
                .find(|(_, t)| matches!(t, Type::Dynamic | Type::Decimal))
            {
                return Err(err(
                    format!(
                        "distinct over the {} column '{n}' is not supported",
                        t.name()
                    ),
                    pos,
                ));
            }
            check_unique(&out_schema, pos)?;
            let mut seen = HashSet::new();
            let mut out = Vec::new();
            for r in rows {
                let vals: Vec<Value> = idx.iter().map(|&i| r[i].clone()).collect();
                let key: Vec<String> = vals.iter().map(key_of).collect();
                if seen.insert(key) {
                    out.push(vals);
                }
            }
            Ok(Rows {
                schema: out_schema,
                rows: out,
            })
        }
        // Handled by `run`, which holds the join's right side.
        OpKind::Render { .. }
        | OpKind::Join { .. }
        | OpKind::Union(_)
        | OpKind::MvExpand { .. } => Ok(Rows { schema, rows }),
    }
}

/// The items of `v` whose `drop` flag is false.
fn keep<T>(v: Vec<T>, drop: &[bool]) -> Vec<T> {
    v.into_iter()
        .zip(drop)
        .filter(|(_, d)| !**d)
        .map(|(x, _)| x)
        .collect()
}

/// A compiled sort key: expression, direction, whether nulls come first.
struct Key {
    expr: TExpr,
    descending: bool,
    nulls_first: bool,
}

fn compile_keys(ctx: &Ctx, keys: &[SortKey]) -> Result<Vec<Key>, KqlError> {
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

fn sort_rows(rows: Vec<Vec<Value>>, keys: &[Key], pos: usize) -> Result<Vec<Vec<Value>>, KqlError> {
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

fn summarize(
    ctx: &Ctx,
    aggs: &[NamedExpr],
    by: &[NamedExpr],
    rows: Vec<Vec<Value>>,
    pos: usize,
) -> Result<Rows, KqlError> {
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
    for a in &super::aggregate::expand_percentiles(aggs)? {
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
    // Groups in order of first appearance.
    let mut index: HashMap<Vec<String>, usize> = HashMap::new();
    let mut groups: Vec<(Vec<Value>, Vec<super::aggregate::State>, usize)> = Vec::new();
    for r in &rows {
        let kv: Vec<Value> = keys.iter().map(|k| eval(k, r)).collect::<Result<_, _>>()?;
        let kk: Vec<String> = kv.iter().map(key_of).collect();
        let gi = match index.get(&kk) {
            Some(&i) => i,
            None => {
                groups.push((kv, compiled.iter().map(Agg::start).collect(), 0));
                index.insert(kk, groups.len() - 1);
                groups.len() - 1
            }
        };
        let g = &mut groups[gi];
        g.2 += 1;
        for (agg, st) in compiled.iter().zip(g.1.iter_mut()) {
            agg.add(st, r)?;
        }
    }
    if groups.is_empty() && keys.is_empty() {
        groups.push((Vec::new(), compiled.iter().map(Agg::start).collect(), 0));
    }
    let mut out = Vec::with_capacity(groups.len());
    for (kv, states, _) in groups {
        let mut row = kv;
        for (agg, st) in compiled.iter().zip(states) {
            row.extend(agg.finish(st)?);
        }
        out.push(row);
    }
    Ok(Rows {
        schema: out_schema,
        rows: out,
    })
}
