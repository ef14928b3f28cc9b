//! What a delivery carries, before any format: the report, why it is sent (a result, one
//! row, an alert firing or resolved), the scheduled time and window, and the rows. Every
//! renderer (JSON, Teams, Slack; HTML and charts next) starts from a [`Message`].

use super::query::Window;
use super::result::ResultColumn;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

/// Why a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// The run's result (one message per run).
    Result,
    /// One row of the result (`for_each_row`).
    Row,
    /// An alert started firing.
    Firing,
    /// An alert stopped firing.
    Resolved,
}

impl MessageKind {
    /// The word in JSON payloads.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Result => "result",
            MessageKind::Row => "row",
            MessageKind::Firing => "firing",
            MessageKind::Resolved => "resolved",
        }
    }
}

/// One message for every delivery of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The report's name.
    pub report: String,
    /// The report's description.
    pub description: Option<String>,
    /// Why it is sent.
    pub kind: MessageKind,
    /// The run's id (also the Data Explorer client request id's prefix).
    pub run_id: String,
    /// The run's window; `end` is the scheduled time.
    pub window: Window,
    /// The result's columns.
    pub columns: Vec<ResultColumn>,
    /// The rows this message is about (all, one, the newly firing ones, or none).
    pub rows: Vec<Vec<Value>>,
    /// The alert's key, for alert messages with a key.
    pub alert_key: Option<String>,
    /// The query's `render` annotation.
    pub visualization: Option<Value>,
}

impl Message {
    /// A one-line title: `[FIRING] silent-devices: dev-7`, `hourly-summary: 12 rows`.
    pub fn title(&self) -> String {
        let key = self.alert_key.as_deref().filter(|k| !k.is_empty());
        match (self.kind, key) {
            (MessageKind::Firing, Some(k)) => format!("[FIRING] {}: {k}", self.report),
            (MessageKind::Firing, None) => format!("[FIRING] {}", self.report),
            (MessageKind::Resolved, Some(k)) => format!("[RESOLVED] {}: {k}", self.report),
            (MessageKind::Resolved, None) => format!("[RESOLVED] {}", self.report),
            (MessageKind::Row, _) => format!("{}: one row", self.report),
            (MessageKind::Result, _) => {
                let n = self.rows.len();
                format!("{}: {n} row{}", self.report, if n == 1 { "" } else { "s" })
            }
        }
    }

    /// `2026-12-03T09:00:00Z – 2026-12-03T10:00:00Z`.
    pub fn window_text(&self) -> String {
        format!(
            "{} – {}",
            rfc3339(self.window.start),
            rfc3339(self.window.end)
        )
    }

    /// A cell as text: strings bare, null empty, others as JSON.
    pub fn cell(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }
}

/// RFC 3339 in UTC with `Z`.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}
