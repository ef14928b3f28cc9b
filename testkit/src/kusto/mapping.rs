//! JSON ingestion mappings: which record field (a JSONPath subset: `$`, `$.a.b`, `$['x-y']`,
//! `$.a[0]`), constant or transform fills each column. Parsed from the text of
//! `.create-or-alter table T ingestion json mapping 'name' '<json>'`, in both the current
//! (`Properties`) and the legacy flat form.

use super::values;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// One column of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingColumn {
    /// The target column.
    pub column: String,
    /// Where in the record the value comes from (`None` with a constant or source transform).
    pub path: Option<JsonPath>,
    /// The declared datatype, if any (informational: the table's type decides).
    pub datatype: Option<String>,
    /// A transformation applied to the value.
    pub transform: Option<Transform>,
    /// A constant value instead of a path.
    pub const_value: Option<String>,
}

/// The transforms the emulator implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// Unix time in seconds → datetime.
    DateTimeFromUnixSeconds,
    /// Unix time in milliseconds → datetime.
    DateTimeFromUnixMilliseconds,
    /// Unix time in microseconds → datetime.
    DateTimeFromUnixMicroseconds,
    /// Unix time in nanoseconds → datetime.
    DateTimeFromUnixNanoseconds,
    /// `[{"Key":k,"Value":v}]` → `{k: v}`.
    PropertyBagArrayToDictionary,
    /// The source blob's location.
    SourceLocation,
    /// The record's 1-based line number in its source.
    SourceLineNumber,
}

impl Transform {
    fn parse(name: &str) -> Result<Transform, String> {
        Ok(match name {
            "DateTimeFromUnixSeconds" => Transform::DateTimeFromUnixSeconds,
            "DateTimeFromUnixMilliseconds" => Transform::DateTimeFromUnixMilliseconds,
            "DateTimeFromUnixMicroseconds" => Transform::DateTimeFromUnixMicroseconds,
            "DateTimeFromUnixNanoseconds" => Transform::DateTimeFromUnixNanoseconds,
            "PropertyBagArrayToDictionary" => Transform::PropertyBagArrayToDictionary,
            "SourceLocation" => Transform::SourceLocation,
            "SourceLineNumber" => Transform::SourceLineNumber,
            other => return Err(format!("unknown mapping transformation '{other}'")),
        })
    }
}

/// A parsed JSONPath: a sequence of member names and array indexes from the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Member(String),
    Index(usize),
}

impl JsonPath {
    /// Parses `$`, `$.a.b`, `$['x-y']`, `$["x"]`, `$.a[0]`.
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        let bad = |why: &str| format!("invalid JSONPath '{text}': {why}");
        let chars: Vec<char> = text.trim().chars().collect();
        if chars.first() != Some(&'$') {
            return Err(bad("it must start with '$'"));
        }
        let mut steps = Vec::new();
        let mut i = 1;
        while i < chars.len() {
            match chars[i] {
                '.' => {
                    let start = i + 1;
                    let mut end = start;
                    while end < chars.len() && chars[end] != '.' && chars[end] != '[' {
                        end += 1;
                    }
                    if end == start {
                        return Err(bad("empty member name"));
                    }
                    steps.push(Step::Member(chars[start..end].iter().collect()));
                    i = end;
                }
                '[' => {
                    let quote = chars.get(i + 1).copied();
                    if quote == Some('\'') || quote == Some('"') {
                        let start = i + 2;
                        let mut end = start;
                        let mut name = String::new();
                        while end < chars.len() && Some(chars[end]) != quote {
                            if chars[end] == '\\' && end + 1 < chars.len() {
                                end += 1;
                            }
                            name.push(chars[end]);
                            end += 1;
                        }
                        if chars.get(end + 1) != Some(&']') {
                            return Err(bad("unterminated bracket"));
                        }
                        steps.push(Step::Member(name));
                        i = end + 2;
                    } else {
                        let close = (i..chars.len())
                            .find(|&j| chars[j] == ']')
                            .ok_or_else(|| bad("unterminated bracket"))?;
                        let index: String = chars[i + 1..close].iter().collect();
                        steps.push(Step::Index(
                            index.trim().parse().map_err(|_| bad("unsupported index"))?,
                        ));
                        i = close + 1;
                    }
                }
                _ => return Err(bad("unexpected character")),
            }
        }
        Ok(JsonPath {
            text: text.trim().to_string(),
            steps,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value at this path in `record`, or null when absent.
    pub fn select<'a>(&self, record: &'a Value) -> Option<&'a Value> {
        let mut current = record;
        for step in &self.steps {
            current = match step {
                Step::Member(name) => current.get(name.as_str())?,
                Step::Index(i) => current.get(*i)?,
            };
        }
        Some(current)
    }
}

impl JsonPath {
    /// Moves the value at this path out of `record` (leaving null), or None when absent: a
    /// mapped cell that no other mapping column reads is moved into its row, not copied.
    pub fn take(&self, record: &mut Value) -> Option<Value> {
        let mut current = record;
        for step in &self.steps {
            current = match step {
                Step::Member(name) => current.get_mut(name.as_str())?,
                Step::Index(i) => current.get_mut(*i)?,
            };
        }
        Some(std::mem::take(current))
    }

    /// The member name when the path is a single top-level member (`$.a`, `$['a']`).
    pub fn top_member(&self) -> Option<&str> {
        match self.steps.as_slice() {
            [Step::Member(name)] => Some(name),
            _ => None,
        }
    }

    /// Whether one path leads into (or is) the other, so that moving a value out at one
    /// changes what the other selects.
    pub fn overlaps(&self, other: &JsonPath) -> bool {
        let n = self.steps.len().min(other.steps.len());
        self.steps[..n] == other.steps[..n]
    }
}

fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Parses a JSON mapping definition.
pub fn parse_mapping(text: &str) -> Result<Vec<MappingColumn>, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("the mapping is not valid JSON: {e}"))?;
    let items = value.as_array().ok_or("the mapping must be a JSON array")?;
    items
        .iter()
        .map(|item| {
            let object = item
                .as_object()
                .ok_or("each mapping entry must be an object")?;
            let column =
                text_of(field(object, "column")).ok_or("a mapping entry has no 'column'")?;
            let props = field(object, "Properties").and_then(Value::as_object);
            let prop = |name: &str| {
                text_of(props.and_then(|p| field(p, name))).or_else(|| text_of(field(object, name)))
            };
            let path = prop("Path").map(|p| JsonPath::parse(&p)).transpose()?;
            let transform = prop("Transform")
                .filter(|t| t != "None")
                .map(|t| Transform::parse(&t))
                .transpose()?;
            let const_value = prop("ConstValue");
            let datatype = text_of(field(object, "datatype"));
            if let Some(dt) = &datatype {
                if !dt.is_empty() && values::canonical_type(dt).is_none() {
                    return Err(format!("unknown datatype '{dt}' for column '{column}'"));
                }
            }
            let needs_path = !matches!(
                transform,
                Some(Transform::SourceLocation | Transform::SourceLineNumber)
            );
            if path.is_none() && const_value.is_none() && needs_path {
                return Err(format!(
                    "mapping of column '{column}' has neither Path nor ConstValue"
                ));
            }
            Ok(MappingColumn {
                column,
                path,
                datatype,
                transform,
                const_value,
            })
        })
        .collect()
}

/// Where a record comes from, for the source transforms.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// The blob or stream location.
    pub location: String,
    /// 1-based record number.
    pub line: usize,
}

/// The raw (not yet typed) value a mapping column takes from a record.
/// Borrowed from the record when no transform applies, so a cell is copied once, when typed.
pub fn extract<'r>(
    column: &MappingColumn,
    record: &'r Value,
    source: &Source,
) -> Result<Cow<'r, Value>, String> {
    if let Some(c) = &column.const_value {
        return Ok(Cow::Owned(Value::String(c.clone())));
    }
    let selected = column.path.as_ref().and_then(|p| p.select(record));
    let Some(transform) = column.transform else {
        return Ok(selected.map_or(Cow::Owned(Value::Null), Cow::Borrowed));
    };
    let raw = selected.cloned().unwrap_or(Value::Null);
    let unix = |per: f64| -> Result<Value, String> {
        let number = match &raw {
            Value::Null => return Ok(Value::Null),
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        number
            .and_then(|n| values::datetime_from_unix(n, per))
            .map(Value::String)
            .ok_or_else(|| format!("cannot apply {transform:?} to {raw}"))
    };
    owned(match transform {
        Transform::DateTimeFromUnixSeconds => unix(1.0),
        Transform::DateTimeFromUnixMilliseconds => unix(1e3),
        Transform::DateTimeFromUnixMicroseconds => unix(1e6),
        Transform::DateTimeFromUnixNanoseconds => unix(1e9),
        Transform::PropertyBagArrayToDictionary => match &raw {
            Value::Array(items) => {
                let mut out = Map::new();
                for item in items {
                    let key = item
                        .get("Key")
                        .or_else(|| item.get("key"))
                        .and_then(Value::as_str);
                    let value = item
                        .get("Value")
                        .or_else(|| item.get("value"))
                        .cloned()
                        .unwrap_or(Value::Null);
                    if let Some(k) = key {
                        out.insert(k.to_string(), value);
                    }
                }
                Ok(Value::Object(out))
            }
            Value::Null => Ok(Value::Null),
            other => Err(format!(
                "cannot apply PropertyBagArrayToDictionary to {other}"
            )),
        },
        Transform::SourceLocation => Ok(Value::String(source.location.clone())),
        Transform::SourceLineNumber => Ok(Value::from(source.line)),
    })
}

/// Like [`extract`], moving the value out of `record` when `movable` (the caller knows no
/// other mapping column reads it: see [`JsonPath::overlaps`]).
pub fn extract_owned(
    column: &MappingColumn,
    record: &mut Value,
    source: &Source,
    movable: bool,
) -> Result<Value, String> {
    match (&column.path, movable) {
        (Some(path), true) => Ok(path.take(record).unwrap_or(Value::Null)),
        _ => extract(column, record, source).map(Cow::into_owned),
    }
}

fn owned<'r>(value: Result<Value, String>) -> Result<Cow<'r, Value>, String> {
    value.map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_select_members_and_indexes() {
        let record = json!({"a":{"b":[1,{"c":2}]},"x-y":3});
        assert_eq!(JsonPath::parse("$").unwrap().select(&record), Some(&record));
        assert_eq!(
            JsonPath::parse("$.a.b[1].c").unwrap().select(&record),
            Some(&json!(2))
        );
        assert_eq!(
            JsonPath::parse("$['x-y']").unwrap().select(&record),
            Some(&json!(3))
        );
        assert_eq!(
            JsonPath::parse("$[\"a\"]['b'][0]").unwrap().select(&record),
            Some(&json!(1))
        );
        assert!(JsonPath::parse("a.b").is_err());
        assert_eq!(JsonPath::parse("$.nope").unwrap().select(&record), None);
    }

    #[test]
    fn mappings_parse_in_both_forms() {
        let m = parse_mapping(r#"[{"column":"ts","datatype":"datetime","Properties":{"Path":"$.t","Transform":"DateTimeFromUnixMilliseconds"}},
            {"column":"c","Properties":{"ConstValue":"x"}},{"Column":"old","Path":"$.o"}]"#)
        .unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(
            m[0].transform,
            Some(Transform::DateTimeFromUnixMilliseconds)
        );
        let v = extract(&m[0], &json!({"t": 1000}), &Source::default())
            .unwrap()
            .into_owned();
        assert_eq!(v, json!("1970-01-01T00:00:01.0000000Z"));
        assert_eq!(
            extract(&m[1], &json!({}), &Source::default())
                .unwrap()
                .into_owned(),
            json!("x")
        );
        assert!(parse_mapping(r#"[{"column":"a"}]"#).is_err());
        assert!(parse_mapping("not json").is_err());
    }
}
