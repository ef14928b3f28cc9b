//! Second phase of configuration: each section, already merged from the file and the
//! environment, is deserialised on its own (so one bad section does not hide the others'
//! problems) and then checked and compiled into typed [`Settings`]. Every problem is collected
//! with the key path it concerns; none stops the search for the next.

use super::checker::Checker;
use super::raw::{
    AuthConfig, DeadLetterConfig, DestinationConfig, FilterConfig, IngestionModeConfig, LogConfig,
    MetricsConfig, SinkConfig, SourceConfig,
};
use super::{
    DeadLetterSettings, DestinationSettings, FileInput, LogSettings, MetricsSettings, Problem,
    Settings, SinkSettings, SourceSettings,
};
use crate::auth::AuthSettings;
use crate::batch::BatchLimits;
use crate::decode::MessageSource;
use crate::route::{Filter, Patterns};
use crate::schema::TableSchema;
use crate::sink::IngestionMode;
use crate::transform::{compile_commented, Transform};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

const SECTIONS: [&str; 7] = [
    "source",
    "sink",
    "auth",
    "destination",
    "dead_letter",
    "metrics",
    "log",
];

/// Validates the merged configuration tree. `base_dir` anchors relative paths.
pub(super) fn validate(tree: Value, base_dir: &Path) -> Result<Settings, Vec<Problem>> {
    let mut c = Checker::new(base_dir);
    let mut root = match tree {
        Value::Object(map) => map,
        _ => {
            c.problem("(root)", "the configuration must be a table of sections");
            return Err(c.into_problems());
        }
    };
    for key in root.keys() {
        if !SECTIONS.contains(&key.as_str()) {
            c.problem(
                key.clone(),
                format!("unknown section, expected one of {}", SECTIONS.join(", ")),
            );
        }
    }
    let source = take_required(
        &mut c,
        &mut root,
        "source",
        "add a [source] section, e.g. type = \"file\"",
    )
    .and_then(|v| c.section::<SourceConfig>("source", v))
    .and_then(|s| source_settings(&mut c, s));
    let kusto_sink = root
        .get("sink")
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
        == Some("kusto");
    let raw_source = root.get("source");
    let eventhubs_with_identity = raw_source
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
        == Some("eventhubs")
        && raw_source
            .and_then(|s| s.get("connection_string"))
            .is_none();
    let sink = take_required(
        &mut c,
        &mut root,
        "sink",
        "add a [sink] section, e.g. type = \"file\"",
    )
    .and_then(|v| c.section::<SinkConfig>("sink", v))
    .and_then(|s| sink_settings(&mut c, s));
    let auth = match root.remove("auth") {
        Some(v) => c
            .section::<AuthConfig>("auth", v)
            .and_then(|a| super::azure::auth_settings(&mut c, a)),
        None => {
            if kusto_sink || eventhubs_with_identity {
                c.problem(
                    "auth",
                    "missing section: Data Explorer (and Event Hubs without a connection string) need credentials, e.g. [auth] type = \"managed_identity\" (or \"service_principal\", \"workload_identity\", \"azure_cli\", \"none\" for local emulators)",
                );
            }
            Some(AuthSettings::None)
        }
    };
    let destinations = destinations(&mut c, root.remove("destination"));
    let dead_letter = optional::<DeadLetterConfig>(&mut c, &mut root, "dead_letter")
        .map(|d| dead_letter_settings(&c, d));
    let metrics = optional::<MetricsConfig>(&mut c, &mut root, "metrics")
        .and_then(|m| metrics_settings(&mut c, m));
    let log = optional::<LogConfig>(&mut c, &mut root, "log").and_then(|l| log_settings(&mut c, l));

    match (source, sink, auth, dead_letter, metrics, log) {
        (Some(source), Some(sink), Some(auth), Some(dead_letter), Some(metrics), Some(log))
            if c.problems_len() == 0 =>
        {
            Ok(Settings {
                source,
                sink,
                auth,
                destinations,
                dead_letter,
                metrics,
                log,
            })
        }
        _ => Err(c.into_problems()),
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
            if f.path.trim().is_empty() {
                c.problem(
                    "source.path",
                    "must name a file, a directory or - (standard input)",
                );
                return None;
            }
            let input = if f.path == "-" {
                FileInput::Stdin
            } else {
                FileInput::Path(c.path(&f.path))
            };
            Some(SourceSettings::File { input })
        }
        SourceConfig::Eventhubs(e) => {
            super::azure::eventhubs_source_settings(c, e).map(SourceSettings::EventHubs)
        }
    }
}

fn sink_settings(c: &mut Checker, s: SinkConfig) -> Option<SinkSettings> {
    match s {
        SinkConfig::File(f) => Some(SinkSettings::File {
            dir: c.path(&f.path),
            gzip: f.gzip,
        }),
        SinkConfig::Kusto(k) => super::azure::kusto_sink_settings(c, k).map(SinkSettings::Kusto),
    }
}

fn dead_letter_settings(c: &Checker, d: DeadLetterConfig) -> DeadLetterSettings {
    DeadLetterSettings {
        dir: c.path(d.path.as_deref().unwrap_or("dead-letter")),
        max_file_bytes: d.max_file_bytes.unwrap_or(64 * 1024 * 1024).max(1024),
    }
}

fn metrics_settings(c: &mut Checker, m: MetricsConfig) -> Option<MetricsSettings> {
    let text = m.listen.as_deref().unwrap_or("0.0.0.0:9464");
    match text.parse::<SocketAddr>() {
        Ok(listen) => Some(MetricsSettings { listen }),
        Err(_) => {
            c.problem(
                "metrics.listen",
                format!("{text:?} is not a socket address such as \"0.0.0.0:9464\""),
            );
            None
        }
    }
}

fn log_settings(c: &mut Checker, l: LogConfig) -> Option<LogSettings> {
    let filter = l.level.unwrap_or_else(|| "info".to_string());
    // A bare word is a target name to `tracing`, so "loud" would silently log nothing:
    // accept bare words only when they are levels.
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    let bare = !filter.contains(['=', ',']);
    if bare && !LEVELS.contains(&filter.to_ascii_lowercase().as_str()) {
        c.problem("log.level", format!("{filter:?} is not a level: expected one of {} or a filter such as \"info,iotc_adx=debug\"", LEVELS.join(", ")));
        return None;
    }
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(&filter) {
        c.problem("log.level", format!("{filter:?} is not a log level or filter: {e} (try \"info\" or \"info,iotc_adx=debug\")"));
        return None;
    }
    Some(LogSettings {
        filter,
        format: l.format,
    })
}

fn destinations(c: &mut Checker, value: Option<Value>) -> Vec<DestinationSettings> {
    let items = match value {
        None => {
            c.problem(
                "destination",
                "no [[destination]] is configured, so nothing would be ingested",
            );
            return Vec::new();
        }
        Some(Value::Array(items)) => items,
        Some(_) => {
            c.problem(
                "destination",
                "must be an array of tables: write each one under [[destination]]",
            );
            return Vec::new();
        }
    };
    let mut names = HashSet::new();
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let key = format!("destination[{i}]");
        let Some(d) = c.section::<DestinationConfig>(&key, item) else {
            continue;
        };
        if !names.insert(d.name.clone()) {
            c.problem(
                format!("{key}.name"),
                format!(
                    "{:?} is used by another destination: names must be unique",
                    d.name
                ),
            );
        }
        if let Some(settings) = destination(c, &key, d) {
            out.push(settings);
        }
    }
    out
}

fn destination(c: &mut Checker, key: &str, d: DestinationConfig) -> Option<DestinationSettings> {
    let before = c.problems_len();
    let name_ok = !d.name.is_empty()
        && d.name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
    if !name_ok {
        c.problem(
            format!("{key}.name"),
            format!(
                "{:?} must be non-empty and use only letters, digits, '-' and '_'",
                d.name
            ),
        );
    }
    for (field, value) in [("database", &d.database), ("table", &d.table)] {
        if value.trim().is_empty() || value.len() > 1024 {
            c.problem(
                format!("{key}.{field}"),
                "must be a non-empty name of at most 1024 characters",
            );
        }
    }
    let schema = TableSchema::parse(&d.columns)
        .map_err(|e| {
            c.problem(
                format!("{key}.columns"),
                format!("{e} (expected `Name:type, Name:type`)"),
            )
        })
        .ok();
    let transform_path = c.path(&d.transform);
    let transform = Transform::from_file(&transform_path)
        .map_err(|e| c.problem(format!("{key}.transform"), e.to_string()))
        .ok();
    let filter = filter(c, &format!("{key}.filter"), &d.filter);
    let mode = match d.ingestion {
        IngestionModeConfig::Streaming => IngestionMode::Streaming,
        IngestionModeConfig::Queued => IngestionMode::Queued,
        IngestionModeConfig::Managed => IngestionMode::Managed,
    };
    let batch = batch_limits(c, &format!("{key}.batch"), &d, mode);
    let mapping = d
        .mapping
        .clone()
        .unwrap_or_else(|| DEFAULT_MAPPING.to_string());
    if mapping.is_empty()
        || !mapping
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-' || ch == '.')
    {
        c.problem(
            format!("{key}.mapping"),
            format!("{mapping:?} must be non-empty and use only letters, digits, '_', '-' and '.'"),
        );
    }
    let batching_policy = d
        .batching_policy
        .as_ref()
        .and_then(|p| super::azure::batching_policy(c, &format!("{key}.batching_policy"), p));
    let dedupe_view = d.dedupe_view.as_ref().and_then(|v| {
        super::azure::dedupe_view(
            c,
            &format!("{key}.dedupe_view"),
            v,
            &d.table,
            schema.as_ref(),
        )
    });
    match (schema, transform, filter, batch) {
        (Some(schema), Some(transform), Some(filter), Some(batch))
            if c.problems_len() == before =>
        {
            Some(DestinationSettings {
                name: d.name,
                database: d.database,
                table: d.table,
                schema,
                filter,
                transform,
                ingestion: mode,
                batch,
                mapping,
                batching_policy,
                dedupe_view,
            })
        }
        _ => None,
    }
}

fn filter(c: &mut Checker, key: &str, f: &FilterConfig) -> Option<Filter> {
    let before = c.problems_len();
    let mut sources = Vec::new();
    for (i, s) in f.message_sources.iter().enumerate() {
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
    let known_types = MessageSource::all_known_types();
    for (i, t) in f.message_types.iter().enumerate() {
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
    let mut patterns = |field: &str, globs: &[String]| -> Option<Option<Patterns>> {
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
    };
    let templates = patterns("template_ids", &f.template_ids);
    let devices = patterns("device_ids", &f.device_ids);
    let predicate = match &f.predicate {
        None => Some(None),
        Some(text) => match compile_commented(text) {
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
        },
    };
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

/// The JSON ingestion mapping's name when a destination does not set one.
pub const DEFAULT_MAPPING: &str = "iotc_adx";

/// Default batch limits per ingestion mode, documented in docs/configuration.md.
pub fn default_batch_limits(mode: IngestionMode) -> BatchLimits {
    match mode {
        // Streaming requests are capped at 4 MB; gzip shrinks multijson 5-20x, so 16 MiB
        // uncompressed stays well below the cap for typical telemetry.
        IngestionMode::Streaming | IngestionMode::Managed => BatchLimits {
            max_rows: 20_000,
            max_bytes: 16 * 1024 * 1024,
            max_age: Duration::from_secs(1),
        },
        // Queued ingestion favours fewer, larger blobs.
        IngestionMode::Queued => BatchLimits {
            max_rows: 500_000,
            max_bytes: 256 * 1024 * 1024,
            max_age: Duration::from_secs(30),
        },
    }
}

fn batch_limits(
    c: &mut Checker,
    key: &str,
    d: &DestinationConfig,
    mode: IngestionMode,
) -> Option<BatchLimits> {
    let defaults = default_batch_limits(mode);
    let before = c.problems_len();
    let max_rows = d.batch.max_rows.unwrap_or(defaults.max_rows);
    if max_rows == 0 || max_rows > 10_000_000 {
        c.problem(
            format!("{key}.max_rows"),
            format!("{max_rows} is out of range: expected 1 to 10000000"),
        );
    }
    let max_bytes = d.batch.max_bytes.unwrap_or(defaults.max_bytes);
    if !(1024..=1024 * 1024 * 1024).contains(&max_bytes) {
        c.problem(
            format!("{key}.max_bytes"),
            format!("{max_bytes} is out of range: expected 1024 to 1073741824 (1 GiB)"),
        );
    }
    let max_age_ms = d
        .batch
        .max_age_ms
        .unwrap_or(defaults.max_age.as_millis() as u64);
    if !(1..=3_600_000).contains(&max_age_ms) {
        c.problem(
            format!("{key}.max_age_ms"),
            format!("{max_age_ms} is out of range: expected 1 to 3600000 (one hour)"),
        );
    }
    (c.problems_len() == before).then(|| BatchLimits {
        max_rows,
        max_bytes,
        max_age: Duration::from_millis(max_age_ms),
    })
}
