//! What every delivery of the Data Explorer sink shares: each destination's [`Target`] and
//! the sink's [`Inner`] state (client, retry policy, where streaming is off). Apart from the
//! folder's `mod.rs` so that delivery, failures and held batches use it without importing the
//! module that starts them.

use crate::destination::IngestionMode;
use crate::retry::RetryPolicy;
use iotc_adx_kusto::KustoClient;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Where one destination's batches go.
#[derive(Debug, Clone)]
pub(super) struct Target {
    /// The destination's name (part of dedupe tags).
    pub(super) name: String,
    pub(super) database: String,
    pub(super) table: String,
    pub(super) mapping: String,
    pub(super) mode: IngestionMode,
}

impl Target {
    pub(super) fn table_name(&self) -> String {
        format!("{}.{}", self.database, self.table)
    }
}

/// Shared by all deliveries in flight.
pub(super) struct Inner {
    pub(super) client: KustoClient,
    pub(super) targets: Vec<Target>,
    pub(super) retry: RetryPolicy,
    pub(super) dedupe: bool,
    pub(super) watch_failures: bool,
    /// Per destination: until when streaming is known to be off for its table.
    pub(super) streaming_off: Mutex<HashMap<usize, Instant>>,
}

impl Inner {
    pub(super) fn streaming_off_until(&self, destination: usize) -> Option<Instant> {
        self.streaming_off.lock().ok()?.get(&destination).copied()
    }

    pub(super) fn remember_streaming_off(&self, destination: usize, until: Instant) {
        if let Ok(mut map) = self.streaming_off.lock() {
            map.insert(destination, until);
        }
    }
}
