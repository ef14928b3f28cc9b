//! A Slack message for incoming webhooks: `text` (the notification line) and `blocks` (a
//! header, the window, the rows as a fixed-width table). A section's text is limited to
//! 3,000 characters: rows are dropped to fit and the message says how many.

use crate::report::message::Message;
use serde_json::{json, Value};

/// Slack's limit on a section's text.
const MAX_SECTION: usize = 3000;

/// The Slack payload for `m`, with at most `max_rows` rows.
pub fn render(m: &Message, max_rows: usize) -> Value {
    let mut shown = m.rows.len().min(max_rows);
    let mut text = table(m, shown);
    while shown > 0 && text.len() > MAX_SECTION {
        shown -= 1;
        text = table(m, shown);
    }
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&m.title(), 150)}}),
        json!({"type": "context", "elements": [{"type": "mrkdwn", "text": m.window_text()}]}),
    ];
    if let Some(d) = &m.description {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(d, MAX_SECTION)}}));
    }
    if shown > 0 {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": text}}));
    }
    if shown < m.rows.len() {
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn",
            "text": format!("{} more rows not shown", m.rows.len() - shown)}]}));
    }
    json!({"text": m.title(), "blocks": blocks})
}

/// The first `shown` rows as a code block with padded columns.
fn table(m: &Message, shown: usize) -> String {
    let mut grid: Vec<Vec<String>> = vec![m.columns.iter().map(|c| c.name.clone()).collect()];
    grid.extend(
        m.rows[..shown]
            .iter()
            .map(|r| r.iter().map(|v| truncate(&Message::cell(v), 60)).collect()),
    );
    let widths: Vec<usize> = (0..m.columns.len())
        .map(|i| {
            grid.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let lines: Vec<String> = grid
        .iter()
        .map(|r| {
            r.iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        })
        .collect();
    format!("```\n{}\n```", lines.join("\n"))
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}
