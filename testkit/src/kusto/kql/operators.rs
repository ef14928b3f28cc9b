//! Tabular operators: loads the source table, applies each `|` operator, renders the result.

use super::ast::{Inline, NamedExpr, OpKind, Query};
use super::catalog::Catalog;
use super::compile::{derive_name, Ctx};
use super::error::KqlError;
use super::eval::eval;
use super::store::ColumnStore;
use super::table::{Column, DataTable};
use super::value::{from_wire, to_wire, Type, Value};

mod bag_unpack;
mod columns;
mod inline;
mod join;
mod mv_expand;
mod scan;
mod scan_summarize;
mod shared;
mod sort;
mod summarize;
mod union;

pub use super::rows::Rows;
use shared::{compile_filter, constant_count, err};

/// What a query's operators start from.
pub enum Source<'a> {
    /// Decoded rows.
    Rows(Rows),
    /// A stored table's typed columns, which [`run`] scans without decoding every row.
    Store(&'a ColumnStore),
}

/// Looks up the query's source table: its column store when the catalog has one that holds
/// the table's rows, else the table's rows decoded.
pub fn source<'a>(q: &Query, catalog: &'a dyn Catalog) -> Result<Source<'a>, KqlError> {
    if let Some(Inline::DataTable { columns, values }) = &q.inline {
        return inline::datatable(columns, values, q.table_pos).map(Source::Rows);
    }
    if q.print.is_some() || q.inline.is_some() {
        // One row without columns; `run` evaluates the printed expressions over it.
        return Ok(Source::Rows(Rows {
            schema: Vec::new(),
            rows: vec![Vec::new()],
        }));
    }
    if let Some(store) = catalog.store(&q.table) {
        return Ok(Source::Store(store));
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
    load(table, q.table_pos).map(Source::Rows)
}

/// `Table | count` answered from the stored row count, without decoding a row: the query
/// reports and health checks run most often, in a time that does not grow with the table.
pub fn count_only(q: &Query, catalog: &dyn Catalog) -> Option<DataTable> {
    let [op] = q.ops.as_slice() else {
        return None;
    };
    if !matches!(op.kind, OpKind::Count) || q.inline.is_some() || q.print.is_some() {
        return None;
    }
    let n = catalog.table(&q.table)?.rows.len();
    Some(DataTable {
        name: "PrimaryResult".into(),
        columns: vec![Column {
            name: "Count".into(),
            kind: "long".into(),
        }],
        rows: vec![vec![serde_json::json!(n)]],
    })
}

/// Applies the query's operators to the source rows with `now()` fixed at `now` ticks;
/// `joined` holds the right side of each `join`, in the order they appear.
pub fn run(
    q: &Query,
    source: Source,
    now: i64,
    joined: Vec<DataTable>,
) -> Result<DataTable, KqlError> {
    let (mut data, scanned) = match source {
        Source::Rows(rows) => (rows, 0),
        Source::Store(store) => scan::scan(q, store, now)?,
    };
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
    for op in q.ops.iter().skip(scanned) {
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
            OpKind::BagUnpack {
                column,
                args,
                schema,
            } => bag_unpack::bag_unpack(data, column, args, schema.as_ref(), now, op.pos)?,
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

fn apply(op: &OpKind, pos: usize, data: Rows, now: i64) -> Result<Rows, KqlError> {
    let Rows { schema, rows } = data;
    let ctx = Ctx {
        schema: &schema,
        now,
    };
    match op {
        OpKind::Where(e) => {
            let p = compile_filter(&ctx, e)?;
            let mut out = Vec::new();
            for r in rows {
                if eval(&p, &r)? == Value::Bool(true) {
                    out.push(r);
                }
            }
            Ok(Rows { schema, rows: out })
        }
        OpKind::Project(items) => columns::project(&ctx, items, rows, pos),
        OpKind::Extend(items) => columns::extend(schema, rows, items, now),
        OpKind::ProjectAway(names) => columns::project_away(schema, rows, names),
        OpKind::ProjectRename(items) => columns::project_rename(schema, rows, items, pos),
        OpKind::Summarize { aggs, by } => summarize::summarize(&ctx, aggs, by, rows, pos),
        OpKind::Sort(keys) => {
            let compiled = sort::compile_keys(&ctx, keys)?;
            let rows = sort::sort_rows(rows, &compiled, pos)?;
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
            let compiled = sort::compile_keys(&ctx, std::slice::from_ref(key))?;
            let mut rows = sort::sort_rows(rows, &compiled, pos)?;
            rows.truncate(n);
            Ok(Rows { schema, rows })
        }
        OpKind::Count => Ok(Rows {
            schema: vec![("Count".into(), Type::Long)],
            rows: vec![vec![Value::Long(rows.len() as i64)]],
        }),
        OpKind::Distinct(cols) => columns::distinct(schema, rows, cols.as_deref(), pos),
        // Handled by `run`, which holds the join's right side.
        OpKind::Render { .. }
        | OpKind::Join { .. }
        | OpKind::Union(_)
        | OpKind::MvExpand { .. }
        | OpKind::BagUnpack { .. } => Ok(Rows { schema, rows }),
    }
}
