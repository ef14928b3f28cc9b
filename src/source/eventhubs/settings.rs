//! `[source] type = "eventhubs"`: the Event Hub IoT Central exports to, first as written (a
//! serde type that refuses unknown keys), then checked into [`EventHubsSourceSettings`] with
//! each problem's key path (`source.<key>`); none stops the search for the next.

use crate::settings_check::Checker;
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// `[source] type = "eventhubs"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventHubsSourceConfig {
    /// Fully qualified namespace, `myns.servicebus.windows.net` (signs in with `[auth]`).
    pub namespace: Option<String>,
    /// A connection string with a shared access key, instead of `namespace` and `[auth]`
    /// (prefer `IOTC_ADX__SOURCE__CONNECTION_STRING`).
    pub connection_string: Option<String>,
    /// The event hub; may come from the connection string's `EntityPath`.
    pub event_hub: Option<String>,
    /// Consumer group (default `$Default`).
    pub consumer_group: Option<String>,
    /// Where partitions without a checkpoint start: `earliest` (default), `latest`, or an
    /// RFC 3339 time.
    pub start_position: Option<String>,
    /// Events each partition receiver prefetches (default 300).
    pub prefetch: Option<u32>,
    /// Another address for the namespace's AMQP endpoint (private links, emulators).
    pub custom_endpoint: Option<String>,
    /// `balanced` (default) or `greedy`.
    pub load_balancing: Option<String>,
    /// Blob container URL for ownership and checkpoints (a SAS in the URL, or `[auth]`).
    pub checkpoint_container: String,
    /// Checkpoint a partition at most this often, in milliseconds (default 5000).
    pub checkpoint_every_ms: Option<u64>,
    /// Also checkpoint once this many events of a partition are confirmed, even sooner
    /// (default 0: time only).
    pub checkpoint_every_events: Option<u64>,
    /// How often replicas rebalance partitions, in milliseconds (default 10000); a replica's
    /// ownership expires after six intervals without renewal.
    pub balance_interval_ms: Option<u64>,
}

/// Validated `[source] type = "eventhubs"`.
#[derive(Clone, PartialEq, Eq)]
pub struct EventHubsSourceSettings {
    /// Fully qualified namespace.
    pub namespace: String,
    /// The connection string, when signing in with a shared access key.
    pub connection_string: Option<String>,
    /// The event hub.
    pub event_hub: String,
    /// Consumer group.
    pub consumer_group: String,
    /// Where partitions without a checkpoint start.
    pub start: StartAt,
    /// Prefetch per partition.
    pub prefetch: u32,
    /// Another AMQP address for the namespace.
    pub custom_endpoint: Option<url::Url>,
    /// Take partitions greedily (all at once) rather than a fair share at a time.
    pub greedy: bool,
    /// Container for ownership and checkpoint blobs.
    pub checkpoint_container: url::Url,
    /// Least time between two checkpoints of one partition.
    pub checkpoint_every: Duration,
    /// Confirmed events of a partition that trigger a checkpoint sooner (0: time only).
    pub checkpoint_every_events: u64,
    /// How often replicas rebalance partitions.
    pub balance_interval: Duration,
}

impl fmt::Debug for EventHubsSourceSettings {
    // Hand-written so that the connection string's key and a SAS never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut container = self.checkpoint_container.clone();
        container.set_query(None);
        f.debug_struct("EventHubsSourceSettings")
            .field("namespace", &self.namespace)
            .field("event_hub", &self.event_hub)
            .field("consumer_group", &self.consumer_group)
            .field("start", &self.start)
            .field("checkpoint_container", &container.as_str())
            .finish_non_exhaustive()
    }
}

/// Where a partition without a checkpoint starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    /// The oldest retained event.
    Earliest,
    /// Only events enqueued from now on.
    Latest,
    /// Events enqueued at or after this time.
    Time(chrono::DateTime<chrono::Utc>),
}

impl EventHubsSourceSettings {
    /// Checks `[source] type = "eventhubs"`; problems are recorded under `source.<key>`.
    pub(crate) fn from_config(c: &mut Checker, e: EventHubsSourceConfig) -> Option<Self> {
        let before = c.problems_len();
        let (namespace, entity) = namespace_and_entity(c, &e);
        let event_hub = event_hub(c, e.event_hub, entity);
        let start = start_at(c, e.start_position.as_deref().unwrap_or("earliest"));
        let prefetch = e.prefetch.unwrap_or(300);
        c.range("source.prefetch", prefetch, 1, 10_000);
        let custom_endpoint = e
            .custom_endpoint
            .as_deref()
            .and_then(|u| custom_endpoint(c, u));
        let greedy = greedy(c, e.load_balancing.as_deref().unwrap_or("balanced"));
        let checkpoint_container = checkpoint_container(c, &e.checkpoint_container);
        let every_ms = e.checkpoint_every_ms.unwrap_or(5_000);
        c.range("source.checkpoint_every_ms", every_ms, 100, 600_000);
        let balance_ms = e.balance_interval_ms.unwrap_or(10_000);
        c.range("source.balance_interval_ms", balance_ms, 200, 300_000);
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
}

/// The namespace, from `namespace` or the connection string, and the connection string's
/// `EntityPath`.
fn namespace_and_entity(
    c: &mut Checker,
    e: &EventHubsSourceConfig,
) -> (Option<String>, Option<String>) {
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
    (namespace, entity)
}

/// `event_hub`, or the connection string's `EntityPath`; both must agree when both are set.
fn event_hub(c: &mut Checker, hub: Option<String>, entity: Option<String>) -> Option<String> {
    match (hub, entity) {
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
    }
}

fn start_at(c: &mut Checker, text: &str) -> Option<StartAt> {
    match text {
        "earliest" => Some(StartAt::Earliest),
        "latest" => Some(StartAt::Latest),
        text => match chrono::DateTime::parse_from_rfc3339(text) {
            Ok(t) => Some(StartAt::Time(t.to_utc())),
            Err(_) => {
                c.problem("source.start_position", format!("{text:?} is not earliest, latest or an RFC 3339 time such as \"2026-11-01T00:00:00Z\""));
                None
            }
        },
    }
}

fn custom_endpoint(c: &mut Checker, text: &str) -> Option<url::Url> {
    match url::Url::parse(text) {
        Ok(url) if url.host().is_some() => Some(url),
        _ => {
            c.problem(
                "source.custom_endpoint",
                format!("{text:?} is not a URL such as \"amqps://10.0.0.4:5671\""),
            );
            None
        }
    }
}

/// `load_balancing`: whether partitions are taken greedily.
fn greedy(c: &mut Checker, text: &str) -> bool {
    match text {
        "balanced" => false,
        "greedy" => true,
        other => {
            c.problem(
                "source.load_balancing",
                format!("{other:?} is not balanced or greedy"),
            );
            false
        }
    }
}

/// The checkpoint container's URL; a problem never shows its SAS.
fn checkpoint_container(c: &mut Checker, text: &str) -> Option<url::Url> {
    match url::Url::parse(text) {
        Ok(u)
            if (u.scheme() == "https" || u.scheme() == "http")
                && u.path().trim_matches('/').split('/').count() >= 1
                && !u.path().trim_matches('/').is_empty() =>
        {
            Some(u)
        }
        _ => {
            let mut shown = text.to_string();
            shown.truncate(shown.find('?').unwrap_or(shown.len()));
            c.problem("source.checkpoint_container", format!("{shown:?} is not a blob container URL such as \"https://myaccount.blob.core.windows.net/checkpoints\""));
            None
        }
    }
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
