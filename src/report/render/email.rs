//! A message made into an e-mail, before any transport: recipients and subject from their
//! templates, the HTML body and its plain-text twin, the charts shown inline, and the
//! attachments (the result as CSV, each chart as PNG or SVG). `report preview` writes
//! exactly this to files; the e-mail delivery sends it.

use super::charts::{self, DrawnChart};
use super::{csv, html};
use crate::report::mail_settings::{AttachKind, EmailBody, EmailSettings};
use crate::report::message::Message;
use chrono_tz::Tz;

/// A file an e-mail carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Its file name.
    pub name: String,
    /// Its media type.
    pub content_type: &'static str,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// An e-mail ready to send or to preview.
#[derive(Debug, Clone)]
pub struct Composed {
    /// Recipients, rendered (one address each).
    pub to: Vec<String>,
    /// Copies.
    pub cc: Vec<String>,
    /// Blind copies.
    pub bcc: Vec<String>,
    /// The subject.
    pub subject: String,
    /// The HTML body.
    pub html: String,
    /// The plain-text body.
    pub text: String,
    /// Charts the HTML shows inline (`cid:`).
    pub inline: Vec<DrawnChart>,
    /// Files attached.
    pub attachments: Vec<Attachment>,
}

/// Why an e-mail could not be composed.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// A template failed to render.
    #[error("the e-mail's {what} template failed: {source}")]
    Template {
        /// subject, to, cc, bcc or body.
        what: &'static str,
        /// What minijinja said.
        #[source]
        source: minijinja::Error,
    },
    /// A chart could not be drawn.
    #[error("the e-mail's chart cannot be drawn: {0}")]
    Chart(#[from] iotc_adx_charts::ChartError),
    /// The CSV could not be written.
    #[error("the e-mail's CSV attachment cannot be written: {0}")]
    Csv(#[from] ::csv::Error),
}

/// Renders each address template; a template may give several addresses, comma-separated.
fn addresses(
    list: &[String],
    what: &'static str,
    ctx: &serde_json::Value,
) -> Result<Vec<String>, ComposeError> {
    let mut out = Vec::new();
    for a in list {
        let text = html::text(a, ctx).map_err(|source| ComposeError::Template { what, source })?;
        out.extend(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
    }
    Ok(out)
}

/// Composes the e-mail `settings` makes of `message`.
pub fn compose(
    message: &Message,
    settings: &EmailSettings,
    tz: Tz,
) -> Result<Composed, ComposeError> {
    let ctx = html::context(message, tz);
    let subject = match &settings.subject {
        Some(t) => html::text(t, &ctx).map_err(|source| ComposeError::Template {
            what: "subject",
            source,
        })?,
        None => message.title(),
    };
    let specs = charts::specs(message, &settings.charts);
    let svg = settings.attach.contains(&AttachKind::Svg);
    let drawn = if specs.is_empty() || message.rows.is_empty() && settings.charts.is_empty() {
        Vec::new()
    } else {
        charts::draw(message, &specs, tz, svg)?
    };
    let (show_charts, show_table) = match settings.body {
        EmailBody::Auto => (!drawn.is_empty(), drawn.is_empty()),
        EmailBody::Table => (false, true),
        EmailBody::Chart => (true, drawn.is_empty()),
        EmailBody::Both => (true, true),
    };
    let inline: Vec<DrawnChart> = if show_charts {
        drawn.clone()
    } else {
        Vec::new()
    };
    let cids: Vec<(String, String)> = inline
        .iter()
        .map(|c| (c.cid.clone(), c.title.clone()))
        .collect();
    let csv_attached = settings.attach.contains(&AttachKind::Csv);
    let parts = html::BodyParts {
        charts: &cids,
        show_table,
        max_rows: settings.max_rows,
        csv: csv_attached,
        template: settings.template.as_ref().map(|(_, t)| t.as_str()),
    };
    let body = html::body(message, tz, &parts).map_err(|source| ComposeError::Template {
        what: "body",
        source,
    })?;
    let mut attachments = Vec::new();
    for kind in &settings.attach {
        match kind {
            AttachKind::Csv => attachments.push(Attachment {
                name: format!("{}.csv", message.report),
                content_type: "text/csv",
                bytes: csv::render(message)?,
            }),
            AttachKind::Png => attachments.extend(drawn.iter().map(|c| Attachment {
                name: format!("{}.png", c.name),
                content_type: "image/png",
                bytes: c.png.clone(),
            })),
            AttachKind::Svg => attachments.extend(drawn.iter().filter_map(|c| {
                Some(Attachment {
                    name: format!("{}.svg", c.name),
                    content_type: "image/svg+xml",
                    bytes: c.svg.clone()?.into_bytes(),
                })
            })),
        }
    }
    Ok(Composed {
        to: addresses(&settings.to, "to", &ctx)?,
        cc: addresses(&settings.cc, "cc", &ctx)?,
        bcc: addresses(&settings.bcc, "bcc", &ctx)?,
        subject,
        html: body,
        text: html::plain(message, tz, settings.max_rows),
        inline,
        attachments,
    })
}
