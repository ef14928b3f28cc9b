//! The fast way from multijson to rows, for the common mapping: every column takes a
//! top-level field of the record as it is (`$.Device`), or a constant. Each record is read
//! straight into its row: the fields a column wants are parsed into values, the others are
//! skipped, and no map of the whole record is built (building that map was the largest cost of
//! streaming ingestion in profiles of the emulator). Anything else (nested paths, transforms,
//! arrays of records, a record spread over several lines) returns `None`, and the caller takes
//! the general path in `formats.rs`, which also words every error.

use super::mapping::MappingColumn;
use super::values;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use std::fmt;

/// Rows for `data` (one JSON object per line) through `mapping`, whose columns fill the table
/// columns `columns` (same order) of types `kinds` (per table column); `None` when this path
/// does not apply or a line is not a complete object, so the general path decides.
pub fn direct_rows(
    mapping: &[MappingColumn],
    columns: &[usize],
    kinds: &[&str],
    data: &[u8],
) -> Option<Vec<Vec<Value>>> {
    let fields = fields(mapping, columns)?;
    let mut rows = Vec::new();
    for line in data.split(|&b| b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let mut row = vec![Value::Null; kinds.len()];
        for (m, &index) in mapping.iter().zip(columns) {
            if let Some(c) = &m.const_value {
                row[index] = Value::String(c.clone());
            }
        }
        let mut de = serde_json::Deserializer::from_slice(line);
        RowSeed {
            fields: &fields,
            row: &mut row,
        }
        .deserialize(&mut de)
        .ok()?;
        de.end().ok()?;
        for (cell, kind) in row.iter_mut().zip(kinds) {
            *cell = values::from_json_owned(std::mem::take(cell), kind).ok()?;
        }
        rows.push(row);
    }
    Some(rows)
}

/// For each record field a column reads: its name and the table column it fills. `None` when
/// a column needs more than a top-level field, or two columns read the same field.
fn fields<'m>(mapping: &'m [MappingColumn], columns: &[usize]) -> Option<Vec<(&'m str, usize)>> {
    let mut fields: Vec<(&str, usize)> = Vec::with_capacity(mapping.len());
    for (m, &index) in mapping.iter().zip(columns) {
        if m.const_value.is_some() {
            continue;
        }
        if m.transform.is_some() {
            return None;
        }
        let name = m.path.as_ref()?.top_member()?;
        if fields.iter().any(|(n, _)| *n == name) {
            return None;
        }
        fields.push((name, index));
    }
    Some(fields)
}

/// Reads one record's fields into `row`.
struct RowSeed<'a, 'm> {
    fields: &'a [(&'m str, usize)],
    row: &'a mut [Value],
}

impl<'de> DeserializeSeed<'de> for RowSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(found) = map.next_key_seed(KeySeed(self.fields))? {
            match found {
                // A repeated key keeps its last value, as a parsed object would.
                Some(index) => self.row[index] = map.next_value::<Value>()?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Reads a key and looks it up among the wanted fields, without copying it: the table
/// column it fills, or `None` for a field no column reads.
struct KeySeed<'a, 'm>(&'a [(&'m str, usize)]);

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_, '_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self
            .0
            .iter()
            .find(|(name, _)| *name == key)
            .map(|&(_, i)| i))
    }
}

#[cfg(test)]
mod tests {
    use super::super::formats::{json_records_for_tests, map_records_for_tests};
    use super::super::mapping::parse_mapping;
    use super::direct_rows;

    const KINDS: [&str; 5] = ["datetime", "string", "long", "dynamic", "string"];

    fn mapping(text: &str) -> Vec<super::MappingColumn> {
        parse_mapping(text).unwrap()
    }

    #[test]
    fn reads_what_the_general_path_reads() {
        let m = mapping(
            r#"[{"column":"T","path":"$.t"},{"column":"D","path":"$['d']"},{"column":"N","path":"$.n"},
                {"column":"V","path":"$.v"},{"column":"C","Properties":{"ConstValue":"k"}}]"#,
        );
        let columns = [0, 1, 2, 3, 4];
        let data = concat!(
            r#"{"t":"2026-12-04T01:02:03.5Z","d":"dev-1","n":7,"v":{"x":[1,"é"]},"skip":{"deep":[1,2]}}"#,
            "\n\n",
            r#"{"d":"d\"q","n":"8","v":1.25,"d":"last","t":null}"#,
            "\n",
            r#"  {"v":"text","esc\u0061pe":1}  "#,
            "\n"
        );
        let direct = direct_rows(&m, &columns, &KINDS, data.as_bytes()).expect("direct path");
        let records = json_records_for_tests(data.as_bytes());
        let general = map_records_for_tests(&m, &columns, &KINDS, records);
        assert_eq!(direct, general);
        assert_eq!(direct.len(), 3);
        assert_eq!(direct[1][1], "last");
    }

    #[test]
    fn leaves_other_shapes_to_the_general_path() {
        let plain = mapping(r#"[{"column":"D","path":"$.d"}]"#);
        let nested = mapping(r#"[{"column":"D","path":"$.a.d"}]"#);
        let twice = mapping(r#"[{"column":"D","path":"$.d"},{"column":"E","path":"$.d"}]"#);
        let kinds = ["string", "string"];
        assert!(direct_rows(&nested, &[0], &kinds, b"{\"a\":{\"d\":1}}").is_none());
        assert!(direct_rows(&twice, &[0, 1], &kinds, b"{\"d\":1}").is_none());
        // An array of records, a record over two lines, two on one line, a bad value.
        for data in [
            &b"[{\"d\":\"x\"}]"[..],
            b"{\"d\":\n\"x\"}",
            b"{\"d\":\"x\"} {\"d\":\"y\"}",
            b"{\"d\":",
        ] {
            assert!(direct_rows(&plain, &[0], &kinds, data).is_none());
        }
        assert!(direct_rows(&plain, &[0], &["long"], b"{\"d\":\"x\"}").is_none());
    }
}
