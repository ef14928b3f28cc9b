//! Queries over a stored table's [`ColumnStore`]: the leading `where` filters pick row
//! numbers, reading only the cells their predicates use (a predicate over one text column
//! is evaluated once per distinct string), and a `summarize`, `count` or `take` right after
//! them runs on those rows without decoding the others. Whatever follows runs on decoded
//! rows as before.

use super::super::ast::{OpKind, Query};
use super::super::compile::{Ctx, Schema, TExpr};
use super::super::error::KqlError;
use super::super::eval::eval;
use super::super::store::{Cells, ColumnStore, NULL_ID};
use super::super::value::{Type, Value};
use super::shared::{compile_filter, constant_count};
use super::{scan_summarize, Rows};

/// Runs the leading operators of `q` that a columnar scan answers; returns their result and
/// how many operators it ran.
pub(super) fn scan(q: &Query, store: &ColumnStore, now: i64) -> Result<(Rows, usize), KqlError> {
    let schema: Schema = store.schema().to_vec();
    let ctx = Ctx {
        schema: &schema,
        now,
    };
    let mut selection: Option<Vec<usize>> = None;
    let mut used = 0;
    for op in &q.ops {
        let OpKind::Where(e) = &op.kind else {
            break;
        };
        let p = compile_filter(&ctx, e)?;
        selection = Some(filter(store, &p, selection.as_deref())?);
        used += 1;
    }
    let all: Vec<usize>;
    let rows: &[usize] = match &selection {
        Some(s) => s,
        None => {
            all = (0..store.len()).collect();
            &all
        }
    };
    let Some(op) = q.ops.get(used) else {
        return Ok((materialize(store, schema, rows), used));
    };
    Ok(match &op.kind {
        OpKind::Count => (
            Rows {
                schema: vec![("Count".into(), Type::Long)],
                rows: vec![vec![Value::Long(rows.len() as i64)]],
            },
            used + 1,
        ),
        OpKind::Summarize { aggs, by } => (
            scan_summarize::summarize(&ctx, aggs, by, store, rows, op.pos)?,
            used + 1,
        ),
        OpKind::Take(n) => {
            let n = constant_count(&ctx, n, "take")?;
            let taken = &rows[..n.min(rows.len())];
            (materialize(store, schema, taken), used + 1)
        }
        _ => (materialize(store, schema, rows), used),
    })
}

/// The rows (of `from`, or all) where `p` is true.
fn filter(store: &ColumnStore, p: &TExpr, from: Option<&[usize]>) -> Result<Vec<usize>, KqlError> {
    let mut cols = Vec::new();
    p.columns_into(&mut cols);
    let mut buf = vec![Value::Null; store.schema().len()];
    let mut out = Vec::new();
    let text = match cols[..] {
        [c] => match store.cells(c) {
            Some(Cells::Text(ids, dict)) => Some((c, ids, dict)),
            _ => None,
        },
        _ => None,
    };
    let sink = &mut out;
    let mut each: Box<dyn FnMut(usize) -> Result<(), KqlError> + '_> = match text {
        Some((c, ids, dict)) => {
            // Evaluated once per distinct string: 0 not yet, 1 true, 2 not true.
            let mut memo = vec![0u8; dict.len() + 1];
            Box::new(move |row| {
                let id = ids[row];
                let m = &mut memo[if id == NULL_ID {
                    dict.len()
                } else {
                    id as usize
                }];
                if *m == 0 {
                    buf[c] = store.value(c, row);
                    *m = if eval(p, &buf)? == Value::Bool(true) {
                        1
                    } else {
                        2
                    };
                }
                if *m == 1 {
                    sink.push(row);
                }
                Ok(())
            })
        }
        None => Box::new(move |row| {
            store.fill(row, &cols, &mut buf);
            if eval(p, &buf)? == Value::Bool(true) {
                sink.push(row);
            }
            Ok(())
        }),
    };
    match from {
        Some(rows) => rows.iter().try_for_each(|&r| each(r))?,
        None => (0..store.len()).try_for_each(&mut each)?,
    }
    drop(each);
    Ok(out)
}

/// Decodes `rows` with every column.
fn materialize(store: &ColumnStore, schema: Schema, rows: &[usize]) -> Rows {
    Rows {
        schema,
        rows: rows.iter().map(|&r| store.row(r)).collect(),
    }
}
