//! `[reports.smtp]` and `[[report.email]]` checked into [`super::mail_settings`], each
//! problem under its key path. Addresses are checked to be mailboxes unless they are
//! templates (`{{ row.Owner }}`), which are checked to compile; the password comes from the
//! environment variable `password_env` names.

use super::mail_settings::{
    AttachKind, EmailBody, EmailSettings, Importance, Password, SmtpSecurity, SmtpSettings,
};
use super::raw::{EmailConfig, SmtpConfig};
use crate::settings_check::Checker;
use iotc_adx_charts::ChartKind;
use std::collections::HashMap;
use std::time::Duration;

/// Default attempts per e-mail.
const DEFAULT_ATTEMPTS: u32 = 3;

/// `[reports.smtp]`.
pub(super) fn smtp(
    c: &mut Checker,
    s: &SmtpConfig,
    env: &HashMap<String, String>,
) -> Option<SmtpSettings> {
    let key = "reports.smtp";
    let before = c.problems_len();
    let host = s.host.clone().filter(|h| !h.trim().is_empty());
    if host.is_none() {
        c.problem(
            format!("{key}.host"),
            "the mail server's host name is required",
        );
    }
    let security = match s.security.as_deref() {
        None | Some("starttls") => SmtpSecurity::StartTls,
        Some("tls") => SmtpSecurity::Tls,
        Some("none") => SmtpSecurity::None,
        Some(other) => {
            c.problem(
                format!("{key}.security"),
                format!("{other:?} is not a choice: expected \"starttls\", \"tls\" or \"none\""),
            );
            SmtpSecurity::StartTls
        }
    };
    let port = s.port.unwrap_or(match security {
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::Tls => 465,
        SmtpSecurity::None => 25,
    });
    let password = match (&s.password, &s.password_env) {
        (Some(_), Some(_)) => {
            c.problem(key, "give password or password_env, not both");
            None
        }
        (Some(p), None) => Some(Password(p.clone())),
        (None, Some(var)) => match env.get(var) {
            Some(p) if !p.is_empty() => Some(Password(p.clone())),
            _ => {
                c.problem(
                    format!("{key}.password_env"),
                    format!("the environment variable {var} is not set"),
                );
                None
            }
        },
        (None, None) => None,
    };
    let credentials = match (&s.username, password) {
        (Some(u), Some(p)) => Some((u.clone(), p)),
        (None, None) => None,
        (Some(_), None) => {
            c.problem(
                key,
                "a username needs a password: set password_env (or the IOTC_ADX__REPORTS__SMTP__PASSWORD override)",
            );
            None
        }
        (None, Some(_)) => {
            c.problem(format!("{key}.username"), "a password needs a username");
            None
        }
    };
    let from = match &s.from {
        Some(f) => {
            mailbox(c, &format!("{key}.from"), f);
            f.clone()
        }
        None => {
            c.problem(
                format!("{key}.from"),
                "the sender is required, such as \"IoT reports <reports@example.com>\"",
            );
            String::new()
        }
    };
    let (ca_pem, ca_file) = match &s.ca_file {
        None => (None, None),
        Some(f) => {
            let path = c.path(f);
            match std::fs::read(&path) {
                Ok(pem) => (Some(pem), Some(path)),
                Err(e) => {
                    c.problem(
                        format!("{key}.ca_file"),
                        format!("cannot read {}: {e}", path.display()),
                    );
                    (None, None)
                }
            }
        }
    };
    let timeout = s
        .timeout
        .as_deref()
        .map_or(Some(Duration::from_secs(30)), |t| {
            c.duration(&format!("{key}.timeout"), t)
        });
    if c.problems_len() > before {
        return None;
    }
    Some(SmtpSettings {
        host: host?,
        port,
        security,
        credentials,
        from,
        ca_pem,
        ca_file,
        timeout: timeout?,
    })
}

/// Whether `text` is a mailbox (`a@b.c` or `Name <a@b.c>`); a problem under `key` if not.
fn mailbox(c: &mut Checker, key: &str, text: &str) {
    if text.parse::<lettre::message::Mailbox>().is_err() {
        c.problem(key, format!("{text:?} is not an e-mail address"));
    }
}

/// A list of addresses or address templates.
fn addresses(c: &mut Checker, key: &str, list: &[String]) {
    for (i, a) in list.iter().enumerate() {
        let key = format!("{key}[{i}]");
        if a.contains("{{") {
            template(c, &key, a);
        } else {
            mailbox(c, &key, a);
        }
    }
}

/// Whether `text` compiles as a template; a problem under `key` if not.
fn template(c: &mut Checker, key: &str, text: &str) {
    let env = minijinja::Environment::new();
    if let Err(e) = env.template_from_str(text) {
        c.problem(key, format!("not a template: {e}"));
    }
}

/// `[[report.email]]`.
pub(super) fn emails(
    c: &mut Checker,
    key: &str,
    list: &[EmailConfig],
    has_smtp: bool,
) -> Vec<EmailSettings> {
    let mut out = Vec::new();
    for (i, e) in list.iter().enumerate() {
        let key = format!("{key}.email[{i}]");
        if !has_smtp {
            c.problem(&key, "e-mail needs a mail server: add [reports.smtp]");
        }
        if e.to.is_empty() && e.cc.is_empty() && e.bcc.is_empty() {
            c.problem(
                format!("{key}.to"),
                "give at least one recipient (to, cc or bcc)",
            );
        }
        addresses(c, &format!("{key}.to"), &e.to);
        addresses(c, &format!("{key}.cc"), &e.cc);
        addresses(c, &format!("{key}.bcc"), &e.bcc);
        if let Some(s) = &e.subject {
            template(c, &format!("{key}.subject"), s);
        }
        let importance = match e.importance.as_deref() {
            None | Some("normal") => Importance::Normal,
            Some("high") => Importance::High,
            Some("low") => Importance::Low,
            Some(other) => {
                c.problem(
                    format!("{key}.importance"),
                    format!("{other:?} is not a choice: expected \"normal\", \"high\" or \"low\""),
                );
                Importance::Normal
            }
        };
        let body = match e.body.as_deref() {
            None => EmailBody::Auto,
            Some("table") => EmailBody::Table,
            Some("chart") => EmailBody::Chart,
            Some("both") => EmailBody::Both,
            Some(other) => {
                c.problem(
                    format!("{key}.body"),
                    format!("{other:?} is not a choice: expected \"table\", \"chart\" or \"both\""),
                );
                EmailBody::Auto
            }
        };
        let mut charts = Vec::new();
        for (j, name) in e.charts.iter().enumerate() {
            match ChartKind::from_render(name) {
                Some(k) => charts.push(k),
                None => c.problem(format!("{key}.charts[{j}]"), format!("{name:?} is not a chart: expected timechart, linechart, areachart, piechart, barchart or columnchart")),
            }
        }
        let mut attach = Vec::new();
        for (j, name) in e
            .attach
            .clone()
            .unwrap_or_else(|| vec!["csv".into()])
            .iter()
            .enumerate()
        {
            match name.as_str() {
                "csv" => attach.push(AttachKind::Csv),
                "png" => attach.push(AttachKind::Png),
                "svg" => attach.push(AttachKind::Svg),
                other => c.problem(
                    format!("{key}.attach[{j}]"),
                    format!("{other:?} is not an attachment: expected \"csv\", \"png\" or \"svg\""),
                ),
            }
        }
        let max_rows = e.max_rows.unwrap_or(100);
        c.range(&format!("{key}.max_rows"), max_rows, 1, 10_000);
        let attempts = e.attempts.unwrap_or(DEFAULT_ATTEMPTS);
        c.range(&format!("{key}.attempts"), attempts, 1, 20);
        let template = e.template.as_deref().and_then(|f| {
            let path = c.path(f);
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    template(c, &format!("{key}.template"), &text);
                    Some((path, text))
                }
                Err(err) => {
                    c.problem(
                        format!("{key}.template"),
                        format!("cannot read {}: {err}", path.display()),
                    );
                    None
                }
            }
        });
        out.push(EmailSettings {
            to: e.to.clone(),
            cc: e.cc.clone(),
            bcc: e.bcc.clone(),
            subject: e.subject.clone(),
            importance,
            body,
            charts,
            attach,
            max_rows,
            template,
            attempts,
        });
    }
    out
}
