//! A received Event Hubs event as the pipeline's [`SourceEvent`]: the body byte for byte, the
//! position (partition, sequence number, offset, enqueued time, partition key), the
//! application properties (IoT Central's `iotcentral-*`) and the other system properties as
//! JSON, so transforms and dead letters see them as `$meta`.

use crate::event::{EventMeta, SourceEvent};
use azure_core_amqp::{AmqpSimpleValue, AmqpValue};
use azure_messaging_eventhubs::models::ReceivedEventData;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// System properties already carried as [`EventMeta`] fields.
const POSITION_KEYS: [&str; 4] = [
    "x-opt-sequence-number",
    "x-opt-offset",
    "x-opt-enqueued-time",
    "x-opt-partition-key",
];

/// Converts one received event of `partition`.
pub fn to_source_event(partition: &str, event: &ReceivedEventData) -> SourceEvent {
    let data = event.event_data();
    let properties: Map<String, Value> = data
        .properties()
        .map(|p| {
            p.iter()
                .map(|(k, v)| (k.clone(), simple_to_json(v)))
                .collect()
        })
        .unwrap_or_default();
    let system_properties: Map<String, Value> = event
        .system_properties()
        .iter()
        .filter(|(k, _)| !POSITION_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), value_to_json(v)))
        .collect();
    let enqueued_time = event
        .enqueued_time()
        .map(DateTime::<Utc>::from)
        .unwrap_or_else(Utc::now);
    SourceEvent {
        body: data.body().map(<[u8]>::to_vec).unwrap_or_default(),
        meta: EventMeta {
            partition: partition.to_string(),
            sequence_number: event.sequence_number().unwrap_or(-1),
            offset: event.offset().clone().unwrap_or_default(),
            enqueued_time,
            partition_key: event.partition_key().clone(),
            properties,
            system_properties,
            origin: None,
        },
    }
}

/// An AMQP application-property value as JSON (numbers stay numbers, binary becomes base64).
fn simple_to_json(v: &AmqpSimpleValue) -> Value {
    use base64::Engine;
    match v {
        AmqpSimpleValue::Null => Value::Null,
        AmqpSimpleValue::Boolean(b) => Value::Bool(*b),
        AmqpSimpleValue::UByte(n) => (*n).into(),
        AmqpSimpleValue::Byte(n) => (*n).into(),
        AmqpSimpleValue::UShort(n) => (*n).into(),
        AmqpSimpleValue::Short(n) => (*n).into(),
        AmqpSimpleValue::UInt(n) => (*n).into(),
        AmqpSimpleValue::Int(n) => (*n).into(),
        AmqpSimpleValue::ULong(n) => (*n).into(),
        AmqpSimpleValue::Long(n) => (*n).into(),
        AmqpSimpleValue::Float(n) => {
            serde_json::Number::from_f64(f64::from(*n)).map_or(Value::Null, Value::Number)
        }
        AmqpSimpleValue::Double(n) => {
            serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number)
        }
        AmqpSimpleValue::Char(c) => Value::String(c.to_string()),
        AmqpSimpleValue::String(s) => Value::String(s.clone()),
        AmqpSimpleValue::Symbol(s) => Value::String(s.0.clone()),
        AmqpSimpleValue::Binary(b) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        AmqpSimpleValue::Uuid(u) => Value::String(u.to_string()),
        AmqpSimpleValue::TimeStamp(t) => match t.0 {
            Some(time) => Value::String(DateTime::<Utc>::from(time).to_rfc3339()),
            None => Value::Null,
        },
        other => Value::String(format!("{other:?}")),
    }
}

/// A system-property value as JSON; compound values keep their debug form.
fn value_to_json(v: &AmqpValue) -> Value {
    match v {
        AmqpValue::Null => Value::Null,
        AmqpValue::Boolean(b) => Value::Bool(*b),
        AmqpValue::Long(n) => (*n).into(),
        AmqpValue::Int(n) => (*n).into(),
        AmqpValue::ULong(n) => (*n).into(),
        AmqpValue::String(s) => Value::String(s.clone()),
        AmqpValue::Symbol(s) => Value::String(s.0.clone()),
        AmqpValue::TimeStamp(t) => match t.0 {
            Some(time) => Value::String(DateTime::<Utc>::from(time).to_rfc3339()),
            None => Value::Null,
        },
        other => Value::String(format!("{other:?}")),
    }
}
