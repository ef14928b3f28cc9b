//! The messages of a run: the base every message starts from, one with every row (or one
//! per row with `for_each_row`), and the firing and resolved messages of alerts. Shared by
//! runs and by `report preview`.

use super::alert;
use super::message::{Message, MessageKind};
use super::query::Window;
use super::result::ReportResult;
use super::settings::ReportSettings;

/// A message of `result` with no rows yet.
pub fn base(report: &ReportSettings, result: &ReportResult, window: Window, id: &str) -> Message {
    Message {
        report: report.name.clone(),
        description: report.description.clone(),
        kind: MessageKind::Result,
        run_id: id.to_string(),
        window,
        columns: result.columns.clone(),
        rows: Vec::new(),
        alert_key: None,
        visualization: result.visualization.clone(),
    }
}

/// One message with every row, or one per row with `for_each_row`.
pub fn plain(report: &ReportSettings, result: &ReportResult, base: Message) -> Vec<Message> {
    if !report.for_each_row {
        return vec![Message {
            rows: result.rows.clone(),
            ..base
        }];
    }
    result
        .rows
        .iter()
        .map(|r| Message {
            kind: MessageKind::Row,
            rows: vec![r.clone()],
            ..base.clone()
        })
        .collect()
}

/// Firing and resolved messages: one per alert with `for_each_row`, else one of each kind.
pub fn alerts(each: bool, changes: alert::AlertChanges, base: Message) -> Vec<Message> {
    let mut out = Vec::new();
    let message = |kind, key: String, rows: Vec<Vec<serde_json::Value>>| Message {
        kind,
        alert_key: Some(key),
        rows,
        ..base.clone()
    };
    if each {
        for (key, row) in changes.fired {
            out.push(message(MessageKind::Firing, key, row.into_iter().collect()));
        }
        for key in changes.resolved {
            out.push(message(MessageKind::Resolved, key, Vec::new()));
        }
        return out;
    }
    if !changes.fired.is_empty() {
        let keys: Vec<String> = changes.fired.iter().map(|(k, _)| k.clone()).collect();
        let rows = changes.fired.into_iter().filter_map(|(_, r)| r).collect();
        out.push(message(MessageKind::Firing, keys.join(", "), rows));
    }
    if !changes.resolved.is_empty() {
        out.push(message(
            MessageKind::Resolved,
            changes.resolved.join(", "),
            Vec::new(),
        ));
    }
    out
}
