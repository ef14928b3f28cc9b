//! The IoT Central export message model: which of the six message sources a message comes
//! from, its message type, and typed access to the header fields routing needs. The body is
//! kept as the JSON object it arrived as, so that fields this version does not know about
//! reach the transforms untouched.

use serde_json::{Map, Value};
use std::fmt;

/// The `messageSource` of an exported message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MessageSource {
    /// Device telemetry (`telemetry` object keyed by capability).
    Telemetry,
    /// Property changes (`properties` array of `{name, value}`).
    Properties,
    /// A device connected or disconnected.
    DeviceConnectivity,
    /// A device was registered, provisioned, enabled, deleted, ...
    DeviceLifecycle,
    /// A device template was created, updated or deleted.
    DeviceTemplateLifecycle,
    /// An audit log entry (who changed what in the application).
    Audit,
    /// A message source this version does not know; passed through untouched.
    Other(String),
}

impl MessageSource {
    /// The six documented sources, in the documentation's order.
    pub const KNOWN: [MessageSource; 6] = [
        MessageSource::Telemetry,
        MessageSource::Properties,
        MessageSource::DeviceConnectivity,
        MessageSource::DeviceLifecycle,
        MessageSource::DeviceTemplateLifecycle,
        MessageSource::Audit,
    ];

    /// Maps the wire name to a source; unknown names become [`MessageSource::Other`].
    pub fn from_wire(name: &str) -> MessageSource {
        match name {
            "telemetry" => MessageSource::Telemetry,
            "properties" => MessageSource::Properties,
            "deviceConnectivity" => MessageSource::DeviceConnectivity,
            "deviceLifecycle" => MessageSource::DeviceLifecycle,
            "deviceTemplateLifecycle" => MessageSource::DeviceTemplateLifecycle,
            "audit" => MessageSource::Audit,
            other => MessageSource::Other(other.to_string()),
        }
    }

    /// The name as it appears in `messageSource`.
    pub fn as_str(&self) -> &str {
        match self {
            MessageSource::Telemetry => "telemetry",
            MessageSource::Properties => "properties",
            MessageSource::DeviceConnectivity => "deviceConnectivity",
            MessageSource::DeviceLifecycle => "deviceLifecycle",
            MessageSource::DeviceTemplateLifecycle => "deviceTemplateLifecycle",
            MessageSource::Audit => "audit",
            MessageSource::Other(name) => name,
        }
    }

    /// The message types IoT Central documents for this source (empty for telemetry, which
    /// has none, and for unknown sources).
    pub fn known_types(&self) -> &'static [&'static str] {
        match self {
            MessageSource::Telemetry | MessageSource::Other(_) => &[],
            MessageSource::Properties => &[
                "cloudPropertyChange",
                "devicePropertyDesiredChange",
                "devicePropertyReportedChange",
            ],
            MessageSource::DeviceConnectivity => &["connected", "disconnected"],
            MessageSource::DeviceLifecycle => &[
                "registered",
                "deleted",
                "provisioned",
                "enabled",
                "disabled",
                "displayNameChanged",
                "deviceTemplateChanged",
            ],
            MessageSource::DeviceTemplateLifecycle | MessageSource::Audit => {
                &["created", "updated", "deleted"]
            }
        }
    }

    /// Whether this is one of the six documented sources.
    pub fn is_known(&self) -> bool {
        !matches!(self, MessageSource::Other(_))
    }

    /// Every documented message type of every source, for validating filters.
    pub fn all_known_types() -> Vec<&'static str> {
        let mut all: Vec<&'static str> = Self::KNOWN
            .iter()
            .flat_map(|s| s.known_types().iter().copied())
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

impl fmt::Display for MessageSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decoded IoT Central export message.
///
/// The header fields routing needs are read once at decode time; everything else stays in
/// `body`, the JSON object exactly as exported.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    source: MessageSource,
    /// Always a JSON object (checked by [`super::decode`]).
    body: Value,
}

impl Message {
    /// Wraps an already validated body (see [`super::decode`]).
    pub(super) fn new(source: MessageSource, body: Map<String, Value>) -> Self {
        Message {
            source,
            body: Value::Object(body),
        }
    }

    /// The message source.
    pub fn source(&self) -> &MessageSource {
        &self.source
    }

    /// `messageType`, for every source but telemetry.
    pub fn message_type(&self) -> Option<&str> {
        self.str_field("messageType")
    }

    /// Whether the message type is one IoT Central documents for this source.
    pub fn has_known_type(&self) -> bool {
        self.message_type()
            .is_some_and(|t| self.source.known_types().contains(&t))
    }

    /// `deviceId`; absent on device template lifecycle and audit messages.
    pub fn device_id(&self) -> Option<&str> {
        self.str_field("deviceId")
    }

    /// `templateId` (the device template's id).
    pub fn template_id(&self) -> Option<&str> {
        self.str_field("templateId")
    }

    /// `applicationId`.
    pub fn application_id(&self) -> Option<&str> {
        self.str_field("applicationId")
    }

    /// `enqueuedTime` as IoT Central wrote it (ISO 8601 text).
    pub fn enqueued_time(&self) -> Option<&str> {
        self.str_field("enqueuedTime")
    }

    /// The `telemetry` object of a telemetry message.
    pub fn telemetry(&self) -> Option<&Map<String, Value>> {
        self.body.get("telemetry").and_then(Value::as_object)
    }

    /// The `properties` array of a property-change message.
    pub fn properties(&self) -> Option<&Vec<Value>> {
        self.body.get("properties").and_then(Value::as_array)
    }

    /// The whole body as a JSON object value, including fields this version does not model:
    /// this is what transforms and predicates see as `@` and `$`.
    pub fn value(&self) -> &Value {
        &self.body
    }

    fn str_field(&self, key: &str) -> Option<&str> {
        self.body.get(key).and_then(Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for s in MessageSource::KNOWN {
            assert_eq!(MessageSource::from_wire(s.as_str()), s);
            assert!(s.is_known());
        }
        let other = MessageSource::from_wire("somethingNew");
        assert_eq!(other, MessageSource::Other("somethingNew".into()));
        assert_eq!(other.as_str(), "somethingNew");
        assert!(!other.is_known());
    }

    #[test]
    fn known_types_cover_the_documentation() {
        let all = MessageSource::all_known_types();
        for t in [
            "cloudPropertyChange",
            "connected",
            "deviceTemplateChanged",
            "updated",
        ] {
            assert!(all.contains(&t), "{t}");
        }
        assert_eq!(all.iter().filter(|t| **t == "deleted").count(), 1);
    }
}
