//! `join`: rows of the left side matched with rows of the right side on equal keys, in every
//! flavour Kusto has. Null keys never match. Right columns whose names the left side already
//! uses get a numeric suffix (`DeviceId1`), as Kusto names them.

use super::super::aggregate::key_of;
use super::super::compile::Schema;
use super::super::error::KqlError;
use super::super::rows::Rows;
use super::super::value::Value;
use std::collections::{HashMap, HashSet};

fn err(msg: impl Into<String>, pos: usize) -> KqlError {
    KqlError::new(msg, pos)
}

fn index(schema: &Schema, name: &str, side: &str, pos: usize) -> Result<usize, KqlError> {
    schema.iter().position(|(c, _)| c == name).ok_or_else(|| {
        err(
            format!("Failed to resolve column '{name}' on the {side} side of the join"),
            pos,
        )
    })
}

/// The key of a row, `None` when one of its parts is null.
fn key(row: &[Value], cols: &[usize]) -> Option<String> {
    let mut parts = Vec::with_capacity(cols.len());
    for &c in cols {
        let v = &row[c];
        if v.is_null() {
            return None;
        }
        parts.push(key_of(v));
    }
    Some(parts.join("\u{1}"))
}

/// The right side's rows by key.
struct Matcher {
    by_key: HashMap<String, Vec<usize>>,
    lk: Vec<usize>,
}

impl Matcher {
    /// The right rows whose key equals `row`'s (none for a null key).
    fn matches(&self, row: &[Value]) -> &[usize] {
        key(row, &self.lk)
            .and_then(|k| self.by_key.get(&k))
            .map_or(&[], |v| v.as_slice())
    }
}

/// Left and right schemas side by side, right names made unique.
fn combined(left: &Schema, right: &Schema) -> Schema {
    let mut used: HashSet<String> = left.iter().map(|(n, _)| n.clone()).collect();
    let mut out = left.clone();
    for (name, ty) in right {
        let mut candidate = name.clone();
        let mut n = 1;
        while used.contains(&candidate) {
            candidate = format!("{name}{n}");
            n += 1;
        }
        used.insert(candidate.clone());
        out.push((candidate, *ty));
    }
    out
}

/// Joins `left` and `right` on `on` (left column, right column) pairs. `lookup_leftouter` and
/// `lookup_inner` are `lookup`: the join without the right side's key columns.
pub(super) fn join(
    kind: &str,
    on: &[(String, String)],
    left: Rows,
    right: Rows,
    pos: usize,
) -> Result<Rows, KqlError> {
    let Some(base) = kind.strip_prefix("lookup_") else {
        return join_rows(kind, on, left, right, pos);
    };
    let width = left.schema.len();
    let drop: Vec<usize> = on
        .iter()
        .filter_map(|(_, r)| right.schema.iter().position(|(c, _)| c == r))
        .map(|i| width + i)
        .collect();
    let mut out = join_rows(base, on, left, right, pos)?;
    let keep = |i: &usize| !drop.contains(i);
    out.schema = out
        .schema
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep(i))
        .map(|(_, c)| c)
        .collect();
    for row in &mut out.rows {
        *row = std::mem::take(row)
            .into_iter()
            .enumerate()
            .filter(|(i, _)| keep(i))
            .map(|(_, v)| v)
            .collect();
    }
    Ok(out)
}

fn join_rows(
    kind: &str,
    on: &[(String, String)],
    left: Rows,
    right: Rows,
    pos: usize,
) -> Result<Rows, KqlError> {
    let mut lk = Vec::new();
    let mut rk = Vec::new();
    for (l, r) in on {
        let (li, ri) = (
            index(&left.schema, l, "left", pos)?,
            index(&right.schema, r, "right", pos)?,
        );
        let (lt, rt) = (left.schema[li].1, right.schema[ri].1);
        if lt != rt {
            return Err(err(
                format!(
                    "The join keys '{l}' ({}) and '{r}' ({}) have different types",
                    lt.name(),
                    rt.name()
                ),
                pos,
            ));
        }
        lk.push(li);
        rk.push(ri);
    }
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, row) in right.rows.iter().enumerate() {
        if let Some(k) = key(row, &rk) {
            by_key.entry(k).or_default().push(i);
        }
    }
    let left_rows = if kind == "innerunique" {
        let mut seen = HashSet::new();
        left.rows
            .into_iter()
            .filter(|r| key(r, &lk).is_none_or(|k| seen.insert(k)))
            .collect()
    } else {
        left.rows
    };
    let index = Matcher { by_key, lk };
    let matches = |row: &[Value]| index.matches(row).to_vec();
    match kind {
        "leftanti" | "leftsemi" => {
            let want = kind == "leftsemi";
            let rows = left_rows
                .into_iter()
                .filter(|r| matches(r).is_empty() != want)
                .collect();
            Ok(Rows {
                schema: left.schema,
                rows,
            })
        }
        "rightanti" | "rightsemi" => {
            let matched: HashSet<usize> = left_rows.iter().flat_map(|r| matches(r)).collect();
            let want = kind == "rightsemi";
            let rows = right
                .rows
                .into_iter()
                .enumerate()
                .filter(|(i, _)| matched.contains(i) == want)
                .map(|(_, r)| r)
                .collect();
            Ok(Rows {
                schema: right.schema,
                rows,
            })
        }
        _ => Ok(pairs(kind, left.schema, left_rows, right, &index)),
    }
}

/// inner, innerunique, leftouter, rightouter, fullouter: matched pairs, plus the unmatched
/// rows of the outer side(s) filled with nulls.
fn pairs(
    kind: &str,
    left_schema: Schema,
    left_rows: Vec<Vec<Value>>,
    right: Rows,
    index: &Matcher,
) -> Rows {
    let schema = combined(&left_schema, &right.schema);
    let (lw, rw) = (left_schema.len(), right.schema.len());
    let keep_left = matches!(kind, "leftouter" | "fullouter");
    let keep_right = matches!(kind, "rightouter" | "fullouter");
    let mut used = vec![false; right.rows.len()];
    let mut rows = Vec::new();
    for l in &left_rows {
        let m = index.matches(l);
        if m.is_empty() && keep_left {
            let mut row = l.clone();
            row.extend(std::iter::repeat_n(Value::Null, rw));
            rows.push(row);
        }
        for &i in m {
            used[i] = true;
            let mut row = l.clone();
            row.extend(right.rows[i].iter().cloned());
            rows.push(row);
        }
    }
    if keep_right {
        for (i, r) in right.rows.iter().enumerate() {
            if !used[i] {
                let mut row: Vec<Value> = std::iter::repeat_n(Value::Null, lw).collect();
                row.extend(r.iter().cloned());
                rows.push(row);
            }
        }
    }
    Rows { schema, rows }
}
