//! What a dead letter holds: the failed stage, the reason, the event's metadata and its exact
//! bytes (or the refused rows), as written to the store and read back by `replay`.

use crate::checkpoint::Span;
use crate::event::{EventMeta, SourceEvent};
use base64::Engine;
use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The pipeline stage at which a message failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The body is not a usable IoT Central message.
    Decode,
    /// A destination's filter predicate failed to evaluate.
    Route,
    /// A destination's transform failed to evaluate.
    Transform,
    /// The transform's output does not fit the table's columns.
    Coerce,
    /// Data Explorer refused the data permanently.
    Ingest,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 5] = [
        Stage::Decode,
        Stage::Route,
        Stage::Transform,
        Stage::Coerce,
        Stage::Ingest,
    ];

    /// The stage named `name` (as written in dead letters), if any.
    pub fn from_name(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The stage's name as written in dead letters and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Decode => "decode",
            Stage::Route => "route",
            Stage::Transform => "transform",
            Stage::Coerce => "coerce",
            Stage::Ingest => "ingest",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One dead letter, as written to the store (one JSON object per line) and read back by
/// `iotc-adx replay`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// When it was dead-lettered (UTC, RFC 3339).
    pub time: String,
    /// Where it failed.
    pub stage: Stage,
    /// Why, in words.
    pub reason: String,
    /// The kind of problem, a short fixed name (`invalid_json`, `bad_value`, `rejected`, ...)
    /// as in the `iotc_adx_dead_letters_total` metric; empty in letters written before it
    /// was recorded.
    #[serde(default)]
    pub kind: String,
    /// The destination concerned, for failures after decoding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// The event's metadata (for a message's failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventMeta>,
    /// The events whose rows were refused (for an ingestion failure).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Span>,
    /// The refused rows as multijson text (for an ingestion failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<String>,
    /// Where the refused rows are kept, when not in `rows` (a queued ingestion's blob).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    /// The body as text, when it is UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The body in base64, when it is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
}

impl DeadLetter {
    /// Builds a dead letter for `event`, keeping its body byte for byte.
    pub fn new(
        event: &SourceEvent,
        stage: Stage,
        kind: &str,
        reason: String,
        destination: Option<String>,
    ) -> Self {
        let (body, body_base64) = match std::str::from_utf8(&event.body) {
            Ok(text) => (Some(text.to_string()), None),
            Err(_) => (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(&event.body)),
            ),
        };
        DeadLetter {
            time: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            stage,
            reason,
            kind: kind.to_string(),
            destination,
            event: Some(event.meta.clone()),
            events: Vec::new(),
            rows: None,
            blob: None,
            body,
            body_base64,
        }
    }

    /// Builds a dead letter for a queued ingestion that failed after it was accepted: with
    /// its rows when the blob could be read, and the blob's name in any case.
    pub fn for_late_failure(
        reason: String,
        destination: String,
        events: Vec<Span>,
        blob: Option<String>,
        rows: Option<&[u8]>,
    ) -> Self {
        let rows = rows.map(|r| String::from_utf8_lossy(r).into_owned());
        Self::ingest(
            "failed_after_queueing",
            reason,
            destination,
            events,
            rows,
            blob,
        )
    }

    /// Builds a dead letter for rows Data Explorer refused, with the events they came from.
    /// The rows are ready to ingest again once the cause is fixed.
    pub fn for_rows(
        reason: String,
        destination: String,
        events: Vec<Span>,
        payload: &[u8],
    ) -> Self {
        Self::ingest(
            "rejected",
            reason,
            destination,
            events,
            Some(String::from_utf8_lossy(payload).into_owned()),
            None,
        )
    }

    fn ingest(
        kind: &str,
        reason: String,
        destination: String,
        events: Vec<Span>,
        rows: Option<String>,
        blob: Option<String>,
    ) -> Self {
        DeadLetter {
            time: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            stage: Stage::Ingest,
            reason,
            kind: kind.to_string(),
            destination: Some(destination),
            event: None,
            events,
            rows,
            blob,
            body: None,
            body_base64: None,
        }
    }
}
