//! Second phase of configuration: each section, already merged from the file and the
//! environment, is deserialised on its own (so one bad section does not hide the others'
//! problems) and handed to the stage it configures, which checks and compiles it into typed
//! settings. Every problem is collected with the key path it concerns; none stops the search
//! for the next.

use super::raw::{SinkConfig, SourceConfig};
use super::settings::Settings;
use crate::auth::settings::AuthConfig;
use crate::auth::AuthSettings;
use crate::deadletter::settings::{DeadLetterConfig, DeadLetterSettings};
use crate::destination::DestinationSettings;
use crate::report::Defaults;
use crate::settings_check::{Checker, Problem};
use crate::sink::kusto::KustoSinkSettings;
use crate::sink::SinkSettings;
use crate::source::eventhubs::EventHubsSourceSettings;
use crate::source::file::FileInput;
use crate::source::SourceSettings;
use crate::telemetry::settings::{LogConfig, LogSettings, MetricsConfig, MetricsSettings};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::Path;

const SECTIONS: [&str; 9] = [
    "source",
    "sink",
    "auth",
    "destination",
    "dead_letter",
    "metrics",
    "log",
    "reports",
    "report",
];

/// Validates the merged configuration tree. `base_dir` anchors relative paths; `env` is the
/// environment secrets named by `url_env` are read from.
pub(super) fn validate(
    tree: Value,
    base_dir: &Path,
    env: &HashMap<String, String>,
) -> Result<Settings, Vec<Problem>> {
    let mut c = Checker::new(base_dir);
    let Value::Object(mut root) = tree else {
        c.problem("(root)", "the configuration must be a table of sections");
        return Err(c.into_problems());
    };
    unknown_sections(&mut c, &root);
    // A configuration of reports only has no pipeline: no [source], [sink] or destinations.
    let has_reports = root.contains_key("report");
    let has_pipeline = !has_reports
        || ["source", "sink", "destination"]
            .iter()
            .any(|k| root.contains_key(*k));
    let kusto = root
        .get("sink")
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
        == Some("kusto");
    let (source, sink, destinations) = if has_pipeline {
        pipeline(&mut c, &mut root)
    } else {
        (None, None, Vec::new())
    };
    // Credentials are needed for Data Explorer, and for Event Hubs reached without a
    // connection string (the hub and the checkpoint container are then signed in to).
    let hub_needs_auth = matches!(
        &source,
        Some(SourceSettings::EventHubs(e)) if e.connection_string.is_none()
    );
    let auth = auth_settings(
        &mut c,
        root.remove("auth"),
        kusto || hub_needs_auth || has_reports,
    );
    let defaults = report_defaults(&source, &sink, &destinations);
    let reports = crate::report::reports(
        &mut c,
        root.remove("reports"),
        root.remove("report"),
        &defaults,
        env,
    );
    let dead_letter = optional::<DeadLetterConfig>(&mut c, &mut root, "dead_letter")
        .map(|d| DeadLetterSettings::from_config(&c, d));
    let metrics = optional::<MetricsConfig>(&mut c, &mut root, "metrics")
        .and_then(|m| MetricsSettings::from_config(&mut c, m));
    let log = optional::<LogConfig>(&mut c, &mut root, "log")
        .and_then(|l| LogSettings::from_config(&mut c, l));
    let pipeline_ok = !has_pipeline || (source.is_some() && sink.is_some());
    match (auth, dead_letter, metrics, log, reports) {
        (Some(auth), Some(dead_letter), Some(metrics), Some(log), Some(reports))
            if pipeline_ok && c.problems_len() == 0 =>
        {
            Ok(Settings {
                source,
                sink,
                auth,
                destinations,
                dead_letter,
                metrics,
                log,
                reports,
            })
        }
        _ => Err(c.into_problems()),
    }
}

/// `[source]`, `[sink]` and `[[destination]]`, all required once one of them is given.
fn pipeline(
    c: &mut Checker,
    root: &mut Map<String, Value>,
) -> (
    Option<SourceSettings>,
    Option<SinkSettings>,
    Vec<DestinationSettings>,
) {
    let source = take_required(
        c,
        root,
        "source",
        "add a [source] section, e.g. type = \"file\"",
    )
    .and_then(|v| c.section::<SourceConfig>("source", v))
    .and_then(|s| source_settings(c, s));
    let sink = take_required(
        c,
        root,
        "sink",
        "add a [sink] section, e.g. type = \"file\"",
    )
    .and_then(|v| c.section::<SinkConfig>("sink", v))
    .and_then(|s| sink_settings(c, s));
    let destinations = crate::destination::destinations(c, root.remove("destination"));
    (source, sink, destinations)
}

/// What reports inherit: the sink's cluster, the destinations' one database, the Event
/// Hubs checkpoint container (for the replica lease).
fn report_defaults(
    source: &Option<SourceSettings>,
    sink: &Option<SinkSettings>,
    destinations: &[DestinationSettings],
) -> Defaults {
    let mut databases: Vec<&str> = destinations.iter().map(|d| d.database.as_str()).collect();
    databases.dedup();
    Defaults {
        cluster: match sink {
            Some(SinkSettings::Kusto(k)) => Some(k.cluster.clone()),
            _ => None,
        },
        database: match databases.as_slice() {
            [one] => Some(one.to_string()),
            _ => None,
        },
        lease_container: match source {
            Some(SourceSettings::EventHubs(e)) => Some(e.checkpoint_container.clone()),
            _ => None,
        },
    }
}

fn unknown_sections(c: &mut Checker, root: &Map<String, Value>) {
    for key in root.keys() {
        if !SECTIONS.contains(&key.as_str()) {
            c.problem(
                key.clone(),
                format!("unknown section, expected one of {}", SECTIONS.join(", ")),
            );
        }
    }
}

fn take_required(
    c: &mut Checker,
    root: &mut Map<String, Value>,
    key: &str,
    hint: &str,
) -> Option<Value> {
    let v = root.remove(key);
    if v.is_none() {
        c.problem(key, format!("missing section: {hint}"));
    }
    v
}

fn optional<T: DeserializeOwned + Default>(
    c: &mut Checker,
    root: &mut Map<String, Value>,
    key: &str,
) -> Option<T> {
    match root.remove(key) {
        None => Some(T::default()),
        Some(v) => c.section(key, v),
    }
}

fn source_settings(c: &mut Checker, s: SourceConfig) -> Option<SourceSettings> {
    match s {
        SourceConfig::File(f) => {
            FileInput::from_config(c, f).map(|input| SourceSettings::File { input })
        }
        SourceConfig::Eventhubs(e) => {
            EventHubsSourceSettings::from_config(c, e).map(SourceSettings::EventHubs)
        }
    }
}

fn sink_settings(c: &mut Checker, s: SinkConfig) -> Option<SinkSettings> {
    match s {
        SinkConfig::File(f) => Some(SinkSettings::File {
            dir: f.dir(c),
            gzip: f.gzip,
        }),
        SinkConfig::Kusto(k) => KustoSinkSettings::from_config(c, k).map(SinkSettings::Kusto),
    }
}

/// `[auth]`, or [`AuthSettings::None`] when absent and not `required`.
fn auth_settings(c: &mut Checker, value: Option<Value>, required: bool) -> Option<AuthSettings> {
    match value {
        Some(v) => c
            .section::<AuthConfig>("auth", v)
            .and_then(|a| AuthSettings::from_config(c, a)),
        None => {
            if required {
                c.problem(
                    "auth",
                    "missing section: Data Explorer (and Event Hubs without a connection string) need credentials, e.g. [auth] type = \"managed_identity\" (or \"service_principal\", \"workload_identity\", \"azure_cli\", \"none\" for local emulators)",
                );
            }
            Some(AuthSettings::None)
        }
    }
}
