//! Request/response plumbing shared by `$cbs` and `$management`: reading application
//! properties, and building replies (status code, description, correlation id).

use fe2o3_amqp_types::messaging::{
    AmqpValue, ApplicationProperties, Body, Message, MessageId, Properties,
};
use fe2o3_amqp_types::primitives::{OrderedMap, SimpleValue, Value};

/// A request or reply message.
pub(crate) type Msg = Message<Body<Value>>;

/// An application property as a string.
pub(crate) fn prop_str(m: &Msg, key: &str) -> Option<String> {
    match m.application_properties.as_ref()?.0.get(key)? {
        SimpleValue::String(s) => Some(s.clone()),
        SimpleValue::Symbol(s) => Some(s.0.clone()),
        _ => None,
    }
}

/// The body as a string (amqp-value string, or UTF-8 data).
pub(crate) fn body_str(m: &Msg) -> Option<String> {
    match &m.body {
        Body::Value(AmqpValue(Value::String(s))) => Some(s.clone()),
        Body::Value(AmqpValue(Value::Symbol(s))) => Some(s.0.clone()),
        Body::Data(d) => d
            .iter()
            .next()
            .map(|d| String::from_utf8_lossy(&d.0).into_owned()),
        _ => None,
    }
}

/// The node a request wants its reply on.
pub(crate) fn reply_to(m: &Msg) -> Option<String> {
    m.properties.as_ref()?.reply_to.clone()
}

/// A reply to `request` with `status` and `body`.
pub(crate) fn reply(request: &Msg, status: i32, description: &str, body: Value) -> Msg {
    let correlation: Option<MessageId> = request
        .properties
        .as_ref()
        .and_then(|p| p.message_id.clone().or_else(|| p.correlation_id.clone()));
    let mut props = OrderedMap::new();
    props.insert("status-code".to_string(), SimpleValue::Int(status));
    props.insert(
        "status-description".to_string(),
        SimpleValue::String(description.to_string()),
    );
    Message {
        header: None,
        delivery_annotations: None,
        message_annotations: None,
        properties: Some(Properties {
            correlation_id: correlation,
            to: reply_to(request),
            ..Default::default()
        }),
        application_properties: Some(ApplicationProperties(props)),
        body: Body::Value(AmqpValue(body)),
        footer: None,
    }
}
