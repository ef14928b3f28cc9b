//! The action parts of a `[[report]]` checked into settings: `when`, `[report.alert]`,
//! `[[report.webhook]]` and `[[report.export]]`, with URLs that hold keys read from the
//! environment variable `url_env` names.

use super::raw::{AlertConfig, ExportConfig, WebhookConfig, WhenConfig};
use super::settings::{
    AlertSettings, Comparison, Condition, ExportSettings, SecretUrl, WebhookFormat, WebhookSettings,
};
use crate::settings_check::Checker;
use iotc_adx_jmespath::Expression;
use std::collections::HashMap;

/// Default attempts per delivery or export page.
const DEFAULT_ATTEMPTS: u32 = 5;

/// `when`.
pub(super) fn condition(c: &mut Checker, key: &str, when: Option<&WhenConfig>) -> Condition {
    let Some(w) = when else {
        return Condition::default();
    };
    let rows = w
        .rows
        .as_deref()
        .and_then(|t| comparison(c, &format!("{key}.when.rows"), t));
    let expression = w
        .expression
        .as_deref()
        .and_then(|t| match Expression::compile(t) {
            Ok(e) => Some(e),
            Err(e) => {
                c.problem(
                    format!("{key}.when.expression"),
                    format!("not a JMESPath expression: {}", e),
                );
                None
            }
        });
    Condition { rows, expression }
}

/// `"> 0"`, `">=10"`, `"== 0"`...
fn comparison(c: &mut Checker, key: &str, text: &str) -> Option<(Comparison, u64)> {
    let t = text.trim();
    let ops = [
        (">=", Comparison::Ge),
        ("<=", Comparison::Le),
        ("==", Comparison::Eq),
        ("!=", Comparison::Ne),
        (">", Comparison::Gt),
        ("<", Comparison::Lt),
    ];
    for (sym, op) in ops {
        if let Some(rest) = t.strip_prefix(sym) {
            if let Ok(n) = rest.trim().parse::<u64>() {
                return Some((op, n));
            }
            break;
        }
    }
    c.problem(
        key,
        format!("{text:?} is not a row-count comparison such as \"> 0\", \">= 10\" or \"== 0\""),
    );
    None
}

/// `[report.alert]`.
pub(super) fn alert(a: &AlertConfig) -> AlertSettings {
    AlertSettings {
        key: a.key.clone(),
        resolve: a.resolve.unwrap_or(true),
    }
}

/// `[[report.webhook]]`.
pub(super) fn webhooks(
    c: &mut Checker,
    key: &str,
    list: &[WebhookConfig],
    env: &HashMap<String, String>,
) -> Vec<WebhookSettings> {
    let mut out = Vec::new();
    for (i, w) in list.iter().enumerate() {
        let key = format!("{key}.webhook[{i}]");
        let format = match w.format.as_deref() {
            None | Some("json") => WebhookFormat::Json,
            Some("teams") => WebhookFormat::Teams,
            Some("slack") => WebhookFormat::Slack,
            Some(other) => {
                c.problem(
                    format!("{key}.format"),
                    format!("{other:?} is not a webhook format: expected \"json\", \"teams\" or \"slack\""),
                );
                continue;
            }
        };
        let attempts = w.attempts.unwrap_or(DEFAULT_ATTEMPTS);
        c.range(&format!("{key}.attempts"), attempts, 1, 100);
        let max_rows = w.max_rows.unwrap_or(20);
        c.range(&format!("{key}.max_rows"), max_rows, 1, 1000);
        if let Some(url) = secret_url(c, &key, w.url.as_deref(), w.url_env.as_deref(), env) {
            out.push(WebhookSettings {
                format,
                url,
                attempts,
                max_rows,
            });
        }
    }
    out
}

/// `[[report.export]]`.
pub(super) fn exports(
    c: &mut Checker,
    key: &str,
    list: &[ExportConfig],
    is_command: bool,
    env: &HashMap<String, String>,
) -> Vec<ExportSettings> {
    let mut out = Vec::new();
    for (i, e) in list.iter().enumerate() {
        let key = format!("{key}.export[{i}]");
        let to_url = e.url.is_some() || e.url_env.is_some();
        match (&e.table, to_url) {
            (Some(table), false) => {
                if is_command {
                    c.problem(format!("{key}.table"), "a control command's result cannot be appended with .set-or-append: export a query, or use url");
                } else if !is_table_name(table) {
                    c.problem(
                        format!("{key}.table"),
                        format!("{table:?} is not a table name"),
                    );
                } else {
                    out.push(ExportSettings::Table(table.clone()));
                }
            }
            (None, true) => {
                let page_rows = e.page_rows.unwrap_or(500);
                c.range(&format!("{key}.page_rows"), page_rows, 1, 100_000);
                let attempts = e.attempts.unwrap_or(DEFAULT_ATTEMPTS);
                c.range(&format!("{key}.attempts"), attempts, 1, 100);
                if let Some(url) = secret_url(c, &key, e.url.as_deref(), e.url_env.as_deref(), env)
                {
                    out.push(ExportSettings::Url {
                        url,
                        page_rows,
                        attempts,
                    });
                }
            }
            _ => c.problem(
                key,
                "give either table (appended with .set-or-append) or url / url_env (JSON pages)",
            ),
        }
    }
    out
}

fn is_table_name(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 1024
        && t.chars()
            .all(|ch| ch.is_alphanumeric() || matches!(ch, '_' | '-' | '.' | ' '))
}

/// `url` or the variable `url_env` names; the value is never echoed (it holds a key).
fn secret_url(
    c: &mut Checker,
    key: &str,
    url: Option<&str>,
    url_env: Option<&str>,
    env: &HashMap<String, String>,
) -> Option<SecretUrl> {
    let (text, at) = match (url, url_env) {
        (Some(u), None) => (u.to_string(), format!("{key}.url")),
        (None, Some(var)) => match env.get(var) {
            Some(v) => (v.clone(), format!("{key}.url_env")),
            None => {
                c.problem(
                    format!("{key}.url_env"),
                    format!("the environment variable {var} is not set"),
                );
                return None;
            }
        },
        _ => {
            c.problem(
                key,
                "give either url or url_env (the environment variable holding the URL)",
            );
            return None;
        }
    };
    match url::Url::parse(&text) {
        Ok(u) if u.scheme() == "https" || u.scheme() == "http" => Some(SecretUrl(u)),
        _ => {
            c.problem(
                at,
                "is not an http(s) URL (value not shown: it may hold a key)",
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn comparisons_parse_and_errors_name_the_key() {
        let mut c = Checker::new(Path::new("."));
        assert_eq!(comparison(&mut c, "k", "> 0"), Some((Comparison::Gt, 0)));
        assert_eq!(comparison(&mut c, "k", ">=10"), Some((Comparison::Ge, 10)));
        assert_eq!(comparison(&mut c, "k", " == 3 "), Some((Comparison::Eq, 3)));
        assert_eq!(comparison(&mut c, "k", "!= 1"), Some((Comparison::Ne, 1)));
        assert_eq!(comparison(&mut c, "k", "<5"), Some((Comparison::Lt, 5)));
        assert_eq!(comparison(&mut c, "report[0].when.rows", "lots"), None);
        let p = c.into_problems();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].key, "report[0].when.rows");
    }

    #[test]
    fn secret_urls_come_from_the_environment_and_are_never_echoed() {
        let mut c = Checker::new(Path::new("."));
        let env: HashMap<String, String> = [(
            "HOOK".to_string(),
            "https://hooks.example/T1/secret-key".to_string(),
        )]
        .into();
        let u = secret_url(&mut c, "w", None, Some("HOOK"), &env).unwrap();
        assert_eq!(u.0.path(), "/T1/secret-key");
        assert_eq!(format!("{u:?}"), "https://hooks.example/…");
        assert!(secret_url(&mut c, "w", None, Some("MISSING"), &env).is_none());
        let bad: HashMap<String, String> =
            [("HOOK".to_string(), "not a url secret".to_string())].into();
        assert!(secret_url(&mut c, "w", None, Some("HOOK"), &bad).is_none());
        let p = c.into_problems();
        assert_eq!(p.len(), 2);
        assert!(p.iter().all(|p| !p.message.contains("secret")), "{p:?}");
    }
}
