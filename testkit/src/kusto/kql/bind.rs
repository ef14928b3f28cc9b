//! Names bound before the query runs: query parameters, `let` scalars, `let` tables and
//! `let` scalar functions. Each use is replaced by what it stands for (a value, a pipeline
//! the query continues, or the function's body with its arguments in place), so later stages
//! see plain expressions. A let shadows a parameter or an earlier let of the same name.

use super::ast::{Expr, ExprKind, Inline, Let, Lit, NamedExpr, OpKind, Query};
use super::error::KqlError;
use std::collections::HashMap;

/// A scalar function bound by `let`: parameters (with defaults) and body.
type Function = (Vec<(String, Option<Expr>)>, Expr);

/// What names stand for.
#[derive(Default)]
pub struct Bindings {
    values: HashMap<String, ExprKind>,
    tables: HashMap<String, Query>,
    functions: HashMap<String, Function>,
}

/// Binds the parameters, then each `let` of `q` in order (each seeing those before it).
pub fn bind(q: &mut Query, params: HashMap<String, Lit>) -> Result<Bindings, KqlError> {
    let mut b = Bindings {
        values: params
            .into_iter()
            .map(|(k, v)| (k, ExprKind::Lit(v)))
            .collect(),
        ..Bindings::default()
    };
    for l in std::mem::take(&mut q.lets) {
        match l {
            Let::Scalar(name, mut e) => {
                expr(&mut e, &b, 0)?;
                b.values.insert(name, e.kind);
            }
            Let::Table(name, mut t) => {
                query(&mut t, &b)?;
                b.tables.insert(name, *t);
            }
            Let::Function { name, params, body } => {
                b.functions.insert(name, (params, body));
            }
        }
    }
    Ok(b)
}

/// Replaces every bound name used in `q` and its subqueries.
pub fn query(q: &mut Query, b: &Bindings) -> Result<(), KqlError> {
    if q.inline.is_none() && q.print.is_none() {
        if let Some(t) = b.tables.get(&q.table) {
            let mut source = t.clone();
            source.ops.append(&mut q.ops);
            *q = source;
            // The let's own pipeline is bound already; bind the ops that follow it.
        }
    }
    if let Some(items) = &mut q.print {
        named(items, b)?;
    }
    for op in &mut q.ops {
        match &mut op.kind {
            OpKind::Where(e) | OpKind::Take(e) => expr(e, b, 0)?,
            OpKind::Project(items) | OpKind::Extend(items) => named(items, b)?,
            OpKind::Summarize { aggs, by } => {
                named(aggs, b)?;
                named(by, b)?;
            }
            OpKind::Sort(keys) => {
                for k in keys {
                    expr(&mut k.expr, b, 0)?;
                }
            }
            OpKind::Top(n, k) => {
                expr(n, b, 0)?;
                expr(&mut k.expr, b, 0)?;
            }
            OpKind::Join { right, .. } => query(right, b)?,
            OpKind::Union(parts) => {
                for p in parts {
                    query(p, b)?;
                }
            }
            OpKind::MvExpand { items, .. } => {
                for i in items {
                    expr(&mut i.1, b, 0)?;
                }
            }
            _ => {}
        }
    }
    match &mut q.inline {
        Some(Inline::Range { from, to, step, .. }) => {
            for e in [from, to, step] {
                expr(e, b, 0)?;
            }
        }
        Some(Inline::DataTable { values, .. }) => {
            for e in values {
                expr(e, b, 0)?;
            }
        }
        Some(Inline::Union(parts)) => {
            for p in parts {
                query(p, b)?;
            }
        }
        None => {}
    }
    Ok(())
}

fn named(items: &mut [NamedExpr], b: &Bindings) -> Result<(), KqlError> {
    for it in items {
        expr(&mut it.expr, b, 0)?;
    }
    Ok(())
}

/// Deepest nesting of function calls within function bodies (recursion is refused).
const MAX_CALL_DEPTH: usize = 32;

fn expr(e: &mut Expr, b: &Bindings, depth: usize) -> Result<(), KqlError> {
    match &mut e.kind {
        ExprKind::Name(n) => {
            if let Some(value) = b.values.get(n.as_str()) {
                e.kind = value.clone();
            }
        }
        ExprKind::Call(name, args) => {
            for a in args.iter_mut() {
                expr(a, b, depth)?;
            }
            if let Some((params, body)) = b.functions.get(name.as_str()) {
                e.kind = call(name, params, body, args, b, depth, e.pos)?;
            }
        }
        ExprKind::Neg(x) | ExprKind::Member(x, _) | ExprKind::Index(x, _) => expr(x, b, depth)?,
        ExprKind::Binary(_, l, r) | ExprKind::StrOp(_, l, r) => {
            expr(l, b, depth)?;
            expr(r, b, depth)?;
        }
        ExprKind::In(_, x, list) => {
            expr(x, b, depth)?;
            for i in list {
                expr(i, b, depth)?;
            }
        }
        ExprKind::Between(_, x, lo, hi) => {
            expr(x, b, depth)?;
            expr(lo, b, depth)?;
            expr(hi, b, depth)?;
        }
        ExprKind::Lit(_) | ExprKind::Star => {}
    }
    Ok(())
}

/// The body of a let function with its parameters replaced by `args` (or their defaults).
fn call(
    name: &str,
    params: &[(String, Option<Expr>)],
    body: &Expr,
    args: &[Expr],
    b: &Bindings,
    depth: usize,
    pos: usize,
) -> Result<ExprKind, KqlError> {
    if depth >= MAX_CALL_DEPTH {
        return Err(KqlError::new(
            format!("The function '{name}' calls itself too deeply"),
            pos,
        ));
    }
    if args.len() > params.len() {
        return Err(KqlError::new(
            format!(
                "Function '{name}' expects {} argument(s), got {}",
                params.len(),
                args.len()
            ),
            pos,
        ));
    }
    let mut inner = Bindings {
        values: b.values.clone(),
        tables: HashMap::new(),
        functions: b.functions.clone(),
    };
    for (i, (p, default)) in params.iter().enumerate() {
        let value = match (args.get(i), default) {
            (Some(a), _) => a.kind.clone(),
            (None, Some(d)) => d.kind.clone(),
            (None, None) => {
                return Err(KqlError::new(
                    format!("Function '{name}' needs a value for its parameter '{p}'"),
                    pos,
                ))
            }
        };
        inner.values.insert(p.clone(), value);
    }
    let mut out = body.clone();
    expr(&mut out, &inner, depth + 1)?;
    Ok(out.kind)
}
