//! A Microsoft Teams message: `{"type":"message","attachments":[{Adaptive Card}]}` as Teams
//! incoming webhooks and workflows take it. The card holds a title, the window, and the rows
//! as an Adaptive Card `Table` (a single row as a `FactSet`); rows are dropped until the
//! payload fits Teams' limit of about 28 KB, and the card says how many were left out.

use crate::report::message::{Message, MessageKind};
use serde_json::{json, Value};

/// Teams refuses larger payloads.
const MAX_PAYLOAD: usize = 27 * 1024;

/// The Teams payload for `m`, with at most `max_rows` rows.
pub fn render(m: &Message, max_rows: usize) -> Value {
    let mut shown = m.rows.len().min(max_rows);
    loop {
        let payload = card(m, shown);
        if shown == 0 || payload.to_string().len() <= MAX_PAYLOAD {
            return payload;
        }
        shown /= 2;
    }
}

fn card(m: &Message, shown: usize) -> Value {
    let colour = match m.kind {
        MessageKind::Firing => "attention",
        MessageKind::Resolved => "good",
        _ => "default",
    };
    let mut body = vec![
        json!({"type": "TextBlock", "text": m.title(), "weight": "bolder", "size": "medium",
               "color": colour, "wrap": true}),
        json!({"type": "TextBlock", "text": m.window_text(), "isSubtle": true, "spacing": "none",
               "wrap": true}),
    ];
    if let Some(d) = &m.description {
        body.push(json!({"type": "TextBlock", "text": d, "wrap": true}));
    }
    if m.rows.len() == 1 && shown == 1 {
        let facts: Vec<Value> = m
            .columns
            .iter()
            .zip(&m.rows[0])
            .map(|(c, v)| json!({"title": c.name, "value": Message::cell(v)}))
            .collect();
        body.push(json!({"type": "FactSet", "facts": facts}));
    } else if shown > 0 {
        body.push(table(m, shown));
    }
    if shown < m.rows.len() {
        body.push(json!({"type": "TextBlock", "isSubtle": true, "wrap": true,
            "text": format!("{} more rows not shown", m.rows.len() - shown)}));
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.5",
                "body": body,
            }
        }]
    })
}

fn table(m: &Message, shown: usize) -> Value {
    let cell = |text: String, bold: bool| {
        json!({"type": "TableCell", "items": [{"type": "TextBlock", "text": text, "wrap": true,
               "weight": if bold { "bolder" } else { "default" }}]})
    };
    let header = json!({"type": "TableRow",
        "cells": m.columns.iter().map(|c| cell(c.name.clone(), true)).collect::<Vec<_>>()});
    let mut rows = vec![header];
    rows.extend(m.rows[..shown].iter().map(|r| {
        json!({"type": "TableRow",
               "cells": r.iter().map(|v| cell(Message::cell(v), false)).collect::<Vec<_>>()})
    }));
    json!({"type": "Table", "firstRowAsHeader": true,
           "columns": m.columns.iter().map(|_| json!({"width": 1})).collect::<Vec<_>>(),
           "rows": rows})
}
