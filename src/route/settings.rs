//! `[destination.filter]`: which messages feed a destination, as written (a serde type that
//! refuses unknown keys) and compiled into a [`Filter`], each problem with its key path.

use super::{Filter, Patterns};
use crate::decode::MessageSource;
use crate::settings_check::Checker;
use crate::transform::{compile_commented, Expression};
use serde::Deserialize;

/// `[destination.filter]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// Accepted `messageSource` values.
    #[serde(default)]
    pub message_sources: Vec<String>,
    /// Accepted `messageType` values.
    #[serde(default)]
    pub message_types: Vec<String>,
    /// Glob patterns over `templateId`.
    #[serde(default)]
    pub template_ids: Vec<String>,
    /// Glob patterns over `deviceId`.
    #[serde(default)]
    pub device_ids: Vec<String>,
    /// A JMESPath expression; the message feeds the destination when it is truthy.
    pub predicate: Option<String>,
}

impl Filter {
    /// Checks and compiles a filter; problems are recorded under `key` (such as
    /// `destination[0].filter`).
    pub(crate) fn from_config(c: &mut Checker, key: &str, f: &FilterConfig) -> Option<Filter> {
        let before = c.problems_len();
        let sources = message_sources(c, key, &f.message_sources);
        message_types(c, key, &f.message_types);
        let templates = patterns(c, key, "template_ids", &f.template_ids);
        let devices = patterns(c, key, "device_ids", &f.device_ids);
        let predicate = predicate(c, key, f.predicate.as_deref());
        match (templates, devices, predicate) {
            (Some(templates), Some(devices), Some(predicate)) if c.problems_len() == before => {
                Some(Filter {
                    sources,
                    types: f.message_types.clone(),
                    templates,
                    devices,
                    predicate,
                })
            }
            _ => None,
        }
    }
}

/// The known message sources among `names`; each unknown one is a problem.
fn message_sources(c: &mut Checker, key: &str, names: &[String]) -> Vec<MessageSource> {
    let mut sources = Vec::new();
    for (i, s) in names.iter().enumerate() {
        let source = MessageSource::from_wire(s);
        if source.is_known() {
            sources.push(source);
        } else {
            let known: Vec<&str> = MessageSource::KNOWN
                .iter()
                .map(MessageSource::as_str)
                .collect();
            c.problem(
                format!("{key}.message_sources[{i}]"),
                format!(
                    "{s:?} is not a message source: expected one of {} (to match a newer source, use a predicate such as \"messageSource == '{s}'\")",
                    known.join(", ")
                ),
            );
        }
    }
    sources
}

fn message_types(c: &mut Checker, key: &str, types: &[String]) {
    let known_types = MessageSource::all_known_types();
    for (i, t) in types.iter().enumerate() {
        if !known_types.contains(&t.as_str()) {
            c.problem(
                format!("{key}.message_types[{i}]"),
                format!(
                    "{t:?} is not a message type: expected one of {}",
                    known_types.join(", ")
                ),
            );
        }
    }
}

/// `Some(None)` for no patterns, `None` when one does not compile.
fn patterns(c: &mut Checker, key: &str, field: &str, globs: &[String]) -> Option<Option<Patterns>> {
    if globs.is_empty() {
        return Some(None);
    }
    match Patterns::new(globs) {
        Ok(p) => Some(Some(p)),
        Err(e) => {
            c.problem(format!("{key}.{field}[{}]", e.index), e.to_string());
            None
        }
    }
}

/// `Some(None)` for no predicate, `None` when it does not compile.
fn predicate(c: &mut Checker, key: &str, text: Option<&str>) -> Option<Option<Expression>> {
    let Some(text) = text else {
        return Some(None);
    };
    match compile_commented(text) {
        Ok(e) => Some(Some(e)),
        Err(None) => {
            c.problem(
                format!("{key}.predicate"),
                "is empty: remove it, or write a JMESPath expression",
            );
            None
        }
        Err(Some(e)) => {
            c.problem(
                format!("{key}.predicate"),
                format!("is not a valid JMESPath expression: {e}"),
            );
            None
        }
    }
}
