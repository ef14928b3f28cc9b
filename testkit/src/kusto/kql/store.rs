//! [`ColumnStore`]: a table's rows decoded once, when they are ingested, into typed columns
//! (datetimes and timespans as ticks, strings dictionary-encoded, numbers unboxed), so that
//! queries read cells without parsing wire-form JSON again. The emulator keeps one beside
//! each table's wire-form rows ([`DataTable`]) and hands it to the engine through
//! [`Catalog::store`](super::Catalog::store); the engine uses it only while it holds exactly
//! the table's rows ([`ColumnStore::in_sync`]), and otherwise decodes the wire rows as before.

use super::table::{Column, DataTable};
use super::value::{from_wire, is_guid, Type, Value};
use serde_json::Value as Json;

mod dict;
pub mod hash;

pub use dict::{Dict, NULL_ID};

/// The cells of one column.
#[derive(Debug, Clone)]
pub enum Cells {
    /// bool (0/1), int, long, datetime and timespan (ticks of 100 ns).
    Int(Vec<Option<i64>>),
    /// real.
    Real(Vec<Option<f64>>),
    /// string, guid and decimal: ids into the column's dictionary ([`NULL_ID`] for null).
    Text(Vec<u32>, Dict),
    /// dynamic, as its JSON.
    Dynamic(Vec<Json>),
}

/// A value's identity for grouping within one column: equal keys are equal values under
/// `summarize`'s rules (every NaN alike, 0 and -0 alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key(pub u8, pub u64);

/// The key of null.
pub const NULL_KEY: Key = Key(0, 0);

/// The key of a real: NaNs and zeros folded together.
pub fn real_key(f: f64) -> Key {
    if f.is_nan() {
        Key(2, 0x7ff8_0000_0000_0000)
    } else if f == 0.0 {
        Key(2, 0)
    } else {
        Key(2, f.to_bits())
    }
}

/// A table's rows as typed columns (see the module documentation).
#[derive(Debug, Clone, Default)]
pub struct ColumnStore {
    /// The table's columns as they were when the store was built.
    source: Vec<Column>,
    schema: Vec<(String, Type)>,
    cells: Vec<Cells>,
    rows: usize,
    /// A stored value does not decode, or a column type is unknown: the engine then reads the
    /// wire rows, which reports the value.
    broken: bool,
}

impl ColumnStore {
    /// An empty store for `columns`.
    pub fn new(columns: &[Column]) -> ColumnStore {
        let mut store = ColumnStore {
            source: columns.to_vec(),
            ..Default::default()
        };
        for c in columns {
            let Some(ty) = Type::from_kind(&c.kind) else {
                store.broken = true;
                continue;
            };
            store.cells.push(match ty {
                Type::Real => Cells::Real(Vec::new()),
                Type::String | Type::Guid | Type::Decimal => {
                    Cells::Text(Vec::new(), Dict::default())
                }
                Type::Dynamic => Cells::Dynamic(Vec::new()),
                _ => Cells::Int(Vec::new()),
            });
            store.schema.push((c.name.clone(), ty));
        }
        store
    }

    /// Brings the store up to `table`: appends the rows added since (the cheap, usual case),
    /// or starts again when columns changed or rows went away.
    pub fn sync(&mut self, table: &DataTable) {
        if self.source != table.columns || self.rows > table.rows.len() {
            *self = ColumnStore::new(&table.columns);
        }
        if !self.broken && self.rows < table.rows.len() {
            self.append(&table.rows[self.rows..]);
        }
    }

    /// Whether the store holds exactly `table`'s rows, so that the engine may read it instead.
    pub fn in_sync(&self, table: &DataTable) -> bool {
        !self.broken && self.rows == table.rows.len() && self.source == table.columns
    }

    /// Decodes and appends wire-form rows.
    fn append(&mut self, rows: &[Vec<Json>]) {
        for (c, ((_, ty), cells)) in self.schema.iter().zip(&mut self.cells).enumerate() {
            let cells_of = rows.iter().map(|r| r.get(c).unwrap_or(&Json::Null));
            if !append_column(cells, *ty, cells_of) {
                self.broken = true;
                return;
            }
        }
        self.rows += rows.len();
    }

    /// The columns' names and types.
    pub fn schema(&self) -> &[(String, Type)] {
        &self.schema
    }

    /// How many rows the store holds.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether the store holds no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The cells of column `col`.
    pub fn cells(&self, col: usize) -> Option<&Cells> {
        self.cells.get(col)
    }

    /// The value in row `row` of column `col`, as the engine evaluates it.
    pub fn value(&self, col: usize, row: usize) -> Value {
        let ty = self.schema.get(col).map_or(Type::Dynamic, |s| s.1);
        match self.cells.get(col) {
            Some(Cells::Int(v)) => match v.get(row).copied().flatten() {
                None => Value::Null,
                Some(i) => match ty {
                    Type::Bool => Value::Bool(i != 0),
                    Type::DateTime => Value::DateTime(i),
                    Type::TimeSpan => Value::TimeSpan(i),
                    _ => Value::Long(i),
                },
            },
            Some(Cells::Real(v)) => v
                .get(row)
                .copied()
                .flatten()
                .map_or(Value::Null, Value::Real),
            Some(Cells::Text(ids, dict)) => match ids.get(row).and_then(|&id| dict.get(id)) {
                None => Value::Null,
                Some(s) => match ty {
                    Type::Guid => Value::Guid(s.to_string()),
                    Type::Decimal => Value::Decimal(s.to_string()),
                    _ => Value::Str(s.to_string()),
                },
            },
            Some(Cells::Dynamic(v)) => match v.get(row) {
                None | Some(Json::Null) => Value::Null,
                Some(j) => Value::Dynamic(j.clone()),
            },
            None => Value::Null,
        }
    }

    /// The grouping key of row `row` of column `col` (see [`Key`]).
    pub fn key(&self, col: usize, row: usize) -> Key {
        match self.cells.get(col) {
            Some(Cells::Int(v)) => v
                .get(row)
                .copied()
                .flatten()
                .map_or(NULL_KEY, |i| Key(1, i as u64)),
            Some(Cells::Real(v)) => v.get(row).copied().flatten().map_or(NULL_KEY, real_key),
            Some(Cells::Text(ids, _)) => match ids.get(row) {
                Some(&id) if id != NULL_ID => Key(3, u64::from(id)),
                _ => NULL_KEY,
            },
            // Grouping by dynamic values is refused before any key is asked for.
            Some(Cells::Dynamic(_)) | None => NULL_KEY,
        }
    }

    /// Row `row` with every column.
    pub fn row(&self, row: usize) -> Vec<Value> {
        (0..self.schema.len()).map(|c| self.value(c, row)).collect()
    }

    /// Writes the values of columns `cols` of row `row` into `buf` (indexed by column).
    pub fn fill(&self, row: usize, cols: &[usize], buf: &mut [Value]) {
        for &c in cols {
            if let Some(slot) = buf.get_mut(c) {
                *slot = self.value(c, row);
            }
        }
    }
}

/// Appends one column's wire cells; false when one does not decode as `ty`.
fn append_column<'a>(cells: &mut Cells, ty: Type, wire: impl Iterator<Item = &'a Json>) -> bool {
    match cells {
        Cells::Text(ids, dict) => append_text(ids, dict, ty, wire),
        Cells::Int(out) => {
            for w in wire {
                out.push(match from_wire(w, ty) {
                    Some(Value::Null) => None,
                    Some(Value::Bool(b)) => Some(i64::from(b)),
                    Some(Value::Long(i) | Value::DateTime(i) | Value::TimeSpan(i)) => Some(i),
                    _ => return false,
                });
            }
            true
        }
        Cells::Real(out) => {
            for w in wire {
                out.push(match from_wire(w, ty) {
                    Some(Value::Null) => None,
                    Some(Value::Real(f)) => Some(f),
                    _ => return false,
                });
            }
            true
        }
        Cells::Dynamic(out) => {
            out.extend(wire.cloned());
            true
        }
    }
}

/// Appends text cells, interning each string (a run of equal strings is looked up once).
fn append_text<'a>(
    ids: &mut Vec<u32>,
    dict: &mut Dict,
    ty: Type,
    wire: impl Iterator<Item = &'a Json>,
) -> bool {
    let mut last: Option<(&'a str, u32)> = None;
    for w in wire {
        let id = match (w, ty) {
            (Json::Null, Type::String) => dict.intern(""),
            (Json::Null, _) => Some(NULL_ID),
            (Json::String(s), Type::String) => match last {
                Some((prev, id)) if prev == s.as_str() => Some(id),
                _ => {
                    let id = dict.intern(s);
                    if let Some(id) = id {
                        last = Some((s.as_str(), id));
                    }
                    id
                }
            },
            (Json::String(s), Type::Guid) if is_guid(s) => dict.intern(&s.to_ascii_lowercase()),
            (_, Type::Decimal) => match from_wire(w, ty) {
                Some(Value::Decimal(d)) => dict.intern(&d),
                _ => None,
            },
            _ => None,
        };
        match id {
            Some(id) => ids.push(id),
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(rows: Vec<Vec<Json>>) -> DataTable {
        let col = |n: &str, k: &str| Column {
            name: n.into(),
            kind: k.into(),
        };
        DataTable {
            name: "T".into(),
            columns: vec![
                col("s", "string"),
                col("t", "datetime"),
                col("r", "real"),
                col("g", "guid"),
                col("d", "dynamic"),
                col("b", "bool"),
            ],
            rows,
        }
    }

    #[test]
    fn values_decode_as_from_wire_does() {
        let rows = vec![
            vec![
                json!("a"),
                json!("2026-01-01T00:00:00Z"),
                json!(1.5),
                json!("0F8FAD5B-D9CB-469F-A165-70867728950E"),
                json!({"x": 1}),
                json!(true),
            ],
            vec![Json::Null; 6],
        ];
        let t = table(rows.clone());
        let mut store = ColumnStore::new(&t.columns);
        store.sync(&t);
        assert!(store.in_sync(&t));
        for (r, row) in rows.iter().enumerate() {
            for (c, (_, ty)) in store.schema().to_vec().iter().enumerate() {
                assert_eq!(store.value(c, r), from_wire(&row[c], *ty).unwrap());
            }
        }
        assert_eq!(store.key(0, 0), store.key(0, 0));
        assert_ne!(store.key(0, 0), store.key(0, 1));
        assert_eq!(store.key(3, 1), NULL_KEY);
    }

    #[test]
    fn appended_rows_are_caught_up_and_bad_ones_break_the_store() {
        let mut t = table(vec![]);
        let mut store = ColumnStore::new(&t.columns);
        t.rows.push(vec![json!("a"); 1]);
        assert!(!store.in_sync(&t));
        store.sync(&t);
        assert!(store.in_sync(&t));
        t.rows.push(vec![json!("b"), json!("not a date")]);
        store.sync(&t);
        assert!(!store.in_sync(&t));
        t.rows.clear();
        store.sync(&t);
        assert!(store.in_sync(&t));
    }
}
