//! `evaluate bag_unpack(...)`: each top-level slot of a dynamic column's property bags becomes
//! a column, as the plugin's reference documents: the unpacked column is removed, the new
//! columns follow the others in slot-name order, named with the optional prefix, typed by the
//! slot's values when they all share one type (long, real, string, bool) and dynamic when they
//! differ or are arrays or bags. A slot named like an existing column is an error unless
//! `columnsConflict` is `replace_source` or `keep_source`; `ignoredProperties` drops slots;
//! an output schema (`: (*, Name:type)`) fixes the columns and converts the values.

use super::super::ast::{Expr, ExprKind};
use super::super::compile::Schema;
use super::super::error::KqlError;
use super::super::rows::Rows;
use super::super::value::{from_wire, Type, Value};
use super::inline::constant;
use super::shared::err;
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// What the plugin's optional arguments ask for.
struct Options {
    prefix: String,
    conflict: Conflict,
    ignored: Vec<String>,
}

/// `columnsConflict`.
#[derive(Clone, Copy, PartialEq)]
enum Conflict {
    Error,
    ReplaceSource,
    KeepSource,
}

fn options(args: &[(Option<String>, Expr)], now: i64, pos: usize) -> Result<Options, KqlError> {
    let mut o = Options {
        prefix: String::new(),
        conflict: Conflict::Error,
        ignored: Vec::new(),
    };
    const NAMES: [&str; 3] = ["outputcolumnprefix", "columnsconflict", "ignoredproperties"];
    for (i, (name, e)) in args.iter().enumerate() {
        let slot = match name {
            Some(n) => NAMES
                .iter()
                .position(|k| k.eq_ignore_ascii_case(n))
                .ok_or_else(|| err(format!("bag_unpack has no argument named '{n}'"), e.pos))?,
            None if i < NAMES.len() => i,
            None => return Err(err("bag_unpack takes at most 4 arguments", e.pos)),
        };
        let (v, _) = constant(e, now)?;
        match (slot, v) {
            (0, Value::Str(s)) => o.prefix = s,
            (1, Value::Str(s)) => {
                o.conflict = match s.as_str() {
                    "error" => Conflict::Error,
                    "replace_source" => Conflict::ReplaceSource,
                    "keep_source" => Conflict::KeepSource,
                    other => return Err(err(format!("bag_unpack: columnsConflict must be 'error', 'replace_source' or 'keep_source', not '{other}'"), e.pos)),
                }
            }
            (2, Value::Dynamic(Json::Array(a))) => {
                o.ignored = a
                    .iter()
                    .map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string()))
                    .collect()
            }
            (2, Value::Null) => {}
            (k, _) => {
                return Err(err(
                    format!(
                        "bag_unpack: the argument '{}' has the wrong type (a string{})",
                        NAMES[k],
                        if k == 2 { " array, dynamic([...])" } else { "" }
                    ),
                    pos.max(e.pos),
                ))
            }
        }
    }
    Ok(o)
}

/// The Kusto type a JSON slot value has on its own (None for null).
fn slot_type(v: &Json) -> Option<Type> {
    Some(match v {
        Json::Null => return None,
        Json::Bool(_) => Type::Bool,
        Json::Number(n) if n.is_i64() || n.is_u64() => Type::Long,
        Json::Number(_) => Type::Real,
        Json::String(_) => Type::String,
        Json::Array(_) | Json::Object(_) => Type::Dynamic,
    })
}

/// Unpacks the dynamic column `column` of `data`.
pub(super) fn bag_unpack(
    data: Rows,
    column: &Expr,
    args: &[(Option<String>, Expr)],
    declared: Option<&(bool, Vec<(String, String)>)>,
    now: i64,
    pos: usize,
) -> Result<Rows, KqlError> {
    let ExprKind::Name(name) = &column.kind else {
        return Err(err(
            "bag_unpack's first argument must be a column",
            column.pos,
        ));
    };
    let source = data
        .schema
        .iter()
        .position(|(n, _)| n == name)
        .ok_or_else(|| {
            err(
                format!("Failed to resolve column named '{name}'"),
                column.pos,
            )
        })?;
    if data.schema[source].1 != Type::Dynamic {
        return Err(err(
            format!(
                "bag_unpack: the column '{name}' must be of type dynamic, not '{}'",
                data.schema[source].1.name()
            ),
            column.pos,
        ));
    }
    let o = options(args, now, pos)?;
    let bags: Vec<Map<String, Json>> = data
        .rows
        .iter()
        .map(|r| match &r[source] {
            Value::Dynamic(Json::Object(m)) => m.clone(),
            _ => Map::new(),
        })
        .collect();
    let (keep, slots) = match declared {
        Some((star, cols)) => declared_columns(&data.schema, source, *star, cols, &o, pos)?,
        None => inferred_columns(&data.schema, source, &bags, &o, pos)?,
    };
    let mut schema: Schema = keep.iter().map(|&i| data.schema[i].clone()).collect();
    schema.extend(slots.iter().map(|(_, column, ty)| (column.clone(), *ty)));
    let rows = data
        .rows
        .into_iter()
        .zip(bags)
        .map(|(row, bag)| {
            let mut out: Vec<Value> = keep.iter().map(|&i| row[i].clone()).collect();
            out.extend(slots.iter().map(|(slot, _, ty)| cell(bag.get(slot), *ty)));
            out
        })
        .collect();
    Ok(Rows { schema, rows })
}

/// One unpacked value as a column of type `ty` (null when missing or not convertible).
fn cell(v: Option<&Json>, ty: Type) -> Value {
    match (v, ty) {
        (None | Some(Json::Null), Type::String) => Value::Str(String::new()),
        (None | Some(Json::Null), _) => Value::Null,
        (Some(j), Type::Dynamic) => Value::Dynamic(j.clone()),
        (Some(j), ty) => from_wire(j, ty).unwrap_or(Value::Null),
    }
}

/// A slot: (slot name in the bag, output column name, type).
type Slot = (String, String, Type);

/// The kept input columns and the slots, from the values.
fn inferred_columns(
    schema: &Schema,
    source: usize,
    bags: &[Map<String, Json>],
    o: &Options,
    pos: usize,
) -> Result<(Vec<usize>, Vec<Slot>), KqlError> {
    let mut types: BTreeMap<String, Option<Type>> = BTreeMap::new();
    for bag in bags {
        for (k, v) in bag {
            if o.ignored.contains(k) {
                continue;
            }
            let seen = types.entry(k.clone()).or_insert(None);
            *seen = match (*seen, slot_type(v)) {
                (None, t) | (t, None) => t,
                (Some(a), Some(b)) if a == b => Some(a),
                _ => Some(Type::Dynamic),
            };
        }
    }
    let mut keep: Vec<usize> = (0..schema.len()).filter(|&i| i != source).collect();
    let mut slots = Vec::new();
    for (slot, ty) in types {
        let column = format!("{}{slot}", o.prefix);
        if let Some(i) = keep.iter().position(|&k| schema[k].0 == column) {
            match o.conflict {
                Conflict::Error => return Err(err(format!("bag_unpack: the slot '{slot}' makes a column '{column}' the input already has (columnsConflict='replace_source' or 'keep_source' decides)"), pos)),
                Conflict::KeepSource => continue,
                Conflict::ReplaceSource => {
                    keep.remove(i);
                }
            }
        }
        slots.push((slot, column, ty.unwrap_or(Type::Dynamic)));
    }
    Ok((keep, slots))
}

/// The kept input columns and the slots, from the output schema the query declares.
fn declared_columns(
    schema: &Schema,
    source: usize,
    star: bool,
    cols: &[(String, String)],
    o: &Options,
    pos: usize,
) -> Result<(Vec<usize>, Vec<Slot>), KqlError> {
    let mut keep: Vec<usize> = if star {
        (0..schema.len()).filter(|&i| i != source).collect()
    } else {
        Vec::new()
    };
    let mut slots = Vec::new();
    for (column, kind) in cols {
        let ty = Type::from_kind(kind)
            .ok_or_else(|| err(format!("'{kind}' is not a type the emulator supports"), pos))?;
        if let Some(i) = keep.iter().position(|&k| schema[k].0 == *column) {
            keep.remove(i);
        }
        let slot = column.strip_prefix(&o.prefix).unwrap_or(column).to_string();
        slots.push((slot, column.clone(), ty));
    }
    Ok((keep, slots))
}
