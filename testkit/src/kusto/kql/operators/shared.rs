//! Helpers the operators share: errors, column-name checks and column dropping.

use super::super::ast::NamedExpr;
use super::super::compile::{derive_name, Schema};
use super::super::error::KqlError;
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
