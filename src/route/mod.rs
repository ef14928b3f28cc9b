//! Route stage: decides which destinations a message feeds, the way IoT Central's export
//! filters do: by message source, message type, device template, device id, and an optional
//! JMESPath predicate for anything else (telemetry values, enrichments, properties, metadata).
//!
//! Every condition that is set must hold; an unset condition matches everything. One message
//! may feed several destinations.

pub mod settings;

use crate::decode::{Message, MessageSource};
use crate::transform::{is_truthy, EvalError, Expression};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde_json::Value;
use std::fmt;

/// Glob patterns (`*`, `?`, `[a-z]`, `{a,b}`) over ids; an empty list matches every id.
#[derive(Debug, Clone)]
pub struct Patterns {
    globs: Vec<String>,
    set: GlobSet,
}

/// A glob pattern that does not compile; `index` is its position in the list.
#[derive(Debug, Clone, thiserror::Error)]
#[error("pattern {pattern:?} is not a valid glob: {message}")]
pub struct PatternError {
    /// 0-based position in the list.
    pub index: usize,
    /// The pattern.
    pub pattern: String,
    /// Why it is invalid.
    pub message: String,
}

impl Patterns {
    /// Compiles a list of glob patterns.
    pub fn new(globs: &[String]) -> Result<Patterns, PatternError> {
        let mut builder = GlobSetBuilder::new();
        for (index, g) in globs.iter().enumerate() {
            let glob = Glob::new(g).map_err(|e| PatternError {
                index,
                pattern: g.clone(),
                message: e.kind().to_string(),
            })?;
            builder.add(glob);
        }
        let set = builder.build().map_err(|e| PatternError {
            index: 0,
            pattern: globs.join(", "),
            message: e.to_string(),
        })?;
        Ok(Patterns {
            globs: globs.to_vec(),
            set,
        })
    }

    /// Whether no pattern is set (everything matches).
    pub fn is_empty(&self) -> bool {
        self.globs.is_empty()
    }

    /// Whether `id` matches; a missing id matches only an empty list.
    pub fn matches(&self, id: Option<&str>) -> bool {
        self.globs.is_empty() || id.is_some_and(|id| self.set.is_match(id))
    }

    /// The patterns as written.
    pub fn globs(&self) -> &[String] {
        &self.globs
    }
}

/// The conditions a message must meet to feed a destination.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Accepted message sources; empty accepts all.
    pub sources: Vec<MessageSource>,
    /// Accepted message types; empty accepts all (telemetry has no type).
    pub types: Vec<String>,
    /// Accepted device template ids.
    pub templates: Option<Patterns>,
    /// Accepted device ids.
    pub devices: Option<Patterns>,
    /// A JMESPath expression over the message (`@`, `$`) and `$meta`; truthy = accept.
    pub predicate: Option<Expression>,
}

/// Why a filter did not accept a message; shown by the transform preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The message source is not in the list.
    Source(String),
    /// The message type is not in the list (or the message has none).
    Type(Option<String>),
    /// The template id matches no pattern (or the message has none).
    Template(Option<String>),
    /// The device id matches no pattern (or the message has none).
    Device(Option<String>),
    /// The predicate was falsy.
    Predicate,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or_none = |v: &Option<String>| {
            v.as_deref()
                .map_or("none".to_string(), |s| format!("'{s}'"))
        };
        match self {
            Rejection::Source(s) => write!(
                f,
                "message source '{s}' is not one of the filter's message_sources"
            ),
            Rejection::Type(t) => write!(
                f,
                "message type {} is not one of the filter's message_types",
                or_none(t)
            ),
            Rejection::Template(t) => write!(
                f,
                "template id {} matches none of the filter's template_ids",
                or_none(t)
            ),
            Rejection::Device(d) => write!(
                f,
                "device id {} matches none of the filter's device_ids",
                or_none(d)
            ),
            Rejection::Predicate => write!(f, "the filter's predicate is false for this message"),
        }
    }
}

impl Filter {
    /// Decides whether `message` feeds this destination; `meta` is the event's `$meta`.
    ///
    /// The cheap conditions run first; the predicate only when they all hold.
    pub fn check(
        &self,
        message: &Message,
        meta: &Value,
    ) -> Result<Result<(), Rejection>, EvalError> {
        if !self.sources.is_empty() && !self.sources.contains(message.source()) {
            return Ok(Err(Rejection::Source(message.source().to_string())));
        }
        if !self.types.is_empty()
            && !message
                .message_type()
                .is_some_and(|t| self.types.iter().any(|x| x == t))
        {
            return Ok(Err(Rejection::Type(
                message.message_type().map(str::to_string),
            )));
        }
        if let Some(p) = &self.templates {
            if !p.matches(message.template_id()) {
                return Ok(Err(Rejection::Template(
                    message.template_id().map(str::to_string),
                )));
            }
        }
        if let Some(p) = &self.devices {
            if !p.matches(message.device_id()) {
                return Ok(Err(Rejection::Device(
                    message.device_id().map(str::to_string),
                )));
            }
        }
        if let Some(predicate) = &self.predicate {
            let verdict = predicate.search_with(message.value(), &[("meta", meta)])?;
            if !is_truthy(&verdict) {
                return Ok(Err(Rejection::Predicate));
            }
        }
        Ok(Ok(()))
    }

    /// Whether the predicate reads `$meta`.
    pub fn uses_meta(&self) -> bool {
        self.predicate
            .as_ref()
            .is_some_and(crate::transform::uses_meta)
    }

    /// A one-line description of the filter, for `iotc-adx check`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.sources.is_empty() {
            let names: Vec<&str> = self.sources.iter().map(MessageSource::as_str).collect();
            parts.push(format!("message source in [{}]", names.join(", ")));
        }
        if !self.types.is_empty() {
            parts.push(format!("message type in [{}]", self.types.join(", ")));
        }
        if let Some(p) = &self.templates {
            parts.push(format!("template id like [{}]", p.globs().join(", ")));
        }
        if let Some(p) = &self.devices {
            parts.push(format!("device id like [{}]", p.globs().join(", ")));
        }
        if let Some(p) = &self.predicate {
            parts.push(format!("predicate `{}`", p.as_str().trim()));
        }
        if parts.is_empty() {
            "every message".to_string()
        } else {
            parts.join(" and ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;
    use serde_json::json;

    fn msg(v: Value) -> Message {
        decode(v.to_string().as_bytes()).unwrap()
    }

    fn telemetry() -> Message {
        msg(
            json!({"messageSource": "telemetry", "deviceId": "vitals-01", "templateId": "urn:vitals:1",
                   "telemetry": {"HeartRate": 120}, "enrichments": {"site": "north"}}),
        )
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn empty_filter_takes_everything() {
        assert_eq!(
            Filter::default().check(&telemetry(), &Value::Null).unwrap(),
            Ok(())
        );
        assert_eq!(Filter::default().describe(), "every message");
    }

    #[test]
    fn each_condition_rejects_with_a_reason() {
        let m = telemetry();
        let f = Filter {
            sources: vec![MessageSource::Properties],
            ..Filter::default()
        };
        assert_eq!(
            f.check(&m, &Value::Null).unwrap(),
            Err(Rejection::Source("telemetry".into()))
        );
        let f = Filter {
            types: strings(&["connected"]),
            ..Filter::default()
        };
        assert_eq!(
            f.check(&m, &Value::Null).unwrap(),
            Err(Rejection::Type(None))
        );
        let f = Filter {
            templates: Some(Patterns::new(&strings(&["urn:knee:*"])).unwrap()),
            ..Filter::default()
        };
        assert!(matches!(
            f.check(&m, &Value::Null).unwrap(),
            Err(Rejection::Template(Some(_)))
        ));
        let f = Filter {
            devices: Some(Patterns::new(&strings(&["vitals-0?", "x*"])).unwrap()),
            ..Filter::default()
        };
        assert_eq!(f.check(&m, &Value::Null).unwrap(), Ok(()));
        let f = Filter {
            devices: Some(Patterns::new(&strings(&["vitals-1?", "knee-*"])).unwrap()),
            ..Filter::default()
        };
        assert_eq!(
            f.check(&m, &Value::Null).unwrap(),
            Err(Rejection::Device(Some("vitals-01".into())))
        );
    }

    #[test]
    fn combined_conditions_must_all_hold() {
        let m = telemetry();
        let all = || Filter {
            sources: vec![MessageSource::Telemetry, MessageSource::Properties],
            templates: Some(Patterns::new(&strings(&["urn:vitals:*"])).unwrap()),
            devices: Some(Patterns::new(&strings(&["vitals-*"])).unwrap()),
            predicate: Some(Expression::compile("telemetry.HeartRate > `100`").unwrap()),
            ..Filter::default()
        };
        assert_eq!(all().check(&m, &Value::Null).unwrap(), Ok(()));
        // Each condition alone turns the answer, with its own reason.
        let f = Filter {
            sources: vec![MessageSource::Properties],
            ..all()
        };
        assert_eq!(
            f.check(&m, &Value::Null).unwrap(),
            Err(Rejection::Source("telemetry".into()))
        );
        let f = Filter {
            devices: Some(Patterns::new(&strings(&["knee-*"])).unwrap()),
            ..all()
        };
        assert_eq!(
            f.check(&m, &Value::Null).unwrap(),
            Err(Rejection::Device(Some("vitals-01".into())))
        );
        let f = Filter {
            predicate: Some(Expression::compile("telemetry.HeartRate > `130`").unwrap()),
            ..all()
        };
        assert_eq!(
            f.check(&m, &Value::Null).unwrap(),
            Err(Rejection::Predicate)
        );
        let f = Filter {
            templates: Some(Patterns::new(&strings(&["urn:knee:*"])).unwrap()),
            ..all()
        };
        assert!(matches!(
            f.check(&m, &Value::Null).unwrap(),
            Err(Rejection::Template(Some(_)))
        ));
    }

    #[test]
    fn predicate_sees_message_and_meta() {
        let f = Filter {
            predicate: Some(
                Expression::compile("telemetry.HeartRate > `100` && $meta.partition == '1'")
                    .unwrap(),
            ),
            ..Filter::default()
        };
        assert_eq!(
            f.check(&telemetry(), &json!({"partition": "1"})).unwrap(),
            Ok(())
        );
        assert_eq!(
            f.check(&telemetry(), &json!({"partition": "2"})).unwrap(),
            Err(Rejection::Predicate)
        );
    }

    #[test]
    fn device_patterns_need_a_device() {
        let template_msg =
            msg(json!({"messageSource": "deviceTemplateLifecycle", "messageType": "created"}));
        let f = Filter {
            devices: Some(Patterns::new(&strings(&["*"])).unwrap()),
            ..Filter::default()
        };
        assert_eq!(
            f.check(&template_msg, &Value::Null).unwrap(),
            Err(Rejection::Device(None))
        );
    }

    #[test]
    fn bad_globs_name_their_position() {
        let e = Patterns::new(&strings(&["ok", "bad[", "x"])).unwrap_err();
        assert_eq!(e.index, 1);
        assert!(e.to_string().contains("\"bad[\""), "{e}");
    }
}
