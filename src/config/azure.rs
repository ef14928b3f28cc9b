//! Validation of the Azure-facing sections: `[source] type = "eventhubs"`, `[sink] type = "kusto"`, `[auth]` and each
//! destination's `batching_policy` and `dedupe_view`. Same rules as the rest of [`super::validate`]: every
//! problem is recorded with its key path, none stops the search for the next.

use super::checker::Checker;
use super::raw::{
    AuthConfig, BatchingPolicyConfig, DedupeViewConfig, EventHubsSourceConfig, KustoSinkConfig,
};
use super::{BatchingPolicy, DedupeView, EventHubsSourceSettings, KustoSinkSettings, StartAt};
use crate::auth::{AuthSettings, ServicePrincipalProof, UserAssigned, DEFAULT_AUTHORITY_HOST};
use crate::retry::RetryPolicy;
use crate::schema::{KustoType, TableSchema};
use std::time::Duration;

pub(super) fn kusto_sink_settings(
    c: &mut Checker,
    k: KustoSinkConfig,
) -> Option<KustoSinkSettings> {
    let before = c.problems_len();
    let cluster = http_url(
        c,
        "sink.cluster",
        &k.cluster,
        "https://mycluster.westeurope.kusto.windows.net",
    );
    let ingest_url = k.ingest_url.as_deref().and_then(|u| {
        http_url(
            c,
            "sink.ingest_url",
            u,
            "https://ingest-mycluster.westeurope.kusto.windows.net",
        )
    });
    let max_in_flight = k.max_in_flight.unwrap_or(4);
    if !(1..=64).contains(&max_in_flight) {
        c.problem(
            "sink.max_in_flight",
            format!("{max_in_flight} is out of range: expected 1 to 64"),
        );
    }
    let timeout_ms = k.request_timeout_ms.unwrap_or(60_000);
    if !(1_000..=3_600_000).contains(&timeout_ms) {
        c.problem(
            "sink.request_timeout_ms",
            format!("{timeout_ms} is out of range: expected 1000 to 3600000"),
        );
    }
    let poll_ms = k.failure_poll_ms.unwrap_or(10_000);
    if !(100..=600_000).contains(&poll_ms) {
        c.problem(
            "sink.failure_poll_ms",
            format!("{poll_ms} is out of range: expected 100 to 600000"),
        );
    }
    let hold_ms = k.failure_hold_ms.unwrap_or(600_000);
    if !(1_000..=3_600_000).contains(&hold_ms) {
        c.problem(
            "sink.failure_hold_ms",
            format!("{hold_ms} is out of range: expected 1000 to 3600000"),
        );
    }
    let grace_ms = k.shutdown_grace_ms.unwrap_or(25_000);
    if grace_ms > 3_600_000 {
        c.problem(
            "sink.shutdown_grace_ms",
            format!("{grace_ms} is out of range: expected 0 to 3600000"),
        );
    }
    let defaults = RetryPolicy::default();
    let initial = k
        .retry
        .initial_backoff_ms
        .map_or(defaults.initial_backoff, Duration::from_millis);
    let max = k
        .retry
        .max_backoff_ms
        .map_or(defaults.max_backoff, Duration::from_millis);
    if initial.is_zero() || initial > Duration::from_secs(60) {
        c.problem(
            "sink.retry.initial_backoff_ms",
            format!(
                "{} is out of range: expected 1 to 60000",
                initial.as_millis()
            ),
        );
    }
    if max < initial || max > Duration::from_secs(600) {
        c.problem(
            "sink.retry.max_backoff_ms",
            format!(
                "{} is out of range: expected initial_backoff_ms ({}) to 600000",
                max.as_millis(),
                initial.as_millis()
            ),
        );
    }
    let streaming_attempts = k
        .retry
        .streaming_attempts
        .unwrap_or(defaults.streaming_attempts);
    if !(1..=20).contains(&streaming_attempts) {
        c.problem(
            "sink.retry.streaming_attempts",
            format!("{streaming_attempts} is out of range: expected 1 to 20"),
        );
    }
    let cluster = cluster?;
    (c.problems_len() == before).then(|| KustoSinkSettings {
        cluster,
        ingest_url,
        max_in_flight,
        request_timeout: Duration::from_millis(timeout_ms),
        dedupe: k.dedupe.unwrap_or(true),
        watch_failures: k.watch_failures.unwrap_or(true),
        failure_poll: Duration::from_millis(poll_ms),
        failure_hold: Duration::from_millis(hold_ms),
        shutdown_grace: Duration::from_millis(grace_ms),
        retry: RetryPolicy {
            initial_backoff: initial,
            max_backoff: max,
            streaming_attempts,
        },
    })
}

fn http_url(c: &mut Checker, key: &str, text: &str, example: &str) -> Option<url::Url> {
    match url::Url::parse(text) {
        Ok(u)
            if (u.scheme() == "https" || u.scheme() == "http")
                && u.host().is_some()
                && u.path().trim_matches('/').is_empty() =>
        {
            Some(u)
        }
        Ok(_) => {
            c.problem(
                key,
                format!(
                    "{text:?} must be the cluster's base URL with no path, such as {example:?}"
                ),
            );
            None
        }
        Err(e) => {
            c.problem(
                key,
                format!("{text:?} is not a URL ({e}); expected something like {example:?}"),
            );
            None
        }
    }
}

pub(super) fn auth_settings(c: &mut Checker, a: AuthConfig) -> Option<AuthSettings> {
    let before = c.problems_len();
    let settings = match a {
        AuthConfig::None(_) => AuthSettings::None,
        AuthConfig::ManagedIdentity(m) => {
            let ids: Vec<UserAssigned> = [
                m.client_id.map(UserAssigned::ClientId),
                m.object_id.map(UserAssigned::ObjectId),
                m.resource_id.map(UserAssigned::ResourceId),
            ]
            .into_iter()
            .flatten()
            .collect();
            if ids.len() > 1 {
                c.problem("auth", "set at most one of client_id, object_id and resource_id (none means the system-assigned identity)");
            }
            AuthSettings::ManagedIdentity {
                user_assigned: ids.into_iter().next(),
            }
        }
        AuthConfig::ServicePrincipal(sp) => {
            not_blank(c, "auth.tenant_id", &sp.tenant_id);
            not_blank(c, "auth.client_id", &sp.client_id);
            let proof = match (sp.client_secret, sp.certificate_path) {
                (Some(secret), None) if !secret.is_empty() => {
                    Some(ServicePrincipalProof::Secret(secret))
                }
                (None, Some(path)) => Some(ServicePrincipalProof::Certificate(c.path(&path))),
                (Some(_), Some(_)) => {
                    c.problem(
                        "auth",
                        "set either client_secret or certificate_path, not both",
                    );
                    None
                }
                _ => {
                    c.problem(
                        "auth.client_secret",
                        "missing: set client_secret (better through IOTC_ADX__AUTH__CLIENT_SECRET) or certificate_path",
                    );
                    None
                }
            };
            let authority_host = authority(c, sp.authority_host);
            AuthSettings::ServicePrincipal {
                tenant_id: sp.tenant_id,
                client_id: sp.client_id,
                proof: proof?,
                authority_host: authority_host?,
            }
        }
        AuthConfig::WorkloadIdentity(w) => AuthSettings::WorkloadIdentity {
            tenant_id: w.tenant_id,
            client_id: w.client_id,
            token_file: w.token_file.map(|p| c.path(&p)),
            authority_host: authority(c, w.authority_host)?,
        },
        AuthConfig::AzureCli(a) => AuthSettings::AzureCli {
            tenant_id: a.tenant_id,
        },
    };
    (c.problems_len() == before).then_some(settings)
}

fn not_blank(c: &mut Checker, key: &str, value: &str) {
    if value.trim().is_empty() {
        c.problem(key, "must not be empty");
    }
}

fn authority(c: &mut Checker, host: Option<String>) -> Option<String> {
    let host = host.unwrap_or_else(|| DEFAULT_AUTHORITY_HOST.to_string());
    match url::Url::parse(&host) {
        Ok(u) if u.scheme() == "https" => Some(host.trim_end_matches('/').to_string()),
        _ => {
            c.problem(
                "auth.authority_host",
                format!("{host:?} must be an https URL such as {DEFAULT_AUTHORITY_HOST:?}"),
            );
            None
        }
    }
}

pub(super) fn batching_policy(
    c: &mut Checker,
    key: &str,
    p: &BatchingPolicyConfig,
) -> Option<BatchingPolicy> {
    let before = c.problems_len();
    let mut range = |field: &str, value: Option<u64>, lo: u64, hi: u64| {
        if let Some(v) = value {
            if !(lo..=hi).contains(&v) {
                c.problem(
                    format!("{key}.{field}"),
                    format!("{v} is out of range: Data Explorer accepts {lo} to {hi}"),
                );
            }
        }
    };
    range("max_time_s", p.max_time_s, 10, 1800);
    range("max_items", p.max_items, 1, 25_000);
    range("max_raw_size_mb", p.max_raw_size_mb, 100, 4096);
    (c.problems_len() == before).then_some(BatchingPolicy {
        max_time: p.max_time_s.map(Duration::from_secs),
        max_items: p.max_items,
        max_raw_size_mb: p.max_raw_size_mb,
    })
}

/// Checks `[destination.dedupe_view]`: a view name that is not the table's, and keys that are
/// distinct, non-dynamic columns of the table (Data Explorer cannot group by dynamic).
pub(super) fn dedupe_view(
    c: &mut Checker,
    key: &str,
    v: &DedupeViewConfig,
    table: &str,
    schema: Option<&TableSchema>,
) -> Option<DedupeView> {
    let before = c.problems_len();
    if v.name.trim().is_empty() || v.name.len() > 1024 || v.name == table {
        c.problem(
            format!("{key}.name"),
            format!(
                "{:?} must be a non-empty name other than the table's",
                v.name
            ),
        );
    }
    if v.keys.is_empty() {
        c.problem(
            format!("{key}.keys"),
            "must name at least one column (the columns that identify a row)",
        );
    }
    for (i, k) in v.keys.iter().enumerate() {
        let at = format!("{key}.keys[{i}]");
        if v.keys[..i].contains(k) {
            c.problem(at, format!("{k:?} is listed twice"));
            continue;
        }
        let Some(schema) = schema else { continue };
        match schema.index_of(k).map(|i| schema.columns()[i].kind) {
            None => c.problem(at, format!("{k:?} is not one of the destination's columns")),
            Some(KustoType::Dynamic) => c.problem(
                at,
                format!("{k:?} is dynamic; Data Explorer cannot group by a dynamic column"),
            ),
            Some(_) => {}
        }
    }
    (c.problems_len() == before).then(|| DedupeView {
        name: v.name.clone(),
        keys: v.keys.clone(),
    })
}

pub(super) fn eventhubs_source_settings(
    c: &mut Checker,
    e: EventHubsSourceConfig,
) -> Option<EventHubsSourceSettings> {
    let before = c.problems_len();
    let (namespace, entity) = match (&e.namespace, &e.connection_string) {
        (Some(ns), None) => (
            Some(
                ns.trim_start_matches("sb://")
                    .trim_end_matches('/')
                    .to_string(),
            ),
            None,
        ),
        (None, Some(cs)) => match parse_connection_string(cs) {
            Ok(parsed) => parsed,
            Err(why) => {
                c.problem("source.connection_string", why);
                (None, None)
            }
        },
        (Some(_), Some(_)) => {
            c.problem(
                "source",
                "set either namespace (signing in with [auth]) or connection_string, not both",
            );
            (None, None)
        }
        (None, None) => {
            c.problem("source.namespace", "missing: set namespace = \"<name>.servicebus.windows.net\" (signing in with [auth]) or connection_string");
            (None, None)
        }
    };
    if let Some(ns) = &namespace {
        if ns.is_empty() || ns.contains(['/', ' ', '?']) {
            c.problem("source.namespace", format!("{ns:?} is not a fully qualified namespace such as \"myns.servicebus.windows.net\""));
        }
    }
    let event_hub = match (e.event_hub, entity) {
        (Some(hub), Some(entity)) if hub != entity => {
            c.problem(
                "source.event_hub",
                format!("{hub:?} differs from the connection string's EntityPath {entity:?}"),
            );
            None
        }
        (Some(hub), _) | (None, Some(hub)) => Some(hub),
        (None, None) => {
            c.problem(
                "source.event_hub",
                "missing: the event hub IoT Central exports to",
            );
            None
        }
    };
    let start = match e.start_position.as_deref().unwrap_or("earliest") {
        "earliest" => Some(StartAt::Earliest),
        "latest" => Some(StartAt::Latest),
        text => match chrono::DateTime::parse_from_rfc3339(text) {
            Ok(t) => Some(StartAt::Time(t.to_utc())),
            Err(_) => {
                c.problem("source.start_position", format!("{text:?} is not earliest, latest or an RFC 3339 time such as \"2026-11-01T00:00:00Z\""));
                None
            }
        },
    };
    let prefetch = e.prefetch.unwrap_or(300);
    if !(1..=10_000).contains(&prefetch) {
        c.problem(
            "source.prefetch",
            format!("{prefetch} is out of range: expected 1 to 10000"),
        );
    }
    let custom_endpoint = e
        .custom_endpoint
        .as_deref()
        .and_then(|u| match url::Url::parse(u) {
            Ok(url) if url.host().is_some() => Some(url),
            _ => {
                c.problem(
                    "source.custom_endpoint",
                    format!("{u:?} is not a URL such as \"amqps://10.0.0.4:5671\""),
                );
                None
            }
        });
    let greedy = match e.load_balancing.as_deref().unwrap_or("balanced") {
        "balanced" => false,
        "greedy" => true,
        other => {
            c.problem(
                "source.load_balancing",
                format!("{other:?} is not balanced or greedy"),
            );
            false
        }
    };
    let checkpoint_container = match url::Url::parse(&e.checkpoint_container) {
        Ok(u)
            if (u.scheme() == "https" || u.scheme() == "http")
                && u.path().trim_matches('/').split('/').count() >= 1
                && !u.path().trim_matches('/').is_empty() =>
        {
            Some(u)
        }
        _ => {
            let mut shown = e.checkpoint_container.clone();
            shown.truncate(shown.find('?').unwrap_or(shown.len()));
            c.problem("source.checkpoint_container", format!("{shown:?} is not a blob container URL such as \"https://myaccount.blob.core.windows.net/checkpoints\""));
            None
        }
    };
    let every_ms = e.checkpoint_every_ms.unwrap_or(5_000);
    if !(100..=600_000).contains(&every_ms) {
        c.problem(
            "source.checkpoint_every_ms",
            format!("{every_ms} is out of range: expected 100 to 600000"),
        );
    }
    let balance_ms = e.balance_interval_ms.unwrap_or(10_000);
    if !(200..=300_000).contains(&balance_ms) {
        c.problem(
            "source.balance_interval_ms",
            format!("{balance_ms} is out of range: expected 200 to 300000"),
        );
    }
    if c.problems_len() != before {
        return None;
    }
    Some(EventHubsSourceSettings {
        namespace: namespace?,
        connection_string: e.connection_string,
        event_hub: event_hub?,
        consumer_group: e.consumer_group.unwrap_or_else(|| "$Default".to_string()),
        start: start?,
        prefetch,
        custom_endpoint,
        greedy,
        checkpoint_container: checkpoint_container?,
        checkpoint_every: Duration::from_millis(every_ms),
        checkpoint_every_events: e.checkpoint_every_events.unwrap_or(0),
        balance_interval: Duration::from_millis(balance_ms),
    })
}

/// Namespace and `EntityPath` of an Event Hubs connection string; never echoes the key.
fn parse_connection_string(text: &str) -> Result<(Option<String>, Option<String>), String> {
    let mut endpoint = None;
    let mut entity = None;
    let mut has_key = false;
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, value)) = part.split_once('=') else {
            return Err(
                "is not a connection string: expected Key=Value pairs separated by ';'".into(),
            );
        };
        match key.to_ascii_lowercase().as_str() {
            "endpoint" => endpoint = Some(value.to_string()),
            "entitypath" => entity = Some(value.to_string()),
            "sharedaccesskey" | "sharedaccesssignature" => has_key = true,
            _ => {}
        }
    }
    let endpoint = endpoint.ok_or("has no Endpoint=sb://<namespace>/ part")?;
    if !has_key {
        return Err("has no SharedAccessKey (or SharedAccessSignature)".into());
    }
    let host = url::Url::parse(&endpoint)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .ok_or("Endpoint is not a URL such as sb://myns.servicebus.windows.net/")?;
    Ok((Some(host), entity))
}
