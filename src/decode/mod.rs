//! Decode stage: turns the bytes of one event into a [`Message`], or says exactly why it
//! cannot (not UTF-8, not JSON, not an object, a header field of the wrong type).
//!
//! Decoding is deliberately tolerant of what it does not know: an unknown `messageSource`,
//! an unknown `messageType` or extra fields all pass through untouched, so that a new IoT
//! Central feature never stops the pipeline. It is strict only where a wrong shape would make
//! every transform silently produce nothing (a telemetry message whose `telemetry` is not an
//! object, for instance).

mod json;
mod message;

pub use message::{Message, MessageSource};

use serde_json::{Map, Value};

/// Why a body is not a usable IoT Central message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// The body is not UTF-8 text.
    #[error("the body is not UTF-8: invalid byte sequence at byte {valid_up_to}")]
    NotUtf8 {
        /// Number of leading bytes that are valid UTF-8.
        valid_up_to: usize,
    },
    /// The body is empty.
    #[error("the body is empty")]
    Empty,
    /// The body is not JSON, or nests deeper than the parser allows.
    #[error("the body is not valid JSON: {message} (line {line}, column {column})")]
    InvalidJson {
        /// serde_json's description.
        message: String,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
    },
    /// The body is JSON, but not an object.
    #[error("the body is a JSON {found}, but an IoT Central message is a JSON object")]
    NotAnObject {
        /// What it is instead ("array", "string", ...).
        found: &'static str,
    },
    /// A field that every export message has is missing.
    #[error("the message has no `{field}` field, so it is not an IoT Central export message")]
    MissingField {
        /// The field's name.
        field: &'static str,
    },
    /// A field has the wrong JSON type.
    #[error("`{field}` should be {expected}, but it is {}", with_article(.found))]
    WrongType {
        /// The field's name.
        field: &'static str,
        /// What the documented shape says it is.
        expected: &'static str,
        /// What it is.
        found: &'static str,
    },
}

impl DecodeError {
    /// A short, fixed name for the kind of problem (a metric label: never the details).
    pub fn kind(&self) -> &'static str {
        match self {
            DecodeError::NotUtf8 { .. } => "not_utf8",
            DecodeError::Empty => "empty",
            DecodeError::InvalidJson { .. } => "invalid_json",
            DecodeError::NotAnObject { .. } => "not_an_object",
            DecodeError::MissingField { .. } => "missing_field",
            DecodeError::WrongType { .. } => "wrong_type",
        }
    }
}

/// Header fields that are strings whenever present.
const STRING_FIELDS: [&str; 6] = [
    "messageType",
    "deviceId",
    "templateId",
    "applicationId",
    "enqueuedTime",
    "schema",
];

/// Decodes one event body.
pub fn decode(body: &[u8]) -> Result<Message, DecodeError> {
    let text = std::str::from_utf8(body).map_err(|e| DecodeError::NotUtf8 {
        valid_up_to: e.valid_up_to(),
    })?;
    if text.trim().is_empty() {
        return Err(DecodeError::Empty);
    }
    let value: Value = json::parse(text).map_err(|e| DecodeError::InvalidJson {
        message: describe_json_error(&e),
        line: e.line(),
        column: e.column(),
    })?;
    let body = match value {
        Value::Object(map) => map,
        other => {
            return Err(DecodeError::NotAnObject {
                found: json_type(&other),
            })
        }
    };
    let source = match body.get("messageSource") {
        Some(Value::String(s)) => MessageSource::from_wire(s),
        Some(other) => {
            return Err(DecodeError::WrongType {
                field: "messageSource",
                expected: "a string",
                found: json_type(other),
            })
        }
        None => {
            return Err(DecodeError::MissingField {
                field: "messageSource",
            })
        }
    };
    for field in STRING_FIELDS {
        expect_type(&body, field, "a string", Value::is_string)?;
    }
    match source {
        MessageSource::Telemetry => {
            require(&body, "telemetry")?;
            expect_type(&body, "telemetry", "an object", Value::is_object)?;
        }
        MessageSource::Properties => {
            require(&body, "properties")?;
            expect_type(&body, "properties", "an array", Value::is_array)?;
        }
        _ => {}
    }
    expect_type(&body, "enrichments", "an object", Value::is_object)?;
    Ok(Message::new(source, body))
}

fn require(body: &Map<String, Value>, field: &'static str) -> Result<(), DecodeError> {
    if body.contains_key(field) {
        Ok(())
    } else {
        Err(DecodeError::MissingField { field })
    }
}

fn expect_type(
    body: &Map<String, Value>,
    field: &'static str,
    expected: &'static str,
    ok: fn(&Value) -> bool,
) -> Result<(), DecodeError> {
    match body.get(field) {
        Some(v) if !ok(v) && !v.is_null() => Err(DecodeError::WrongType {
            field,
            expected,
            found: json_type(v),
        }),
        _ => Ok(()),
    }
}

/// The JSON type name of a value, for messages.
pub fn json_type(v: &Value) -> &'static str {
    iotc_adx_jmespath::JsonType::of(v).name()
}

/// "an array", "a string": a JSON type name with its article, for messages.
pub fn with_article(type_name: &str) -> String {
    let article = if type_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {type_name}")
}

/// serde_json appends " at line L column C" to its messages; we report those separately.
fn describe_json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if text.starts_with("recursion limit exceeded") {
        return "it nests more than 128 arrays or objects deep (recursion limit exceeded)"
            .to_string();
    }
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TELEMETRY: &str = r#"{"applicationId":"app","messageSource":"telemetry","deviceId":"d1","schema":"default@v1","templateId":"urn:t","enqueuedTime":"2020-08-05T22:26:55.455Z","telemetry":{"HeartRate":88},"enrichments":{},"futureField":{"x":1}}"#;

    #[test]
    fn decodes_telemetry_and_keeps_unknown_fields() {
        let m = decode(TELEMETRY.as_bytes()).unwrap();
        assert_eq!(m.source(), &MessageSource::Telemetry);
        assert_eq!(m.device_id(), Some("d1"));
        assert_eq!(m.template_id(), Some("urn:t"));
        assert_eq!(m.telemetry().unwrap()["HeartRate"], 88);
        assert_eq!(m.value()["futureField"]["x"], 1);
    }

    #[test]
    fn unknown_sources_and_types_pass() {
        let m =
            decode(br#"{"messageSource":"quantumTelemetry","messageType":"entangled"}"#).unwrap();
        assert_eq!(m.source().as_str(), "quantumTelemetry");
        assert_eq!(m.message_type(), Some("entangled"));
        assert!(!m.has_known_type());
        let m =
            decode(br#"{"messageSource":"deviceConnectivity","messageType":"connected"}"#).unwrap();
        assert!(m.has_known_type());
    }

    #[test]
    fn bad_bodies_say_why() {
        assert_eq!(
            decode(b"{\"a\":\"\xff\"}"),
            Err(DecodeError::NotUtf8 { valid_up_to: 6 })
        );
        assert_eq!(decode(b"  "), Err(DecodeError::Empty));
        let e = decode(b"{\"a\":").unwrap_err();
        assert!(matches!(e, DecodeError::InvalidJson { line: 1, .. }), "{e}");
        assert_eq!(
            decode(b"[1,2]"),
            Err(DecodeError::NotAnObject { found: "array" })
        );
        assert_eq!(
            decode(b"{}"),
            Err(DecodeError::MissingField {
                field: "messageSource"
            })
        );
        let e = decode(br#"{"messageSource":"telemetry","telemetry":[1]}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`telemetry` should be an object, but it is an array"
        );
        let e = decode(br#"{"messageSource":"audit","deviceId":7}"#).unwrap_err();
        assert_eq!(
            e,
            DecodeError::WrongType {
                field: "deviceId",
                expected: "a string",
                found: "number"
            }
        );
        let e = decode(br#"{"messageSource":"properties"}"#).unwrap_err();
        assert_eq!(
            e,
            DecodeError::MissingField {
                field: "properties"
            }
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!(
            "{{\"messageSource\":\"telemetry\",\"telemetry\":{}{}}}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let e = decode(deep.as_bytes()).unwrap_err();
        assert!(
            e.to_string()
                .contains("nests more than 128 arrays or objects deep"),
            "{e}"
        );
    }
}
