//! `summarize` over a [`ColumnStore`]'s rows: a key that is a plain column groups by the
//! column's stored key (a dictionary id for text, the number itself otherwise) instead of a
//! decoded value's text, and each row decodes only the cells the aggregations read (none for
//! `count()`). Groups, their order and the results are those of the row-by-row fold in
//! `summarize.rs`, which shares the compiled [`Plan`].

use super::super::ast::NamedExpr;
use super::super::compile::{Ctx, TKind};
use super::super::error::KqlError;
use super::super::eval::eval;
use super::super::store::hash::FastHash;
use super::super::store::{real_key, Cells, ColumnStore, Key, NULL_ID, NULL_KEY};
use super::super::value::Value;
use super::summarize::{finish, plan, Group, Plan};
use super::Rows;
use std::collections::HashMap;

/// Where one group key comes from.
enum KeySource {
    /// A stored column, by its stored key.
    Column(usize),
    /// An expression, evaluated per row.
    Expr,
}

/// `summarize aggs by by` over rows `rows` of `store`.
pub(super) fn summarize(
    ctx: &Ctx,
    aggs: &[NamedExpr],
    by: &[NamedExpr],
    store: &ColumnStore,
    rows: &[usize],
    pos: usize,
) -> Result<Rows, KqlError> {
    let plan = plan(ctx, aggs, by, pos)?;
    let sources: Vec<KeySource> = plan
        .keys
        .iter()
        .map(|k| match (&k.kind, store.cells(column_of(&k.kind))) {
            (TKind::Col(c), Some(Cells::Int(_) | Cells::Real(_) | Cells::Text(..))) => {
                KeySource::Column(*c)
            }
            _ => KeySource::Expr,
        })
        .collect();
    // The cells decoded per row: those the aggregations and the expression keys read.
    let mut needed = Vec::new();
    for a in &plan.aggs {
        a.arg
            .iter()
            .chain(&a.filter)
            .for_each(|e| e.columns_into(&mut needed));
        a.returns
            .iter()
            .for_each(|(_, e)| e.columns_into(&mut needed));
    }
    for (k, s) in plan.keys.iter().zip(&sources) {
        if matches!(s, KeySource::Expr) {
            k.columns_into(&mut needed);
        }
    }
    let groups = match (sources.as_slice(), plan.keys.len()) {
        ([KeySource::Column(c)], 1) => match store.cells(*c) {
            Some(Cells::Text(ids, dict)) => {
                by_text(&plan, store, rows, &needed, *c, ids, dict.len())?
            }
            _ => by_keys(&plan, &sources, store, rows, &needed)?,
        },
        _ => by_keys(&plan, &sources, store, rows, &needed)?,
    };
    finish(plan, groups)
}

fn column_of(kind: &TKind) -> usize {
    match kind {
        TKind::Col(c) => *c,
        _ => usize::MAX,
    }
}

/// One key, a text column: the group of each dictionary id in a vector.
fn by_text(
    plan: &Plan,
    store: &ColumnStore,
    rows: &[usize],
    needed: &[usize],
    col: usize,
    ids: &[u32],
    distinct: usize,
) -> Result<Vec<Group>, KqlError> {
    let mut group_of = vec![usize::MAX; distinct + 1];
    let mut groups: Vec<Group> = Vec::new();
    let mut buf = vec![Value::Null; store.schema().len()];
    for &row in rows {
        let id = ids[row];
        let slot = &mut group_of[if id == NULL_ID { distinct } else { id as usize }];
        if *slot == usize::MAX {
            *slot = groups.len();
            groups.push((
                vec![store.value(col, row)],
                plan.aggs.iter().map(|a| a.start()).collect(),
            ));
        }
        store.fill(row, needed, &mut buf);
        for (agg, st) in plan.aggs.iter().zip(groups[*slot].1.iter_mut()) {
            agg.add(st, &buf)?;
        }
    }
    Ok(groups)
}

/// Any keys: groups found by their keys in a hash map.
fn by_keys(
    plan: &Plan,
    sources: &[KeySource],
    store: &ColumnStore,
    rows: &[usize],
    needed: &[usize],
) -> Result<Vec<Group>, KqlError> {
    let mut index: HashMap<Vec<Key>, usize, FastHash> = HashMap::default();
    let mut strings: HashMap<String, u64, FastHash> = HashMap::default();
    let mut groups: Vec<Group> = Vec::new();
    let mut buf = vec![Value::Null; store.schema().len()];
    let mut key = vec![NULL_KEY; sources.len()];
    let mut values = vec![Value::Null; sources.len()];
    for &row in rows {
        store.fill(row, needed, &mut buf);
        for (i, (k, s)) in plan.keys.iter().zip(sources).enumerate() {
            key[i] = match s {
                KeySource::Column(c) => store.key(*c, row),
                KeySource::Expr => {
                    values[i] = eval(k, &buf)?;
                    value_key(&values[i], &mut strings)
                }
            };
        }
        let gi = match index.get(key.as_slice()) {
            Some(&g) => g,
            None => {
                let kv = sources
                    .iter()
                    .zip(&values)
                    .map(|(s, v)| match s {
                        KeySource::Column(c) => store.value(*c, row),
                        KeySource::Expr => v.clone(),
                    })
                    .collect();
                groups.push((kv, plan.aggs.iter().map(|a| a.start()).collect()));
                index.insert(key.clone(), groups.len() - 1);
                groups.len() - 1
            }
        };
        for (agg, st) in plan.aggs.iter().zip(groups[gi].1.iter_mut()) {
            agg.add(st, &buf)?;
        }
    }
    Ok(groups)
}

/// The grouping key of an evaluated value: equal under `summarize`'s rules, equal keys
/// (strings numbered in `strings` as they are first seen).
fn value_key(v: &Value, strings: &mut HashMap<String, u64, FastHash>) -> Key {
    fn text(strings: &mut HashMap<String, u64, FastHash>, s: String) -> Key {
        let next = strings.len() as u64;
        Key(3, *strings.entry(s).or_insert(next))
    }
    match v {
        Value::Null => NULL_KEY,
        Value::Bool(b) => Key(1, u64::from(*b)),
        Value::Long(i) | Value::DateTime(i) | Value::TimeSpan(i) => Key(1, *i as u64),
        Value::Real(f) => real_key(*f),
        Value::Str(s) | Value::Guid(s) | Value::Decimal(s) => match strings.get(s.as_str()) {
            Some(&n) => Key(3, n),
            None => text(strings, s.clone()),
        },
        Value::Dynamic(j) => text(strings, j.to_string()),
    }
}
