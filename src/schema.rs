//! Table schemas: the Kusto column types a destination writes, parsed from the same
//! `Name:type, Name:type` text that `.show table T cslschema` prints and `.create table` takes.
//!
//! Kept apart from the transform and sink stages because both need it: the transform stage
//! coerces values to these types, and the sink provisions tables from them.

use std::fmt;

/// A Kusto scalar type, as a column can hold it.
///
/// Only the ten types Data Explorer documents exist here; aliases (`boolean`, `int64`,
/// `double`, `date`, `time`, `uniqueid`, ...) are accepted when parsing and normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KustoType {
    /// `bool`: `true` / `false`.
    Bool,
    /// `int`: 32-bit signed integer.
    Int,
    /// `long`: 64-bit signed integer.
    Long,
    /// `real`: 64-bit IEEE float, with `NaN` and infinities written as strings.
    Real,
    /// `decimal`: 128-bit decimal, written as a string to keep its digits.
    Decimal,
    /// `string`: UTF-8 text.
    String,
    /// `datetime`: a UTC instant, written as ISO 8601 with 7 fractional digits.
    DateTime,
    /// `timespan`: a duration, written as `[-][d.]hh:mm:ss[.fffffff]`.
    TimeSpan,
    /// `guid`: a UUID, written in its canonical lowercase form.
    Guid,
    /// `dynamic`: any JSON value.
    Dynamic,
}

impl KustoType {
    /// Every type, in the order the documentation lists them (used in error messages).
    pub const ALL: [KustoType; 10] = [
        KustoType::Bool,
        KustoType::Int,
        KustoType::Long,
        KustoType::Real,
        KustoType::Decimal,
        KustoType::String,
        KustoType::DateTime,
        KustoType::TimeSpan,
        KustoType::Guid,
        KustoType::Dynamic,
    ];

    /// The canonical Kusto name, as `.show table T cslschema` prints it.
    pub fn name(self) -> &'static str {
        match self {
            KustoType::Bool => "bool",
            KustoType::Int => "int",
            KustoType::Long => "long",
            KustoType::Real => "real",
            KustoType::Decimal => "decimal",
            KustoType::String => "string",
            KustoType::DateTime => "datetime",
            KustoType::TimeSpan => "timespan",
            KustoType::Guid => "guid",
            KustoType::Dynamic => "dynamic",
        }
    }

    /// Parses a type name or one of its documented aliases, case-insensitively.
    pub fn parse(name: &str) -> Option<KustoType> {
        let t = match name.to_ascii_lowercase().as_str() {
            "bool" | "boolean" => KustoType::Bool,
            "int" | "int32" => KustoType::Int,
            "long" | "int64" => KustoType::Long,
            "real" | "double" => KustoType::Real,
            "decimal" => KustoType::Decimal,
            "string" => KustoType::String,
            "datetime" | "date" => KustoType::DateTime,
            "timespan" | "time" => KustoType::TimeSpan,
            "guid" | "uuid" | "uniqueid" => KustoType::Guid,
            "dynamic" => KustoType::Dynamic,
            _ => return None,
        };
        Some(t)
    }
}

impl fmt::Display for KustoType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One column of a destination table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column name, exactly as in the table.
    pub name: String,
    /// Its Kusto type.
    pub kind: KustoType,
}

/// The ordered columns of a destination table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSchema {
    columns: Vec<Column>,
    /// Each column's name as a JSON object key, `"Name":`, derived from `columns` once so
    /// the row encoder does not escape names again for every row.
    json_keys: Vec<Box<[u8]>>,
}

/// Why a cslschema text could not be parsed; `position` is a 1-based character index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at character {position}: {message}")]
pub struct SchemaError {
    /// 1-based character position of the problem in the schema text.
    pub position: usize,
    /// What is wrong, and what was expected.
    pub message: String,
}

impl TableSchema {
    /// Builds a schema from columns; names must be unique (checked by [`TableSchema::parse`]).
    pub fn new(columns: Vec<Column>) -> Self {
        let json_keys = columns.iter().map(|c| json_key(&c.name)).collect();
        TableSchema { columns, json_keys }
    }

    /// Parses `Name:type, Other:type` (the cslschema form). Names may be bracket-quoted,
    /// `['Odd name']:string`, as in KQL. Whitespace and newlines between entries are ignored.
    pub fn parse(text: &str) -> Result<TableSchema, SchemaError> {
        let chars: Vec<char> = text.chars().collect();
        let mut p = SchemaParser {
            chars: &chars,
            pos: 0,
        };
        let mut columns: Vec<Column> = Vec::new();
        p.skip_ws();
        if p.at_end() {
            return Err(p.error("the schema is empty: expected `Name:type, ...`"));
        }
        loop {
            p.skip_ws();
            let name_at = p.pos + 1;
            let name = p.name()?;
            p.skip_ws();
            p.expect(':', "expected ':' between a column name and its type")?;
            p.skip_ws();
            let type_at = p.pos + 1;
            let type_name = p.word();
            let kind = KustoType::parse(&type_name).ok_or_else(|| SchemaError {
                position: type_at,
                message: format!(
                    "unknown type '{type_name}' for column '{name}': expected one of {}",
                    KustoType::ALL.map(|t| t.name()).join(", ")
                ),
            })?;
            if columns.iter().any(|c| c.name == name) {
                return Err(SchemaError {
                    position: name_at,
                    message: format!("column '{name}' appears twice"),
                });
            }
            columns.push(Column { name, kind });
            p.skip_ws();
            if p.at_end() {
                break;
            }
            p.expect(',', "expected ',' before the next column")?;
            p.skip_ws();
            if p.at_end() {
                break; // a trailing comma is harmless
            }
        }
        Ok(TableSchema::new(columns))
    }

    /// The columns in table order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Each column's name encoded as a JSON object key followed by its colon (`"Name":`), in
    /// column order: what every multijson row repeats, computed once per schema.
    pub fn json_keys(&self) -> &[Box<[u8]>] {
        &self.json_keys
    }

    /// The index of a column by exact name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The schema in cslschema form, quoting names that are not plain identifiers.
    pub fn to_csl(&self) -> String {
        self.columns
            .iter()
            .map(|c| format!("{}:{}", quote_name(&c.name), c.kind))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `name` as a JSON string followed by `:`.
fn json_key(name: &str) -> Box<[u8]> {
    let mut key = Vec::with_capacity(name.len() + 3);
    // Writing a string into a Vec cannot fail: there is no I/O.
    let _ = serde_json::to_writer(&mut key, name);
    key.push(b':');
    key.into_boxed_slice()
}

/// Quotes a column or table name for KQL when it is not a plain identifier.
pub fn quote_name(name: &str) -> String {
    let plain = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        name.to_string()
    } else {
        format!("['{}']", name.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// `text` as a single-quoted KQL string literal.
pub fn kql_string(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

struct SchemaParser<'a> {
    chars: &'a [char],
    pos: usize,
}

impl SchemaParser<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn error(&self, message: impl Into<String>) -> SchemaError {
        SchemaError {
            position: self.pos + 1,
            message: message.into(),
        }
    }

    fn expect(&mut self, c: char, message: &str) -> Result<(), SchemaError> {
        match self.peek() {
            Some(found) if found == c => {
                self.pos += 1;
                Ok(())
            }
            Some(found) => Err(self.error(format!("{message}, found '{found}'"))),
            None => Err(self.error(format!("{message}, found the end of the schema"))),
        }
    }

    fn word(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn name(&mut self) -> Result<String, SchemaError> {
        if self.peek() == Some('[') {
            self.pos += 1;
            self.skip_ws();
            let quote = match self.peek() {
                Some(q @ ('\'' | '"')) => q,
                _ => {
                    return Err(self.error("expected a quoted name after '[', as in ['My column']"))
                }
            };
            self.pos += 1;
            let mut name = String::new();
            loop {
                match self.peek() {
                    None => return Err(self.error("unterminated quoted column name")),
                    Some('\\') => {
                        self.pos += 1;
                        match self.peek() {
                            Some(c) => name.push(c),
                            None => return Err(self.error("unterminated quoted column name")),
                        }
                    }
                    Some(c) if c == quote => break,
                    Some(c) => name.push(c),
                }
                self.pos += 1;
            }
            self.pos += 1;
            self.skip_ws();
            self.expect(']', "expected ']' after a quoted column name")?;
            if name.is_empty() {
                return Err(self.error("a column name cannot be empty"));
            }
            Ok(name)
        } else {
            let name = self.word();
            if name.is_empty() {
                let found = self
                    .peek()
                    .map_or("the end of the schema".to_string(), |c| format!("'{c}'"));
                return Err(self.error(format!("expected a column name, found {found}")));
            }
            Ok(name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_smartvitalspatch_schema() {
        let s = TableSchema::parse(
            "EnqueuedTime:datetime, Message:string, Application:string, Device:string,\n Simulated:boolean, Value:dynamic",
        )
        .unwrap();
        assert_eq!(s.columns().len(), 6);
        assert_eq!(
            s.columns()[4],
            Column {
                name: "Simulated".into(),
                kind: KustoType::Bool
            }
        );
        assert_eq!(
            s.to_csl(),
            "EnqueuedTime:datetime, Message:string, Application:string, Device:string, Simulated:bool, Value:dynamic"
        );
    }

    #[test]
    fn quoted_names_round_trip() {
        let s = TableSchema::parse("['my col']:string, [\"x'y\"]:int,").unwrap();
        assert_eq!(s.columns()[0].name, "my col");
        assert_eq!(s.columns()[1].name, "x'y");
        assert_eq!(s.to_csl(), "['my col']:string, ['x\\'y']:int");
        assert_eq!(TableSchema::parse(&s.to_csl()).unwrap(), s);
    }

    #[test]
    fn json_keys_are_escaped_once() {
        let s = TableSchema::parse("A:string, ['say \"hi\"']:int").unwrap();
        let keys: Vec<&[u8]> = s.json_keys().iter().map(|k| &k[..]).collect();
        assert_eq!(keys, [&b"\"A\":"[..], &b"\"say \\\"hi\\\"\":"[..]]);
        assert_eq!(TableSchema::new(s.columns().to_vec()), s);
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = TableSchema::parse("A:string, B:strin").unwrap_err();
        assert_eq!(e.position, 13);
        assert!(
            e.message.contains("unknown type 'strin' for column 'B'"),
            "{e}"
        );
        let e = TableSchema::parse("A string").unwrap_err();
        assert!(e.message.contains("expected ':'"), "{e}");
        let e = TableSchema::parse("A:int, A:long").unwrap_err();
        assert!(e.message.contains("appears twice"), "{e}");
        assert!(TableSchema::parse("  ").is_err());
        assert!(TableSchema::parse("[ 'open:string").is_err());
    }
}
