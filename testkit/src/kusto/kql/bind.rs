//! Names bound before the query runs: query parameters, `let` scalars, `let` tables and
//! `let` functions (scalar or tabular). Each use is replaced by what it stands for (a value,
//! a pipeline the query continues, or the function's body with its arguments in place), so
//! later stages see plain expressions. A let shadows a parameter or an earlier let of the
//! same name.

use super::ast::{Expr, ExprKind, Inline, Let, Lit, NamedExpr, OpKind, Operator, Query};
use super::error::KqlError;
use std::collections::HashMap;

/// A scalar function bound by `let`: parameters (with defaults) and body.
type Function = (Vec<(String, Option<Expr>)>, Expr);

/// A tabular function bound by `let`: parameters (with defaults) and body.
type TableFunction = (Vec<(String, Option<Expr>)>, Query);

/// What names stand for.
#[derive(Default, Clone)]
pub struct Bindings {
    values: HashMap<String, ExprKind>,
    tables: HashMap<String, Query>,
    functions: HashMap<String, Function>,
    table_functions: HashMap<String, TableFunction>,
    /// How many function calls deep the names are being bound (recursion is refused).
    depth: usize,
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
            Let::TableFunction { name, params, body } => {
                b.table_functions.insert(name, (params, *body));
            }
        }
    }
    Ok(b)
}

/// Replaces every bound name used in `q` and its subqueries.
pub fn query(q: &mut Query, b: &Bindings) -> Result<(), KqlError> {
    if let Some(Inline::Call { name, args }) = &q.inline {
        let body = table_call(name, args, b, q.table_pos)?;
        ops(&mut q.ops, b)?;
        let mut rest = std::mem::take(&mut q.ops);
        *q = body;
        q.ops.append(&mut rest);
        return Ok(());
    }
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
    ops(&mut q.ops, b)?;
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
        Some(Inline::Call { .. }) | None => {}
    }
    Ok(())
}

/// Replaces the bound names used in a chain of operators.
fn ops(list: &mut [Operator], b: &Bindings) -> Result<(), KqlError> {
    for op in list {
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
            OpKind::BagUnpack { args, .. } => {
                for (_, a) in args {
                    expr(a, b, 0)?;
                }
            }
            _ => {}
        }
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
    let mut inner = arguments(name, params, args, b, depth, pos)?;
    inner.tables = HashMap::new();
    let mut out = body.clone();
    expr(&mut out, &inner, depth + 1)?;
    Ok(out.kind)
}

/// The body of the tabular let function `name` with its parameters bound to `args`.
fn table_call(name: &str, args: &[Expr], b: &Bindings, pos: usize) -> Result<Query, KqlError> {
    let Some((params, body)) = b.table_functions.get(name) else {
        let what = if b.functions.contains_key(name) {
            format!("'{name}' is a scalar function; a query cannot start with it")
        } else {
            format!("Unknown function: '{name}' (only tabular let functions may start a query)")
        };
        return Err(KqlError::new(what, pos));
    };
    let mut args = args.to_vec();
    for a in &mut args {
        expr(a, b, 0)?;
    }
    let mut inner = arguments(name, params, &args, b, b.depth, pos)?;
    inner.depth = b.depth + 1;
    let mut out = body.clone();
    query(&mut out, &inner)?;
    Ok(out)
}

/// `b` with the parameters of the function `name` bound to `args` (or their defaults).
fn arguments(
    name: &str,
    params: &[(String, Option<Expr>)],
    args: &[Expr],
    b: &Bindings,
    depth: usize,
    pos: usize,
) -> Result<Bindings, KqlError> {
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
    let mut inner = b.clone();
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
        // A parameter hides a let table of the same name.
        inner.tables.remove(p);
        inner.values.insert(p.clone(), value);
    }
    Ok(inner)
}
