//! Parsing a body into a `serde_json::Value` whose objects are sized before they fill.
//!
//! serde_json's own `Value` starts every object empty and grows it key by key; with the
//! ordered map this service uses (key order is kept for `dynamic` columns), each growth
//! reallocates the entries and rebuilds the hash index. Export messages are small objects of a
//! dozen keys, so starting each at [`OBJECT_CAPACITY`] entries spares those rounds. The result
//! is the same value serde_json would build: same numbers, same order, a repeated key keeps its
//! first position and its last value.

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Entries an object starts with: room for a whole export message header.
const OBJECT_CAPACITY: usize = 16;

/// Parses `text` (one JSON document, whitespace around it allowed).
pub(super) fn parse(text: &str) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = SizedValue.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// With serde_json's `arbitrary_precision` (numbers are kept exactly as written), the parser
/// hands each number over as a one-entry map under this key, holding the number's text.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Reads a number's text (see [`NUMBER_TOKEN`]) straight into a [`Number`].
struct NumberText;

impl<'de> DeserializeSeed<'de> for NumberText {
    type Value = Number;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Number, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for NumberText {
    type Value = Number;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON number")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Number, E> {
        s.parse().map_err(E::custom)
    }
}

/// Builds one JSON value, objects pre-sized.
#[derive(Clone, Copy)]
struct SizedValue;

impl<'de> DeserializeSeed<'de> for SizedValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SizedValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Number(i.into()))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(Value::Number(u.into()))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        // JSON text has no NaN or infinity, so this is always a number.
        Ok(Number::from_f64(f).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(SizedValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Some(first) = map.next_key::<String>()? else {
            return Ok(Value::Object(Map::new()));
        };
        if first == NUMBER_TOKEN {
            return Ok(Value::Number(map.next_value_seed(NumberText)?));
        }
        let mut object = Map::with_capacity(OBJECT_CAPACITY);
        object.insert(first, map.next_value_seed(SizedValue)?);
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(SizedValue)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn builds_what_serde_json_builds() {
        for text in [
            r#"{"messageSource":"telemetry","telemetry":{"HeartRate":88,"t":-3,"r":1.5e3},"x":[1,"a",null,true,{"k":{}}]}"#,
            r#"{"b":1,"a":2,"b":3}"#,
            r#"{"big":18446744073709551615,"neg":-9223372036854775808,"f":0.1}"#,
            r#"  [ "\u00e9\n", 1e-7 ]  "#,
            r#""text""#,
            "null",
        ] {
            let ours = parse(text).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
            assert_eq!(ours.to_string(), theirs.to_string(), "key order of {text}");
        }
    }

    #[test]
    fn errors_keep_serde_json_positions() {
        for text in [r#"{"a":1,}"#, "{\"a\":\n tru}", r#"{"a":1} x"#, ""] {
            let ours = parse(text).unwrap_err();
            let theirs = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
            assert_eq!(
                (ours.line(), ours.column(), ours.to_string()),
                (theirs.line(), theirs.column(), theirs.to_string()),
                "{text:?}"
            );
        }
    }
}
