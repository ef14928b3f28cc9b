//! `union`: the rows of several tables, one after the other, with the columns of all of them
//! matched by name (a column a table lacks is null in its rows). Columns of one name with
//! different types are refused (Kusto would rename them by type).

use super::super::compile::Schema;
use super::super::error::KqlError;
use super::super::rows::Rows;
use super::super::value::Value;

/// The union of `parts`, in order.
pub(super) fn union(parts: Vec<Rows>, pos: usize) -> Result<Rows, KqlError> {
    let mut schema: Schema = Vec::new();
    for p in &parts {
        for (name, ty) in &p.schema {
            match schema.iter().find(|(n, _)| n == name) {
                None => schema.push((name.clone(), *ty)),
                Some((_, t)) if t == ty => {}
                Some((_, t)) => {
                    return Err(KqlError::new(
                        format!(
                        "union of column '{name}' as {} and as {} is not supported by the emulator",
                        t.name(),
                        ty.name()
                    ),
                        pos,
                    ))
                }
            }
        }
    }
    let mut rows = Vec::new();
    for p in parts {
        let index: Vec<Option<usize>> = schema
            .iter()
            .map(|(n, _)| p.schema.iter().position(|(c, _)| c == n))
            .collect();
        for r in p.rows {
            rows.push(
                index
                    .iter()
                    .map(|i| i.map_or(Value::Null, |i| r[i].clone()))
                    .collect(),
            );
        }
    }
    Ok(Rows { schema, rows })
}
