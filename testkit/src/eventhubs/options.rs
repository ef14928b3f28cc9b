//! What an emulated namespace contains: its name, event hubs (partitions, consumer groups),
//! shared access keys, and the token authority whose JWTs it trusts.

use super::TokenAuthority;
use std::collections::BTreeMap;

/// One event hub of the namespace.
#[derive(Debug, Clone)]
pub struct EventHubOptions {
    /// Hub name (the entity path).
    pub name: String,
    /// Number of partitions, ids `0..count`.
    pub partition_count: u32,
    /// Consumer groups; `$Default` is always present.
    pub consumer_groups: Vec<String>,
}

impl EventHubOptions {
    /// A hub with `partition_count` partitions and only the `$Default` consumer group.
    pub fn new(name: &str, partition_count: u32) -> Self {
        EventHubOptions {
            name: name.to_string(),
            partition_count: partition_count.max(1),
            consumer_groups: vec!["$Default".into()],
        }
    }

    /// Adds a consumer group.
    pub fn with_consumer_group(mut self, group: &str) -> Self {
        self.consumer_groups.push(group.to_string());
        self
    }
}

/// Configuration of [`super::EventHubsEmulator::start`].
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// Namespace host name clients put in URLs, e.g. `testns.servicebus.windows.net`.
    pub namespace: String,
    /// The hubs.
    pub event_hubs: Vec<EventHubOptions>,
    /// Shared access keys: key name → key (as found in connection strings).
    pub sas_keys: BTreeMap<String, String>,
    /// Authority whose JWTs (audience `https://eventhubs.azure.net`) are accepted.
    pub token_authority: Option<TokenAuthority>,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            namespace: "testns.servicebus.windows.net".into(),
            event_hubs: vec![EventHubOptions::new("hub", 2)],
            sas_keys: BTreeMap::from([(
                "RootManageSharedAccessKey".to_string(),
                "dGVzdC1rZXktbm90LWEtc2VjcmV0".to_string(),
            )]),
            token_authority: None,
        }
    }
}

impl EmulatorOptions {
    /// Options for `namespace` with no hubs and no keys.
    pub fn new(namespace: &str) -> Self {
        EmulatorOptions {
            namespace: namespace.into(),
            event_hubs: vec![],
            sas_keys: BTreeMap::new(),
            token_authority: None,
        }
    }

    /// Adds a hub.
    pub fn with_event_hub(mut self, hub: EventHubOptions) -> Self {
        self.event_hubs.push(hub);
        self
    }

    /// Adds a shared access key.
    pub fn with_sas_key(mut self, name: &str, key: &str) -> Self {
        self.sas_keys.insert(name.into(), key.into());
        self
    }

    /// Trusts JWTs from `authority`.
    pub fn with_token_authority(mut self, authority: TokenAuthority) -> Self {
        self.token_authority = Some(authority);
        self
    }
}
