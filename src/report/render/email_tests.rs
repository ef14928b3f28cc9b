//! What an e-mail is composed of, without a mail server: bodies by `body`, the table's cut
//! note, escaping, nulls, a custom template, subjects and per-row addresses.

use super::email::compose;
use crate::report::mail_settings::{AttachKind, EmailBody, EmailSettings, Importance};
use crate::report::message::{Message, MessageKind};
use crate::report::query::Window;
use crate::report::result::ResultColumn;
use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};
use std::path::PathBuf;

fn message(rows: Vec<Vec<Value>>, render: Option<&str>) -> Message {
    Message {
        report: "r".into(),
        description: Some("Temperatures <per> site".into()),
        kind: MessageKind::Result,
        run_id: "run-1".into(),
        window: Window {
            start: Utc.with_ymd_and_hms(2026, 12, 3, 8, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap(),
        },
        columns: vec![
            ResultColumn {
                name: "Site".into(),
                r#type: "string".into(),
            },
            ResultColumn {
                name: "Temp".into(),
                r#type: "real".into(),
            },
        ],
        rows,
        alert_key: None,
        visualization: render.map(|k| json!({"Visualization": k})),
    }
}

fn settings() -> EmailSettings {
    EmailSettings {
        to: vec!["ops@example.com".into()],
        cc: Vec::new(),
        bcc: Vec::new(),
        subject: None,
        importance: Importance::Normal,
        body: EmailBody::Auto,
        charts: Vec::new(),
        attach: vec![AttachKind::Csv],
        max_rows: 100,
        template: None,
        attempts: 1,
    }
}

fn rows(n: usize) -> Vec<Vec<Value>> {
    (0..n)
        .map(|i| vec![json!(format!("s{i}")), json!(20.5 + i as f64)])
        .collect()
}

#[test]
fn a_result_without_a_chart_is_a_table_cut_with_a_note() {
    let mut s = settings();
    s.max_rows = 3;
    let c = compose(&message(rows(5), None), &s, Tz::UTC).unwrap();
    assert_eq!(c.subject, "r: 5 rows");
    assert!(c.inline.is_empty());
    assert_eq!(c.html.matches("<tr>").count(), 4, "a header and 3 rows");
    assert!(
        c.html
            .contains("2 more rows not shown: the attached CSV has all 5."),
        "{}",
        c.html
    );
    assert!(c.html.contains("Temperatures &lt;per&gt; site"), "escaped");
    assert!(c.text.contains("(2 more rows not shown)"), "{}", c.text);
    assert_eq!(c.attachments[0].name, "r.csv");
    assert_eq!(
        String::from_utf8(c.attachments[0].bytes.clone())
            .unwrap()
            .lines()
            .count(),
        6
    );
}

#[test]
fn a_rendered_chart_replaces_the_table_unless_both_are_asked_for() {
    let m = message(rows(3), Some("columnchart"));
    let c = compose(&m, &settings(), Tz::UTC).unwrap();
    assert_eq!(c.inline.len(), 1);
    assert!(c.html.contains("cid:r-columnchart@iotc-adx") && !c.html.contains("<th"));
    let mut s = settings();
    s.body = EmailBody::Both;
    let c = compose(&m, &s, Tz::UTC).unwrap();
    assert!(c.html.contains("cid:r-columnchart@iotc-adx") && c.html.contains("<th"));
    s.body = EmailBody::Table;
    s.attach = vec![AttachKind::Png];
    let c = compose(&m, &s, Tz::UTC).unwrap();
    assert!(c.inline.is_empty() && !c.html.contains("cid:"));
    assert_eq!(
        c.attachments[0].name, "r-columnchart.png",
        "the chart is still attached"
    );
}

#[test]
fn nulls_are_empty_and_numbers_grouped() {
    let c = compose(
        &message(
            vec![
                vec![json!("a"), Value::Null],
                vec![json!("b"), json!(1234.5)],
            ],
            None,
        ),
        &settings(),
        Tz::UTC,
    )
    .unwrap();
    assert!(
        c.html
            .contains("text-align:right;white-space:nowrap\"></td>"),
        "{}",
        c.html
    );
    assert!(c.html.contains(">1,234.5<"), "{}", c.html);
}

#[test]
fn a_custom_template_gets_the_context_and_the_table() {
    let mut s = settings();
    s.template = Some((
        PathBuf::from("t.html"),
        "<h1>{{ report }} at {{ scheduled }}</h1>{% for r in rows %}<i>{{ r.Site }}</i>{% endfor %}{{ table }}".into(),
    ));
    let berlin: Tz = "Europe/Berlin".parse().unwrap();
    let c = compose(&message(rows(2), None), &s, berlin).unwrap();
    assert!(
        c.html
            .starts_with("<h1>r at 2026-12-03 10:00</h1><i>s0</i><i>s1</i><table"),
        "{}",
        c.html
    );
}

#[test]
fn subjects_and_addresses_are_templates_over_the_row() {
    let mut s = settings();
    s.to = vec!["{{ row.Site }}@example.com, lead@example.com".into()];
    s.subject = Some("{{ row.Site }} at {{ row.Temp }}".into());
    let mut m = message(rows(1), None);
    m.kind = MessageKind::Row;
    let c = compose(&m, &s, Tz::UTC).unwrap();
    assert_eq!(c.to, ["s0@example.com", "lead@example.com"]);
    assert_eq!(c.subject, "s0 at 20.5");
    s.subject = Some("{{ broken".into());
    let e = compose(&m, &s, Tz::UTC).unwrap_err();
    assert!(e.to_string().contains("subject template"), "{e}");
}
