//! Helpers the operators share: errors, column-name checks and column dropping.

use super::super::ast::{Expr, NamedExpr};
use super::super::compile::{derive_name, Ctx, Schema};
use super::super::error::KqlError;
use super::super::eval::eval;
use super::super::typed::TExpr;
use super::super::value::{Type, Value};
use std::collections::HashSet;

pub(super) fn err(msg: impl Into<String>, pos: usize) -> KqlError {
    KqlError::new(msg, pos)
}

pub(super) fn check_unique(schema: &Schema, pos: usize) -> Result<(), KqlError> {
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
pub(super) fn item_name(item: &NamedExpr) -> Result<String, KqlError> {
    match &item.name {
        Some((n, _)) => Ok(n.clone()),
        None => derive_name(&item.expr).ok_or_else(|| {
            err("Name computed columns explicitly (Name = expression); the emulator does not invent column names", item.expr.pos)
        }),
    }
}

/// The items of `v` whose `drop` flag is false.
pub(super) fn keep<T>(v: Vec<T>, drop: &[bool]) -> Vec<T> {
    v.into_iter()
        .zip(drop)
        .filter(|(_, d)| !**d)
        .map(|(x, _)| x)
        .collect()
}

/// A `take`/`top` row count: a constant, non-negative long.
pub(super) fn constant_count(ctx: &Ctx, e: &Expr, what: &str) -> Result<usize, KqlError> {
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

/// Compiles the predicate of a `where`, which must be a bool.
pub(super) fn compile_filter(ctx: &Ctx, e: &Expr) -> Result<TExpr, KqlError> {
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
    Ok(p)
}
