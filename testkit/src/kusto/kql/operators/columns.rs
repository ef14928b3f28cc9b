//! The operators that reshape columns: `project`, `extend`, `project-away`,
//! `project-rename` and `distinct`.

use super::super::aggregate::key_of;
use super::super::ast::NamedExpr;
use super::super::compile::{Ctx, Schema};
use super::super::error::KqlError;
use super::super::eval::eval;
use super::super::rows::Rows;
use super::super::value::{Type, Value};
use super::shared::{check_unique, err, item_name, keep};
use std::collections::HashSet;

/// `project`: the named expressions, in order.
pub(super) fn project(
    ctx: &Ctx,
    items: &[NamedExpr],
    rows: Vec<Vec<Value>>,
    pos: usize,
) -> Result<Rows, KqlError> {
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

/// `extend`: each item sees the columns the items before it added.
pub(super) fn extend(
    schema: Schema,
    rows: Vec<Vec<Value>>,
    items: &[NamedExpr],
    now: i64,
) -> Result<Rows, KqlError> {
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

/// `project-away`: names and `prefix*` wildcards.
pub(super) fn project_away(
    schema: Schema,
    rows: Vec<Vec<Value>>,
    names: &[(String, usize)],
) -> Result<Rows, KqlError> {
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

/// `project-rename new = old, ...`.
pub(super) fn project_rename(
    schema: Schema,
    rows: Vec<Vec<Value>>,
    items: &[(String, String, usize)],
    pos: usize,
) -> Result<Rows, KqlError> {
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

/// `distinct *` or `distinct a, b`: first occurrences, in input order.
pub(super) fn distinct(
    schema: Schema,
    rows: Vec<Vec<Value>>,
    cols: Option<&[(String, usize)]>,
    pos: usize,
) -> Result<Rows, KqlError> {
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
