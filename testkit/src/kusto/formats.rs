//! Turning ingested bytes into typed rows: gzip sniffing, the supported formats (CSV and its
//! delimiter variants, JSON, MultiJSON), applying a JSON mapping, and typing each value per
//! the table's schema (a value that does not fit is an error naming the column).

use super::mapping::{self, MappingColumn, Source};
use super::records;
use super::state::Table;
use super::values;
use serde_json::Value;
use std::io::Read;

/// The data formats the emulator ingests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma (or other single character) separated values.
    Delimited(u8),
    /// JSON records, one per line (concatenated records accepted too).
    Json,
    /// JSON records concatenated or in arrays.
    MultiJson,
}

impl Format {
    /// Parses a `streamFormat` / `format` value, case-insensitively.
    pub fn parse(name: &str) -> Result<Format, String> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "csv" => Format::Delimited(b','),
            "tsv" | "tsve" => Format::Delimited(b'\t'),
            "psv" => Format::Delimited(b'|'),
            "scsv" => Format::Delimited(b';'),
            "sohsv" => Format::Delimited(1),
            "json" | "singlejson" => Format::Json,
            "multijson" => Format::MultiJson,
            other => {
                return Err(format!(
                    "the data format '{other}' is not supported by the emulator"
                ))
            }
        })
    }

    /// Whether the format needs a mapping for streaming ingestion.
    pub fn is_json(self) -> bool {
        matches!(self, Format::Json | Format::MultiJson)
    }
}

/// Why data could not be decoded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DecodeError {
    /// Decompressed data exceeds the limit.
    #[error("the input stream exceeds {0} bytes after decompression")]
    TooLarge(usize),
    /// The gzip stream is corrupt.
    #[error("the gzip stream is corrupt: {0}")]
    Gzip(String),
    /// The data does not parse or does not fit the table.
    #[error("{0}")]
    Data(String),
}

/// Gunzips `data` when it starts with the gzip magic (whatever the headers say), refusing
/// output beyond `limit` bytes.
pub fn maybe_gunzip(data: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    if !data.starts_with(&[0x1f, 0x8b]) {
        return Ok(data.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Gzip(e.to_string()))?;
    if out.len() > limit {
        return Err(DecodeError::TooLarge(limit));
    }
    Ok(out)
}

/// Decodes `data` in `format` into rows for `table`, through `mapping` (JSON; without one,
/// record fields map to same-named columns).
pub fn to_rows(
    table: &Table,
    format: Format,
    mapping: Option<&[MappingColumn]>,
    data: &[u8],
    location: &str,
) -> Result<Vec<Vec<Value>>, DecodeError> {
    match format {
        Format::Delimited(sep) => delimited_rows(table, sep, data),
        Format::Json | Format::MultiJson => {
            let identity: Vec<MappingColumn>;
            let mapping = match mapping {
                Some(m) => m,
                None => {
                    identity = table
                        .data
                        .columns
                        .iter()
                        .map(|c| MappingColumn {
                            column: c.name.clone(),
                            path: mapping::JsonPath::parse(&format!("$['{}']", c.name)).ok(),
                            datatype: None,
                            transform: None,
                            const_value: None,
                        })
                        .collect();
                    &identity
                }
            };
            let columns = mapped_columns(table, mapping)?;
            let kinds: Vec<&str> = table.data.columns.iter().map(|c| c.kind.as_str()).collect();
            if let Some(rows) = records::direct_rows(mapping, &columns, &kinds, data) {
                return Ok(rows);
            }
            let records = json_records(data)?;
            let movable = movable_columns(mapping);
            records
                .into_iter()
                .enumerate()
                .map(|(i, mut record)| {
                    let source = Source {
                        location: location.into(),
                        line: i + 1,
                    };
                    map_record(table, mapping, &columns, &movable, &mut record, &source)
                })
                .collect()
        }
    }
}

/// Which mapping columns may move their value out of the record: those with a plain path
/// that no other column's path leads into or out of.
fn movable_columns(mapping: &[MappingColumn]) -> Vec<bool> {
    mapping
        .iter()
        .enumerate()
        .map(|(i, m)| match (&m.path, m.transform, &m.const_value) {
            (Some(p), None, None) => mapping
                .iter()
                .enumerate()
                .all(|(j, other)| i == j || other.path.as_ref().is_none_or(|q| !p.overlaps(q))),
            _ => false,
        })
        .collect()
}

/// The table column each mapping column fills, looked up once per request.
fn mapped_columns(table: &Table, mapping: &[MappingColumn]) -> Result<Vec<usize>, DecodeError> {
    mapping
        .iter()
        .map(|m| {
            table
                .data
                .columns
                .iter()
                .position(|c| c.name == m.column)
                .ok_or_else(|| {
                    DecodeError::Data(format!(
                        "the mapping refers to column '{}', which table '{}' does not have",
                        m.column, table.data.name
                    ))
                })
        })
        .collect()
}

fn json_records(data: &[u8]) -> Result<Vec<Value>, DecodeError> {
    let mut records = Vec::new();
    for value in serde_json::Deserializer::from_slice(data).into_iter::<Value>() {
        match value.map_err(|e| DecodeError::Data(format!("invalid JSON in the input: {e}")))? {
            Value::Array(items) => records.extend(items),
            other => records.push(other),
        }
    }
    Ok(records)
}

fn map_record(
    table: &Table,
    mapping: &[MappingColumn],
    columns: &[usize],
    movable: &[bool],
    record: &mut Value,
    source: &Source,
) -> Result<Vec<Value>, DecodeError> {
    let mut row = vec![Value::Null; table.data.columns.len()];
    for ((m, &index), &movable) in mapping.iter().zip(columns).zip(movable) {
        let raw = mapping::extract_owned(m, record, source, movable).map_err(DecodeError::Data)?;
        let kind = &table.data.columns[index].kind;
        row[index] = values::from_json_owned(raw, kind).map_err(|e| {
            DecodeError::Data(format!(
                "record {}: column '{}': {e}",
                source.line, m.column
            ))
        })?;
    }
    Ok(row)
}

fn delimited_rows(table: &Table, sep: u8, data: &[u8]) -> Result<Vec<Vec<Value>>, DecodeError> {
    let text = std::str::from_utf8(data)
        .map_err(|_| DecodeError::Data("the input is not UTF-8".into()))?;
    let columns = &table.data.columns;
    split_delimited(text, sep as char)?
        .into_iter()
        .enumerate()
        .map(|(line, fields)| {
            if fields.len() > columns.len() {
                return Err(DecodeError::Data(format!(
                    "record {}: {} fields, table '{}' has {} columns",
                    line + 1,
                    fields.len(),
                    table.data.name,
                    columns.len()
                )));
            }
            columns
                .iter()
                .enumerate()
                .map(|(i, c)| match fields.get(i) {
                    None => Ok(Value::Null),
                    Some(f) => values::from_text(f, &c.kind).map_err(|e| {
                        DecodeError::Data(format!("record {}: column '{}': {e}", line + 1, c.name))
                    }),
                })
                .collect()
        })
        .collect()
}

/// Splits delimited text into records of fields (RFC 4180 quoting; blank lines skipped).
fn split_delimited(text: &str, sep: char) -> Result<Vec<Vec<String>>, DecodeError> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut any = false;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                quoted = true;
                any = true;
            }
            c if c == sep => {
                fields.push(std::mem::take(&mut field));
                any = true;
            }
            '\r' => {}
            '\n' => {
                if any || !field.is_empty() {
                    fields.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut fields));
                }
                any = false;
            }
            c => {
                field.push(c);
                any = true;
            }
        }
    }
    if quoted {
        return Err(DecodeError::Data("unterminated quoted field".into()));
    }
    if any || !field.is_empty() {
        fields.push(field);
        records.push(fields);
    }
    Ok(records)
}

/// The general path's records, for tests that compare it with [`records::direct_rows`].
#[cfg(test)]
pub(super) fn json_records_for_tests(data: &[u8]) -> Vec<Value> {
    json_records(data).unwrap()
}

/// The general path's rows for `records` (table columns of types `kinds`), for tests.
#[cfg(test)]
pub(super) fn map_records_for_tests(
    mapping: &[MappingColumn],
    columns: &[usize],
    kinds: &[&str],
    records: Vec<Value>,
) -> Vec<Vec<Value>> {
    let specs: Vec<(String, String)> = kinds
        .iter()
        .enumerate()
        .map(|(i, k)| (format!("c{i}"), k.to_string()))
        .collect();
    let table = Table::new("T", &specs);
    let movable = movable_columns(mapping);
    records
        .into_iter()
        .enumerate()
        .map(|(i, mut r)| {
            let source = Source {
                location: "s".into(),
                line: i + 1,
            };
            map_record(&table, mapping, columns, &movable, &mut r, &source).unwrap()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_splits_with_quotes() {
        let r = split_delimited("a,\"b,c\",\"d\"\"e\"\r\n\n1,,3", ',').unwrap();
        assert_eq!(r, vec![vec!["a", "b,c", "d\"e"], vec!["1", "", "3"]]);
    }

    #[test]
    fn gzip_is_sniffed() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"hello").unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(maybe_gunzip(&gz, 100).unwrap(), b"hello");
        assert_eq!(maybe_gunzip(b"plain", 100).unwrap(), b"plain");
        assert!(matches!(
            maybe_gunzip(&gz, 3),
            Err(DecodeError::TooLarge(3))
        ));
    }

    #[test]
    fn rows_are_typed() {
        let table = Table::new(
            "T",
            &[("a".into(), "long".into()), ("b".into(), "string".into())],
        );
        let rows = to_rows(
            &table,
            Format::MultiJson,
            None,
            br#"[{"a":1,"b":"x"}] {"a":"2"}"#,
            "s",
        )
        .unwrap();
        assert_eq!(
            rows,
            vec![vec![json!(1), json!("x")], vec![json!(2), Value::Null]]
        );
        assert!(to_rows(&table, Format::Json, None, br#"{"a":"x"}"#, "s").is_err());
        let rows = to_rows(&table, Format::Delimited(b','), None, b"5,hi\n", "s").unwrap();
        assert_eq!(rows, vec![vec![json!(5), json!("hi")]]);
    }
}
