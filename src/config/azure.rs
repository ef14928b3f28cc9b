//! Validation of the Azure-facing sections: `[sink] type = "kusto"`, `[auth]` and each
//! destination's `batching_policy`. Same rules as the rest of [`super::validate`]: every
//! problem is recorded with its key path, none stops the search for the next.

use super::raw::{AuthConfig, BatchingPolicyConfig, KustoSinkConfig};
use super::validate::Checker;
use super::{BatchingPolicy, KustoSinkSettings};
use crate::auth::{AuthSettings, ServicePrincipalProof, UserAssigned, DEFAULT_AUTHORITY_HOST};
use crate::retry::RetryPolicy;
use std::time::Duration;

pub(super) fn kusto_sink_settings(c: &mut Checker, k: KustoSinkConfig) -> Option<KustoSinkSettings> {
    let before = c.problems_len();
    let cluster = http_url(c, "sink.cluster", &k.cluster, "https://mycluster.westeurope.kusto.windows.net");
    let ingest_url = k.ingest_url.as_deref().and_then(|u| http_url(c, "sink.ingest_url", u, "https://ingest-mycluster.westeurope.kusto.windows.net"));
    let max_in_flight = k.max_in_flight.unwrap_or(4);
    if !(1..=64).contains(&max_in_flight) {
        c.problem("sink.max_in_flight", format!("{max_in_flight} is out of range: expected 1 to 64"));
    }
    let timeout_ms = k.request_timeout_ms.unwrap_or(60_000);
    if !(1_000..=3_600_000).contains(&timeout_ms) {
        c.problem("sink.request_timeout_ms", format!("{timeout_ms} is out of range: expected 1000 to 3600000"));
    }
    let poll_ms = k.failure_poll_ms.unwrap_or(10_000);
    if !(100..=600_000).contains(&poll_ms) {
        c.problem("sink.failure_poll_ms", format!("{poll_ms} is out of range: expected 100 to 600000"));
    }
    let defaults = RetryPolicy::default();
    let initial = k.retry.initial_backoff_ms.map_or(defaults.initial_backoff, Duration::from_millis);
    let max = k.retry.max_backoff_ms.map_or(defaults.max_backoff, Duration::from_millis);
    if initial.is_zero() || initial > Duration::from_secs(60) {
        c.problem("sink.retry.initial_backoff_ms", format!("{} is out of range: expected 1 to 60000", initial.as_millis()));
    }
    if max < initial || max > Duration::from_secs(600) {
        c.problem(
            "sink.retry.max_backoff_ms",
            format!("{} is out of range: expected initial_backoff_ms ({}) to 600000", max.as_millis(), initial.as_millis()),
        );
    }
    let streaming_attempts = k.retry.streaming_attempts.unwrap_or(defaults.streaming_attempts);
    if !(1..=20).contains(&streaming_attempts) {
        c.problem("sink.retry.streaming_attempts", format!("{streaming_attempts} is out of range: expected 1 to 20"));
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
        retry: RetryPolicy { initial_backoff: initial, max_backoff: max, streaming_attempts },
    })
}

fn http_url(c: &mut Checker, key: &str, text: &str, example: &str) -> Option<url::Url> {
    match url::Url::parse(text) {
        Ok(u) if (u.scheme() == "https" || u.scheme() == "http") && u.host().is_some() && u.path().trim_matches('/').is_empty() => Some(u),
        Ok(_) => {
            c.problem(key, format!("{text:?} must be the cluster's base URL with no path, such as {example:?}"));
            None
        }
        Err(e) => {
            c.problem(key, format!("{text:?} is not a URL ({e}); expected something like {example:?}"));
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
            AuthSettings::ManagedIdentity { user_assigned: ids.into_iter().next() }
        }
        AuthConfig::ServicePrincipal(sp) => {
            not_blank(c, "auth.tenant_id", &sp.tenant_id);
            not_blank(c, "auth.client_id", &sp.client_id);
            let proof = match (sp.client_secret, sp.certificate_path) {
                (Some(secret), None) if !secret.is_empty() => Some(ServicePrincipalProof::Secret(secret)),
                (None, Some(path)) => Some(ServicePrincipalProof::Certificate(c.path(&path))),
                (Some(_), Some(_)) => {
                    c.problem("auth", "set either client_secret or certificate_path, not both");
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
            AuthSettings::ServicePrincipal { tenant_id: sp.tenant_id, client_id: sp.client_id, proof: proof?, authority_host: authority_host? }
        }
        AuthConfig::WorkloadIdentity(w) => AuthSettings::WorkloadIdentity {
            tenant_id: w.tenant_id,
            client_id: w.client_id,
            token_file: w.token_file.map(|p| c.path(&p)),
            authority_host: authority(c, w.authority_host)?,
        },
        AuthConfig::AzureCli(a) => AuthSettings::AzureCli { tenant_id: a.tenant_id },
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
            c.problem("auth.authority_host", format!("{host:?} must be an https URL such as {DEFAULT_AUTHORITY_HOST:?}"));
            None
        }
    }
}

pub(super) fn batching_policy(c: &mut Checker, key: &str, p: &BatchingPolicyConfig) -> Option<BatchingPolicy> {
    let before = c.problems_len();
    let mut range = |field: &str, value: Option<u64>, lo: u64, hi: u64| {
        if let Some(v) = value {
            if !(lo..=hi).contains(&v) {
                c.problem(format!("{key}.{field}"), format!("{v} is out of range: Data Explorer accepts {lo} to {hi}"));
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
