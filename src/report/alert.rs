//! Alert state: which alerts of a report are firing. Each result row is one alert, named by
//! the values of the `alert.key` columns (no key: the report is one alert, firing while
//! `when` holds). An alert is notified when it starts firing, not on every run, and a
//! "resolved" message follows when it stops (unless `resolve = false`). The state lives in
//! the run history's store, so it survives restarts.

use super::result::ReportResult;
use super::settings::AlertSettings;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What changed since the previous run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertChanges {
    /// Alerts that started firing, with their row (`None` for a keyless alert).
    pub fired: Vec<(String, Option<Vec<Value>>)>,
    /// Alerts that stopped firing (only when `resolve` is on; otherwise they are forgotten
    /// silently).
    pub resolved: Vec<String>,
    /// Every alert firing now: the state to store.
    pub firing: BTreeSet<String>,
}

/// The key of `row`: the key columns' values joined by `/`.
pub fn key_of(alert: &AlertSettings, result: &ReportResult, row: &[Value]) -> String {
    alert
        .key
        .iter()
        .map(|c| result.text(row, c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("/")
}

/// Compares this run with the alerts firing before it.
pub fn changes(
    alert: &AlertSettings,
    holds: bool,
    result: &ReportResult,
    before: &BTreeSet<String>,
) -> AlertChanges {
    let mut now: BTreeMap<String, Option<Vec<Value>>> = BTreeMap::new();
    if holds {
        if alert.key.is_empty() {
            now.insert(String::new(), None);
        } else {
            for row in &result.rows {
                now.entry(key_of(alert, result, row))
                    .or_insert_with(|| Some(row.clone()));
            }
        }
    }
    let fired = now
        .iter()
        .filter(|(k, _)| !before.contains(*k))
        .map(|(k, r)| (k.clone(), r.clone()))
        .collect();
    let resolved = if alert.resolve {
        before
            .iter()
            .filter(|k| !now.contains_key(*k))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    AlertChanges {
        fired,
        resolved,
        firing: now.into_keys().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::result::ResultColumn;
    use serde_json::json;

    fn silent(devices: &[&str]) -> ReportResult {
        ReportResult {
            columns: vec![ResultColumn {
                name: "DeviceId".into(),
                r#type: "string".into(),
            }],
            rows: devices.iter().map(|d| vec![json!(d)]).collect(),
            visualization: None,
        }
    }

    fn set(keys: &[&str]) -> BTreeSet<String> {
        keys.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn keyed_alerts_fire_once_and_resolve() {
        let a = AlertSettings {
            key: vec!["DeviceId".into()],
            resolve: true,
        };
        let first = changes(&a, true, &silent(&["d1", "d2"]), &set(&[]));
        assert_eq!(first.fired.len(), 2);
        assert_eq!(first.fired[0].1, Some(vec![json!("d1")]));
        assert!(first.resolved.is_empty());
        // Still silent: nothing new.
        let second = changes(&a, true, &silent(&["d1", "d2"]), &first.firing);
        assert!(second.fired.is_empty() && second.resolved.is_empty());
        // d1 talks again, d3 goes silent.
        let third = changes(&a, true, &silent(&["d2", "d3"]), &second.firing);
        assert_eq!(
            third.fired,
            vec![("d3".to_string(), Some(vec![json!("d3")]))]
        );
        assert_eq!(third.resolved, vec!["d1".to_string()]);
        assert_eq!(third.firing, set(&["d2", "d3"]));
        // The condition stops holding: everything resolves.
        let fourth = changes(&a, false, &silent(&["d2"]), &third.firing);
        assert_eq!(fourth.resolved, vec!["d2".to_string(), "d3".to_string()]);
        assert!(fourth.firing.is_empty());
    }

    #[test]
    fn keyless_alerts_follow_the_condition() {
        let a = AlertSettings {
            key: vec![],
            resolve: false,
        };
        let on = changes(&a, true, &silent(&["x"]), &set(&[]));
        assert_eq!(on.fired, vec![(String::new(), None)]);
        let off = changes(&a, false, &silent(&[]), &on.firing);
        assert!(off.resolved.is_empty(), "resolve = false sends nothing");
        assert!(off.firing.is_empty());
    }
}
