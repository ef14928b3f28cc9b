//! Reports by e-mail against a real SMTP server (aiosmtpd from the testkit's venv) and the
//! Data Explorer emulator: the received MIME is parsed and its parts, inline chart,
//! attachments, headers and envelope checked; STARTTLS with sign-in, TLS, per-row
//! recipients, a transient refusal retried, a wrong password failing the run.

use chrono::{Duration as Age, TimeZone, Utc};
use iotc_adx::report::{RunStatus, Trigger};
use iotc_adx_testkit::smtp::{ReceivedMail, SmtpOptions, SmtpServer, SmtpTls};
use mailparse::{parse_mail, MailHeaderMap, ParsedMail};
use std::time::Duration;

mod report_support;
use report_support::{add, emulator, runner_with_env};

async fn smtp(opts: SmtpOptions) -> SmtpServer {
    tokio::task::spawn_blocking(move || SmtpServer::start(opts))
        .await
        .unwrap()
        .unwrap()
}

/// `[reports]` against `k` with `[reports.smtp]` pointing at `server` (`extra` smtp keys).
fn config(k_url: &str, server: &SmtpServer, security: &str, extra: &str, reports: &str) -> String {
    format!(
        "[auth]\ntype = \"none\"\n[reports]\ncluster = \"{k_url}\"\ndatabase = \"iot\"\nhistory.path = \"reports.db\"\n\
         [reports.smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"{security}\"\nfrom = \"IoT reports <reports@example.com>\"\ntimeout = \"10s\"\n{extra}\n{reports}",
        server.port()
    )
}

/// The leaf parts of a message, depth first: (content type, the part).
fn leaves<'a>(m: &'a ParsedMail<'a>, out: &mut Vec<(String, &'a ParsedMail<'a>)>) {
    if m.subparts.is_empty() {
        out.push((m.ctype.mimetype.clone(), m));
    }
    for p in &m.subparts {
        leaves(p, out);
    }
}

fn shape(m: &ParsedMail<'_>) -> String {
    if m.subparts.is_empty() {
        m.ctype.mimetype.clone()
    } else {
        let inner: Vec<String> = m.subparts.iter().map(shape).collect();
        format!("{}[{}]", m.ctype.mimetype, inner.join(", "))
    }
}

fn one(mails: &[ReceivedMail]) -> &ReceivedMail {
    assert_eq!(mails.len(), 1, "one e-mail");
    &mails[0]
}

#[tokio::test]
async fn a_report_arrives_with_its_chart_inline_and_the_result_attached() {
    let k = emulator().await;
    let base = Utc.with_ymd_and_hms(2026, 12, 3, 8, 0, 0).unwrap();
    for h in 0..4 {
        let t = base + Age::hours(h);
        add(&k, &[("d1", t, 10 + h), ("d2", t, 20 - h), ("d2", t, 1)]);
    }
    let server = smtp(SmtpOptions {
        tls: SmtpTls::StartTls,
        login: Some(("reports".into(), "s3cret".into())),
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), server.ca_pem().unwrap()).unwrap();
    let text = config(
        k.url(),
        &server,
        "starttls",
        "username = \"reports\"\npassword_env = \"SMTP_PASSWORD\"\nca_file = \"ca.pem\"",
        "[[report]]\nname = \"hourly\"\ntime_zone = \"Europe/Berlin\"\n\
         query = \"T | summarize n = sum(n) by dev, bin(ts, 1h) | order by ts asc | render timechart with (title = 'Messages per hour')\"\n\
         [[report.email]]\nto = [\"ops@example.com\"]\ncc = [\"lead@example.com\"]\nbcc = [\"audit@example.com\"]\n\
         subject = \"{{ report }}: {{ row_count }} rows at {{ scheduled }}\"\nimportance = \"high\"\nbody = \"both\"\n\
         attach = [\"csv\", \"png\", \"svg\"]\n",
    );
    let env = vec![("SMTP_PASSWORD".to_string(), "s3cret".to_string())];
    let (runner, settings) = runner_with_env(&text, dir.path(), env);
    let at = base + Age::hours(4);
    let out = runner.run(&settings.reports[0], at, Trigger::Demand).await;
    assert_eq!(out.record.status, RunStatus::Succeeded, "{:?}", out.record);
    assert_eq!(out.record.delivered, 1);

    let mails = server.wait_for(1, Duration::from_secs(10)).await;
    let mail = one(&mails);
    assert_eq!(mail.login.as_deref(), Some("reports"), "signed in");
    assert_eq!(mail.mail_from, "reports@example.com");
    let mut rcpt = mail.rcpt_tos.clone();
    rcpt.sort();
    assert_eq!(
        rcpt,
        ["audit@example.com", "lead@example.com", "ops@example.com"]
    );
    let parsed = parse_mail(&mail.data).unwrap();
    let h = &parsed.headers;
    assert_eq!(
        h.get_first_value("Subject").unwrap(),
        "hourly: 8 rows at 2026-12-03 13:00"
    );
    assert!(h.get_first_value("To").unwrap().contains("ops@example.com"));
    assert!(h
        .get_first_value("Cc")
        .unwrap()
        .contains("lead@example.com"));
    assert!(
        h.get_first_value("Bcc").is_none(),
        "blind copies stay blind"
    );
    assert_eq!(h.get_first_value("Importance").as_deref(), Some("high"));
    assert_eq!(
        shape(&parsed),
        "multipart/mixed[multipart/alternative[text/plain, multipart/related[text/html, image/png]], text/csv, image/png, image/svg+xml]"
    );
    let mut parts = Vec::new();
    leaves(&parsed, &mut parts);
    let html = parts[1].1.get_body().unwrap();
    let inline = parts[2].1;
    let cid = inline.headers.get_first_value("Content-ID").unwrap();
    assert_eq!(cid, "<hourly-timechart@iotc-adx>");
    assert!(
        html.contains("src=\"cid:hourly-timechart@iotc-adx\""),
        "{html}"
    );
    assert!(
        html.contains("Messages per hour"),
        "the chart's title is its alt text"
    );
    // The table: times in Berlin, numbers right-aligned, every row.
    assert!(html.contains(">2026-12-03 09:00<"), "{html}");
    assert!(html.contains("text-align:right"), "{html}");
    assert_eq!(html.matches("<tr>").count(), 9, "a header and 8 rows");
    let png = inline.get_body_raw().unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let text = parts[0].1.get_body().unwrap();
    assert!(text.contains("dev | ts | n"), "{text}");
    let csv = parts[3].1;
    assert_eq!(
        csv.get_content_disposition()
            .params
            .get("filename")
            .map(String::as_str),
        Some("hourly.csv")
    );
    let csv = String::from_utf8(csv.get_body_raw().unwrap()).unwrap();
    assert_eq!(csv.lines().count(), 9);
    assert!(csv.starts_with("dev,ts,n\n"), "{csv}");
    let svg = String::from_utf8(parts[5].1.get_body_raw().unwrap()).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Messages per hour"));
    let names: Vec<String> = parts[3..]
        .iter()
        .filter_map(|(_, p)| p.get_content_disposition().params.get("filename").cloned())
        .collect();
    assert_eq!(
        names,
        ["hourly.csv", "hourly-timechart.png", "hourly-timechart.svg"]
    );
    assert!(
        !format!("{settings:?}").contains("s3cret"),
        "the password is never shown"
    );
}

#[tokio::test]
async fn each_row_goes_to_the_address_in_its_row_over_tls() {
    let k = emulator().await;
    let server = smtp(SmtpOptions {
        tls: SmtpTls::Implicit,
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), server.ca_pem().unwrap()).unwrap();
    let text = config(
        k.url(),
        &server,
        "tls",
        "ca_file = \"ca.pem\"",
        "[[report]]\nname = \"owners\"\nfor_each_row = true\n\
         query = \"datatable(dev:string, owner:string, errors:long)['d1', 'ann@example.com', 3, 'd2', 'bo@example.com', 5]\"\n\
         [[report.email]]\nto = [\"{{ row.owner }}\"]\nsubject = \"{{ row.dev }} had {{ row.errors }} errors\"\nattach = []\n",
    );
    let (runner, settings) = runner_with_env(&text, dir.path(), Vec::new());
    let out = runner
        .run(&settings.reports[0], Utc::now(), Trigger::Demand)
        .await;
    assert_eq!(out.record.status, RunStatus::Succeeded, "{:?}", out.record);
    assert_eq!(out.record.delivered, 2);
    let mails = server.wait_for(2, Duration::from_secs(10)).await;
    let mut got: Vec<(String, String)> = mails
        .iter()
        .map(|m| {
            let p = parse_mail(&m.data).unwrap();
            (
                m.rcpt_tos.join(","),
                p.headers.get_first_value("Subject").unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("ann@example.com".to_string(), "d1 had 3 errors".to_string()),
            ("bo@example.com".to_string(), "d2 had 5 errors".to_string()),
        ]
    );
    let p = parse_mail(&mails[0].data).unwrap();
    assert_eq!(
        shape(&p),
        "multipart/mixed[multipart/alternative[text/plain, multipart/related[text/html]]]"
    );
}

#[tokio::test]
async fn a_transient_refusal_is_retried_and_a_wrong_password_fails_the_run() {
    let k = emulator().await;
    let flaky = smtp(SmtpOptions {
        fail_first: 1,
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let report = "[[report]]\nname = \"r\"\nquery = \"print n = 1\"\n[[report.email]]\nto = [\"ops@example.com\"]\n";
    let (runner, settings) = runner_with_env(
        &config(k.url(), &flaky, "none", "", report),
        dir.path(),
        Vec::new(),
    );
    let out = runner
        .run(&settings.reports[0], Utc::now(), Trigger::Demand)
        .await;
    assert_eq!(out.record.status, RunStatus::Succeeded, "{:?}", out.record);
    assert_eq!(flaky.wait_for(1, Duration::from_secs(10)).await.len(), 1);

    let locked = smtp(SmtpOptions {
        tls: SmtpTls::StartTls,
        login: Some(("reports".into(), "right".into())),
        ..Default::default()
    })
    .await;
    std::fs::write(dir.path().join("ca.pem"), locked.ca_pem().unwrap()).unwrap();
    let text = config(
        k.url(),
        &locked,
        "starttls",
        "username = \"reports\"\npassword = \"wrong-secret\"\nca_file = \"ca.pem\"",
        report,
    );
    let (runner, settings) = runner_with_env(&text, dir.path(), Vec::new());
    let out = runner
        .run(&settings.reports[0], Utc::now(), Trigger::Demand)
        .await;
    assert_eq!(out.record.status, RunStatus::Failed);
    assert_eq!(out.record.step.as_deref(), Some("deliver"));
    let error = out.record.error.unwrap();
    assert!(
        error.contains("535") && error.contains("1 attempt"),
        "{error}"
    );
    assert!(!error.contains("wrong-secret"), "{error}");
    assert!(locked.messages().is_empty());
}
