//! What a source hands to the pipeline: the raw bytes of one Event Hubs event and the
//! metadata the hub attached to it. Every later stage, and every dead letter, carries this
//! metadata so that a row or a failure can always be traced back to its event.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Where an event sits in its Event Hub, plus the properties the sender attached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventMeta {
    /// Partition id (`"0"`, `"1"`, ... on Event Hubs; `"file"` for the file source).
    pub partition: String,
    /// Sequence number within the partition; strictly increasing.
    pub sequence_number: i64,
    /// The hub's opaque offset string (the file source uses the byte offset in its file).
    pub offset: String,
    /// When the hub accepted the event.
    #[serde(
        serialize_with = "serialize_time",
        deserialize_with = "deserialize_time"
    )]
    pub enqueued_time: DateTime<Utc>,
    /// The partition key the sender chose, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<String>,
    /// Application properties: IoT Central's `iotcentral-*` properties live here.
    #[serde(default)]
    pub properties: Map<String, Value>,
    /// System properties and annotations other than the four above (`x-opt-*`, ...).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub system_properties: Map<String, Value>,
    /// A human location for messages and dead letters, such as `samples/bad.jsonl:3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

fn serialize_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// Reads the RFC 3339 time that [`serialize_time`] writes (dead letters are read back by
/// `iotc-adx replay`).
fn deserialize_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(d)?;
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.to_utc())
        .map_err(|e| serde::de::Error::custom(format!("enqueuedTime {text:?}: {e}")))
}

impl EventMeta {
    /// A short description of where the event came from, for error messages:
    /// the origin when known, else partition, sequence number and offset.
    pub fn location(&self) -> String {
        match &self.origin {
            Some(origin) => origin.clone(),
            None => format!(
                "partition {}, sequence number {}, offset {}",
                self.partition, self.sequence_number, self.offset
            ),
        }
    }

    /// The metadata as the JSON object transforms and predicates see as `$meta`.
    pub fn to_value(&self) -> Value {
        // Serialising a struct of strings, numbers and maps cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// One event from a source: its body exactly as received, and its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceEvent {
    /// The event body, untouched (IoT Central sends UTF-8 JSON, but nothing is assumed here).
    pub body: Vec<u8>,
    /// Where it came from.
    pub meta: EventMeta,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> EventMeta {
        EventMeta {
            partition: "3".into(),
            sequence_number: 42,
            offset: "8800".into(),
            enqueued_time: DateTime::parse_from_rfc3339("2026-01-02T03:04:05.5Z")
                .unwrap()
                .to_utc(),
            partition_key: None,
            properties: Map::new(),
            system_properties: Map::new(),
            origin: None,
        }
    }

    #[test]
    fn location_prefers_the_origin() {
        let mut m = meta();
        assert_eq!(m.location(), "partition 3, sequence number 42, offset 8800");
        m.origin = Some("a.jsonl:7".into());
        assert_eq!(m.location(), "a.jsonl:7");
    }

    #[test]
    fn meta_value_uses_camel_case() {
        let v = meta().to_value();
        assert_eq!(v["sequenceNumber"], 42);
        assert_eq!(v["enqueuedTime"], "2026-01-02T03:04:05.500Z");
        assert!(v.get("partitionKey").is_none());
    }
}
