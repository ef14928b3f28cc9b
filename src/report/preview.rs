//! `iotc-adx report preview`: what a run would send, written to files instead of sent. The
//! messages are those of a run whose alerts were not firing before (so an alert shows its
//! firing message); for each message, every webhook's JSON body and every e-mail's parts
//! (HTML, text, headers, inline charts, attachments) and its whole MIME (`email.eml`) exactly
//! as the delivery would build them. Nothing is delivered, exported or recorded.

use super::condition;
use super::deliver::email::mime;
use super::message::Message;
use super::messages;
use super::outcome::RunFailure;
use super::query::Window;
use super::render::email::compose;
use super::render::webhook_body;
use super::result::ReportResult;
use super::settings::{ReportSettings, SmtpSettings};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Why the preview could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// The condition or an alert key could not be evaluated.
    #[error("{}", .0.message)]
    Run(RunFailure),
    /// A message could not be rendered.
    #[error("{0}")]
    Render(String),
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The messages a run of `report` over `result` would send (empty when `when` is false).
pub fn messages_of(
    report: &ReportSettings,
    result: &ReportResult,
    window: Window,
) -> Result<Vec<Message>, PreviewError> {
    let holds = condition::holds(&report.when, result).map_err(PreviewError::Run)?;
    let base = messages::base(report, result, window, "preview");
    Ok(match &report.alert {
        Some(a) => {
            let changes = super::alert::changes(a, holds, result, &BTreeSet::new());
            messages::alerts(report.for_each_row, changes, base)
        }
        None if holds => messages::plain(report, result, base),
        None => Vec::new(),
    })
}

fn write(path: PathBuf, bytes: &[u8], written: &mut Vec<PathBuf>) -> Result<(), PreviewError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| PreviewError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(&path, bytes).map_err(|source| PreviewError::Write {
        path: path.clone(),
        source,
    })?;
    written.push(path);
    Ok(())
}

/// Writes what each of `messages` would be sent as under `out` (a folder per message when
/// there are several) and returns the files written.
pub fn write_all(
    out: &Path,
    report: &ReportSettings,
    smtp: Option<&SmtpSettings>,
    messages: &[Message],
) -> Result<Vec<PathBuf>, PreviewError> {
    let mut written = Vec::new();
    for (n, m) in messages.iter().enumerate() {
        let dir = if messages.len() == 1 {
            out.to_path_buf()
        } else {
            out.join(format!("message-{}", n + 1))
        };
        for (i, w) in report.webhooks.iter().enumerate() {
            let body = webhook_body(w.format, m, w.max_rows);
            let text = serde_json::to_vec_pretty(&body)
                .map_err(|e| PreviewError::Render(e.to_string()))?;
            write(
                dir.join(format!("webhook-{}.json", i + 1)),
                &text,
                &mut written,
            )?;
        }
        for (i, e) in report.emails.iter().enumerate() {
            let dir = dir.join(format!("email-{}", i + 1));
            let c =
                compose(m, e, report.time_zone).map_err(|e| PreviewError::Render(e.to_string()))?;
            let from = smtp.map_or("iotc-adx <reports@localhost>", |s| s.from.as_str());
            let headers = format!(
                "From: {from}\nTo: {}\nCc: {}\nBcc: {}\nSubject: {}\n",
                c.to.join(", "),
                c.cc.join(", "),
                c.bcc.join(", "),
                c.subject
            );
            write(dir.join("headers.txt"), headers.as_bytes(), &mut written)?;
            write(dir.join("email.html"), c.html.as_bytes(), &mut written)?;
            write(dir.join("email.txt"), c.text.as_bytes(), &mut written)?;
            for chart in &c.inline {
                write(
                    dir.join(format!("{}.png", chart.name)),
                    &chart.png,
                    &mut written,
                )?;
            }
            for a in &c.attachments {
                write(
                    dir.join("attachments").join(&a.name),
                    &a.bytes,
                    &mut written,
                )?;
            }
            let eml =
                mime(&c, from, e.importance).map_err(|e| PreviewError::Render(e.to_string()))?;
            write(dir.join("email.eml"), &eml.formatted(), &mut written)?;
        }
    }
    Ok(written)
}
