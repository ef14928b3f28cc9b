//! Appending events with what real producers attach: application properties (IoT Central's
//! `iotcentral-*`), a partition key, message annotations, and — for tests of start positions —
//! a chosen enqueued time. Values are given as JSON and stored as the AMQP types a producer
//! would send: strings as `string`, integers as `long`, other numbers as `double`, booleans as
//! `boolean`, `null` as `null`.

use super::emulator::EventHubsEmulator;
use super::error::EmulatorError;
use super::log::NewEvent;
use fe2o3_amqp_types::messaging::annotations::OwnedKey;
use fe2o3_amqp_types::messaging::{ApplicationProperties, Body, Data, MessageAnnotations};
use fe2o3_amqp_types::primitives::{Binary, OrderedMap, SimpleValue, Symbol, Value};

/// One event to append with [`EventHubsEmulator::append_event`].
#[derive(Debug, Clone, Default)]
pub struct AppendEvent {
    /// The body, as one data section.
    pub body: Vec<u8>,
    /// The partition key (delivered as the `x-opt-partition-key` annotation).
    pub partition_key: Option<String>,
    /// Application properties, in order.
    pub properties: Vec<(String, serde_json::Value)>,
    /// Message annotations besides the service's own `x-opt-*` positions, in order.
    pub annotations: Vec<(String, serde_json::Value)>,
    /// The enqueued time in milliseconds since the Unix epoch; `None` is now. A time before
    /// the partition's last event is raised to it (enqueued times never go back).
    pub enqueued_time_ms: Option<i64>,
}

impl AppendEvent {
    /// An event with `body` and nothing else.
    pub fn new(body: &[u8]) -> Self {
        AppendEvent {
            body: body.to_vec(),
            ..Default::default()
        }
    }

    /// Adds an application property.
    pub fn property(mut self, key: &str, value: serde_json::Value) -> Self {
        self.properties.push((key.to_string(), value));
        self
    }

    /// Adds a message annotation.
    pub fn annotation(mut self, key: &str, value: serde_json::Value) -> Self {
        self.annotations.push((key.to_string(), value));
        self
    }

    /// Sets the partition key.
    pub fn partition_key(mut self, key: &str) -> Self {
        self.partition_key = Some(key.to_string());
        self
    }

    /// Sets the enqueued time (milliseconds since the Unix epoch).
    pub fn enqueued_at_ms(mut self, ms: i64) -> Self {
        self.enqueued_time_ms = Some(ms);
        self
    }
}

/// A JSON scalar as the AMQP simple value a producer sends; arrays and objects are refused.
fn simple(key: &str, v: &serde_json::Value) -> Result<SimpleValue, EmulatorError> {
    use serde_json::Value as J;
    Ok(match v {
        J::Null => SimpleValue::Null,
        J::Bool(b) => SimpleValue::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => SimpleValue::Long(i),
            None => SimpleValue::Double(n.as_f64().unwrap_or(f64::NAN).into()),
        },
        J::String(s) => SimpleValue::String(s.clone()),
        J::Array(_) | J::Object(_) => return Err(EmulatorError::NotScalar(key.to_string())),
    })
}

impl AppendEvent {
    pub(crate) fn into_new_event(self) -> Result<(NewEvent, Option<i64>), EmulatorError> {
        let application_properties = if self.properties.is_empty() {
            None
        } else {
            let mut map = OrderedMap::new();
            for (k, v) in &self.properties {
                map.insert(k.clone(), simple(k, v)?);
            }
            Some(ApplicationProperties(map))
        };
        let mut annotations: OrderedMap<OwnedKey, Value> = OrderedMap::new();
        for (k, v) in &self.annotations {
            annotations.insert(
                OwnedKey::Symbol(Symbol::from(k.as_str())),
                Value::from(simple(k, v)?),
            );
        }
        if let Some(pk) = &self.partition_key {
            annotations.insert(
                OwnedKey::Symbol(Symbol::from("x-opt-partition-key")),
                Value::String(pk.clone()),
            );
        }
        let size = self.body.len() as u64
            + 16
            + 32 * (self.properties.len() + self.annotations.len()) as u64;
        let event = NewEvent {
            partition_key: self.partition_key,
            body: Body::Data(vec![Data(Binary::from(self.body))].into()),
            properties: None,
            application_properties,
            message_annotations: (!annotations.is_empty())
                .then_some(MessageAnnotations(annotations)),
            size,
        };
        Ok((event, self.enqueued_time_ms))
    }
}

impl EventHubsEmulator {
    /// Appends `event` directly to `hub`/`partition` (as if a producer sent it, with its
    /// properties and annotations); returns its sequence number.
    pub fn append_event(
        &self,
        hub: &str,
        partition: &str,
        event: AppendEvent,
    ) -> Result<i64, EmulatorError> {
        let p = self.partition_log(hub, partition)?;
        let (new, at) = event.into_new_event()?;
        Ok(p.append_at(vec![new], at).first().copied().unwrap_or(-1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_scalars_become_the_amqp_types_producers_send() {
        assert_eq!(
            simple("s", &json!("x")).unwrap(),
            SimpleValue::String("x".into())
        );
        assert_eq!(simple("n", &json!(42)).unwrap(), SimpleValue::Long(42));
        assert_eq!(
            simple("d", &json!(1.5)).unwrap(),
            SimpleValue::Double(1.5.into())
        );
        assert_eq!(simple("b", &json!(true)).unwrap(), SimpleValue::Bool(true));
        assert_eq!(simple("z", &json!(null)).unwrap(), SimpleValue::Null);
        let e = simple("obj", &json!({"a": 1})).unwrap_err();
        assert!(e.to_string().contains("obj"), "{e}");
    }

    #[test]
    fn properties_annotations_and_the_partition_key_are_kept() {
        let (event, at) = AppendEvent::new(b"{}")
            .property("iotcentral-device-id", json!("d1"))
            .annotation("x-custom", json!(7))
            .partition_key("d1")
            .enqueued_at_ms(1_000)
            .into_new_event()
            .unwrap();
        assert_eq!(at, Some(1_000));
        assert_eq!(event.partition_key.as_deref(), Some("d1"));
        let props = event.application_properties.unwrap().0;
        assert_eq!(
            props.get("iotcentral-device-id"),
            Some(&SimpleValue::String("d1".into()))
        );
        let ann = event.message_annotations.unwrap().0;
        let sym = |s: &str| OwnedKey::Symbol(Symbol::from(s));
        assert_eq!(ann.get(&sym("x-custom")), Some(&Value::Long(7)));
        assert_eq!(
            ann.get(&sym("x-opt-partition-key")),
            Some(&Value::String("d1".into()))
        );
    }
}
