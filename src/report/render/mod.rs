//! Renderers: a [`Message`](super::message::Message) made into what a target takes. Webhooks
//! take JSON ([`json`]), Microsoft Teams an Adaptive Card ([`teams`]), Slack `text` and
//! `blocks` ([`slack`]); each keeps within its target's size limit by showing fewer rows and
//! saying how many were left out. E-mails are composed by [`email`] from an HTML body
//! ([`html`], cells as [`cells`] writes them), charts ([`charts`]) and a CSV ([`csv`]); the
//! reports page by [`page`].

pub mod cells;
pub mod charts;
pub mod csv;
pub mod email;
pub mod html;
pub mod json;
pub mod page;
pub mod slack;
pub mod teams;

use super::message::Message;
use super::settings::WebhookFormat;
use serde_json::Value;

/// The JSON body a webhook of `format` receives for `message`, with at most `max_rows` rows.
pub fn webhook_body(format: WebhookFormat, message: &Message, max_rows: usize) -> Value {
    match format {
        WebhookFormat::Json => json::render(message, max_rows),
        WebhookFormat::Teams => teams::render(message, max_rows),
        WebhookFormat::Slack => slack::render(message, max_rows),
    }
}

#[cfg(test)]
mod email_tests;
