//! The consumer's start position: the `apache.org:selector-filter:string` filter on the
//! receiver's source (`amqp.annotation.x-opt-offset > '-1'`, `... >= '12'`,
//! `amqp.annotation.x-opt-sequence-number > 'N'`, `amqp.annotation.x-opt-enqueued-time > 'ms'`,
//! `> '@latest'`), resolved to the first sequence number to deliver.

use super::log::Partition;
use fe2o3_amqp_types::messaging::FilterSet;
use fe2o3_amqp_types::primitives::Value;

/// A parsed selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StartAt {
    /// From the first event.
    Earliest,
    /// Only events appended after the link attached.
    Latest,
    /// By offset.
    Offset { value: u64, inclusive: bool },
    /// By sequence number.
    Sequence { value: i64, inclusive: bool },
    /// By enqueued time (ms).
    EnqueuedTime { value: i64, inclusive: bool },
}

/// Why a selector was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unsupported selector filter {0:?}")]
pub(crate) struct SelectorError(pub String);

/// The selector string in a filter set, if any.
pub(crate) fn selector_of(filter: Option<&FilterSet>) -> Option<String> {
    let filter = filter?;
    for (name, value) in filter.iter() {
        let s = match value {
            Value::Described(d) => match &d.value {
                Value::String(s) => Some(s.clone()),
                _ => None,
            },
            Value::String(s) => Some(s.clone()),
            _ => None,
        };
        if let Some(s) = s {
            if name.0.contains("selector") || s.contains("amqp.annotation.") {
                return Some(s);
            }
        }
    }
    None
}

/// Parses a selector expression.
pub(crate) fn parse(expr: &str) -> Result<StartAt, SelectorError> {
    let err = || SelectorError(expr.to_string());
    let e = expr.trim();
    let (field, rest) = e.split_once(char::is_whitespace).ok_or_else(err)?;
    let rest = rest.trim_start();
    let (inclusive, rest) = if let Some(r) = rest.strip_prefix(">=") {
        (true, r)
    } else if let Some(r) = rest.strip_prefix('>') {
        (false, r)
    } else {
        return Err(err());
    };
    let v = rest.trim().trim_matches('\'');
    let field = field.to_ascii_lowercase();
    let field = field.strip_prefix("amqp.annotation.").unwrap_or(&field);
    match field {
        "x-opt-offset" => {
            if v == "@latest" {
                Ok(StartAt::Latest)
            } else if v == "-1" {
                Ok(StartAt::Earliest)
            } else {
                Ok(StartAt::Offset {
                    value: v.parse().map_err(|_| err())?,
                    inclusive,
                })
            }
        }
        "x-opt-sequence-number" => Ok(StartAt::Sequence {
            value: v.parse().map_err(|_| err())?,
            inclusive,
        }),
        "x-opt-enqueued-time" => Ok(StartAt::EnqueuedTime {
            value: v.parse().map_err(|_| err())?,
            inclusive,
        }),
        _ => Err(err()),
    }
}

/// The first sequence number to deliver from `partition`.
pub(crate) fn resolve(start: &StartAt, partition: &Partition) -> i64 {
    match *start {
        StartAt::Earliest => 0,
        StartAt::Latest => partition.next_sequence(),
        StartAt::Offset { value, inclusive } => partition.first_matching(|e| {
            if inclusive {
                e.offset >= value
            } else {
                e.offset > value
            }
        }),
        StartAt::Sequence { value, inclusive } => {
            if inclusive {
                value.max(0)
            } else {
                value.saturating_add(1).max(0)
            }
        }
        StartAt::EnqueuedTime { value, inclusive } => partition.first_matching(|e| {
            if inclusive {
                e.enqueued_time_ms >= value
            } else {
                e.enqueued_time_ms > value
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse() {
        assert_eq!(
            parse("amqp.annotation.x-opt-offset > '-1'"),
            Ok(StartAt::Earliest)
        );
        assert_eq!(
            parse("amqp.annotation.x-opt-offset > '@latest'"),
            Ok(StartAt::Latest)
        );
        assert_eq!(
            parse("amqp.annotation.x-opt-offset >= '120'"),
            Ok(StartAt::Offset {
                value: 120,
                inclusive: true
            })
        );
        assert_eq!(
            parse("amqp.annotation.x-opt-sequence-number > '5'"),
            Ok(StartAt::Sequence {
                value: 5,
                inclusive: false
            })
        );
        assert_eq!(
            parse("amqp.annotation.x-opt-enqueued-time >= '1700000000000'"),
            Ok(StartAt::EnqueuedTime {
                value: 1_700_000_000_000,
                inclusive: true
            })
        );
        assert!(parse("garbage").is_err());
        assert!(parse("amqp.annotation.x-opt-offset < '3'").is_err());
    }
}
