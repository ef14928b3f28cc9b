//! [`RequestProperties`]: what a caller can say about one query or command beyond its text:
//! query parameters (values sent beside the text, never spliced into it), the service's own
//! time and truncation limits, the client request id and the client-side time limit. Reports
//! need all of them; the pipeline's own commands use the defaults.

use serde_json::{json, Map, Value};
use std::time::Duration;

/// The client request properties of one call (the body's `properties`), plus the headers and
/// time limit the client sets for it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestProperties {
    /// Query parameters by name, each value in KQL literal form (`datetime(2026-12-03T10:00:00Z)`,
    /// `timespan(00:15:00)`, `5`, or a string's plain text), for a query that starts with
    /// `declare query_parameters(...)`.
    pub parameters: Vec<(String, String)>,
    /// `servertimeout`: how long the service may work on the request.
    pub server_timeout: Option<Duration>,
    /// `truncationmaxrecords`: the most rows the service returns before it reports a
    /// partial failure.
    pub max_records: Option<u64>,
    /// `truncationmaxsize`: the most result bytes the service returns before it reports a
    /// partial failure.
    pub max_bytes: Option<u64>,
    /// `x-ms-client-request-id`; `None` makes a fresh one.
    pub client_request_id: Option<String>,
    /// The client's own limit on the whole request; `None` uses the client's timeout.
    pub timeout: Option<Duration>,
}

impl RequestProperties {
    /// The body's `properties` object: `Options` and `Parameters`.
    pub(super) fn to_json(&self) -> Value {
        let mut options = Map::new();
        if let Some(t) = self.server_timeout {
            options.insert("servertimeout".into(), json!(timespan(t)));
        }
        if let Some(n) = self.max_records {
            options.insert("truncationmaxrecords".into(), json!(n));
        }
        if let Some(n) = self.max_bytes {
            options.insert("truncationmaxsize".into(), json!(n));
        }
        let parameters: Map<String, Value> = self
            .parameters
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        json!({"Options": options, "Parameters": parameters})
    }
}

/// A duration as a Kusto timespan literal `[d.]hh:mm:ss[.fffffff]`.
pub fn timespan(d: Duration) -> String {
    let secs = d.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let clock = format!(
        "{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    );
    let ticks = d.subsec_nanos() / 100;
    let mut out = if days > 0 {
        format!("{days}.{clock}")
    } else {
        clock
    };
    if ticks > 0 {
        out.push_str(&format!(".{ticks:07}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans_are_kusto_literals() {
        assert_eq!(timespan(Duration::from_secs(90)), "00:01:30");
        assert_eq!(timespan(Duration::from_secs(3600)), "01:00:00");
        assert_eq!(timespan(Duration::from_secs(90_061)), "1.01:01:01");
        assert_eq!(timespan(Duration::from_millis(1500)), "00:00:01.5000000");
    }

    #[test]
    fn properties_carry_options_and_parameters() {
        let p = RequestProperties {
            parameters: vec![("start".into(), "datetime(2026-12-03T10:00:00Z)".into())],
            server_timeout: Some(Duration::from_secs(90)),
            max_records: Some(10),
            max_bytes: Some(1000),
            ..Default::default()
        };
        assert_eq!(
            p.to_json(),
            json!({"Options": {"servertimeout": "00:01:30", "truncationmaxrecords": 10,
                               "truncationmaxsize": 1000},
                   "Parameters": {"start": "datetime(2026-12-03T10:00:00Z)"}})
        );
        assert_eq!(
            RequestProperties::default().to_json(),
            json!({"Options": {}, "Parameters": {}})
        );
    }
}
