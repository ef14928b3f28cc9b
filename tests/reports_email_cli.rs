//! The e-mail example as a user meets it: sample telemetry through the pipeline into the Data
//! Explorer emulator, then `report run` of `examples/reports-email.toml`'s four reports (a
//! time chart, a pie, bars and columns, a table) to a real SMTP server, each e-mail checked
//! part by part; and `report preview` writing the same e-mail to files.
#![cfg(unix)]

mod support;

use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions};
use iotc_adx_testkit::smtp::{SmtpOptions, SmtpServer};
use mailparse::{parse_mail, MailHeaderMap, ParsedMail};
use std::path::Path;
use std::time::Duration;
use support::cli::{cli, text};

/// examples/reports-email.toml and its queries copied into `dir`, pointed at `cluster` and
/// the SMTP server's `port`.
fn example(dir: &Path, cluster: &str, port: u16) -> String {
    let root = support::repo().join("examples");
    let text = std::fs::read_to_string(root.join("reports-email.toml"))
        .unwrap()
        .replace("http://127.0.0.1:8080", cluster)
        .replace("port = 2525", &format!("port = {port}"));
    std::fs::create_dir_all(dir.join("reports")).unwrap();
    for entry in std::fs::read_dir(root.join("reports")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join("reports").join(path.file_name().unwrap())).unwrap();
    }
    let path = dir.join("reports-email.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn shape(m: &ParsedMail<'_>) -> String {
    if m.subparts.is_empty() {
        m.ctype.mimetype.clone()
    } else {
        let inner: Vec<String> = m.subparts.iter().map(shape).collect();
        format!("{}[{}]", m.ctype.mimetype, inner.join(", "))
    }
}

fn leaves<'a>(m: &'a ParsedMail<'a>, out: &mut Vec<&'a ParsedMail<'a>>) {
    if m.subparts.is_empty() {
        out.push(m);
    }
    for p in &m.subparts {
        leaves(p, out);
    }
}

/// The HTML with the run's id replaced, so a sent e-mail and its preview compare equal.
fn without_run_id(html: &str) -> String {
    match html.rfind(", run ") {
        Some(i) => {
            let end = html[i..].find('<').map_or(html.len(), |e| i + e);
            format!("{}, run RUN{}", &html[..i], &html[end..])
        }
        None => html.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_chart_kind_arrives_by_email_and_preview_writes_the_same() {
    let k = KustoEmulator::start(KustoOptions {
        databases: vec!["iot".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let server = tokio::task::spawn_blocking(|| SmtpServer::start(SmtpOptions::default()))
        .await
        .unwrap()
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let env = [
        ("IOTC_ADX__SINK__CLUSTER", k.url()),
        ("IOTC_ADX__DEAD_LETTER__PATH", out.path().to_str().unwrap()),
    ];
    let p = cli(&["provision", "--config", "examples/kusto.toml"], &env).await;
    assert!(p.status.success(), "{}", text(&p));
    let r = cli(&["run", "--config", "examples/kusto.toml"], &env).await;
    assert!(r.status.success(), "{}", text(&r));
    let config = example(out.path(), k.url(), server.port());
    let names = [
        "heart-rate",
        "readings-by-device",
        "readings-by-capability",
        "hourly-table",
    ];
    for name in names {
        let args = [
            "report",
            "run",
            "--config",
            &config,
            name,
            "--at",
            "2026-11-21T09:00:00Z",
        ];
        let run = cli(&args, &[]).await;
        assert!(run.status.success(), "{name}: {}", text(&run));
    }
    let mails = server.wait_for(4, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 4);
    let parsed: Vec<ParsedMail<'_>> = mails.iter().map(|m| parse_mail(&m.data).unwrap()).collect();
    let subject = |i: usize| parsed[i].headers.get_first_value("Subject").unwrap();

    // A time chart inline, the rows and the chart attached.
    assert_eq!(subject(0), "Heart rate, hour to 2026-11-21 10:00");
    assert_eq!(
        shape(&parsed[0]),
        "multipart/mixed[multipart/alternative[text/plain, multipart/related[text/html, image/png]], text/csv, image/png]"
    );
    // A pie (the query's render), the rows attached.
    assert_eq!(subject(1), "readings-by-device: 5 rows");
    assert_eq!(
        shape(&parsed[1]),
        "multipart/mixed[multipart/alternative[text/plain, multipart/related[text/html, image/png]], text/csv]"
    );
    // Two charts of one result in one e-mail.
    assert_eq!(
        shape(&parsed[2]),
        "multipart/mixed[multipart/alternative[text/plain, multipart/related[text/html, image/png, image/png]], text/csv]"
    );
    let mut parts = Vec::new();
    leaves(&parsed[2], &mut parts);
    let html = parts[1].get_body().unwrap();
    for cid in [
        "readings-by-capability-barchart@iotc-adx",
        "readings-by-capability-columnchart@iotc-adx",
    ] {
        assert!(html.contains(&format!("cid:{cid}")), "{html}");
    }
    // A table, marked important, with a copy.
    assert_eq!(
        parsed[3].headers.get_first_value("Importance").as_deref(),
        Some("high")
    );
    assert_eq!(mails[3].rcpt_tos, ["ops@example.com", "lead@example.com"]);
    let mut parts = Vec::new();
    leaves(&parsed[3], &mut parts);
    let table = parts[1].get_body().unwrap();
    assert!(
        !table.contains("cid:") && table.contains("<th") && table.contains("vitals-01"),
        "{table}"
    );

    // The preview of the first writes what was sent.
    let dir = out.path().join("preview");
    let args = [
        "report",
        "preview",
        "--config",
        &config,
        "heart-rate",
        "--at",
        "2026-11-21T09:00:00Z",
        "--out",
        dir.to_str().unwrap(),
    ];
    let preview = cli(&args, &[]).await;
    assert!(preview.status.success(), "{}", text(&preview));
    let email = dir.join("email-1");
    let mut sent = Vec::new();
    leaves(&parsed[0], &mut sent);
    let html = std::fs::read_to_string(email.join("email.html")).unwrap();
    // The transport only changes line ends.
    let sent_html = sent[1].get_body().unwrap().replace("\r\n", "\n");
    assert_eq!(without_run_id(&html), without_run_id(&sent_html));
    assert_eq!(
        std::fs::read(email.join("heart-rate-timechart.png")).unwrap(),
        sent[2].get_body_raw().unwrap()
    );
    assert_eq!(
        std::fs::read(email.join("attachments/heart-rate.csv")).unwrap(),
        sent[3].get_body_raw().unwrap()
    );
    assert_eq!(
        std::fs::read(email.join("attachments/heart-rate-timechart.png")).unwrap(),
        sent[4].get_body_raw().unwrap()
    );
    let headers = std::fs::read_to_string(email.join("headers.txt")).unwrap();
    assert!(
        headers.contains("Subject: Heart rate, hour to 2026-11-21 10:00"),
        "{headers}"
    );
    let eml = std::fs::read(email.join("email.eml")).unwrap();
    assert_eq!(shape(&parse_mail(&eml).unwrap()), shape(&parsed[0]));
    assert_eq!(server.messages().len(), 4, "preview sends nothing");
}
