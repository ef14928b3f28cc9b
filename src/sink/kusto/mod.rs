//! The Data Explorer sink: each destination's batches go to its table by streaming, queued or
//! managed ingestion (`deliver.rs`), through our Kusto client ([`iotc_adx_kusto`]).
//!
//! At start-up [`KustoSink::connect`] checks that the cluster answers and that every
//! destination's table exists with the configured columns ([`table`]), so a typo or a missing
//! `iotc-adx provision` is reported at once instead of as a stream of dead letters. With
//! `watch_failures`, a task reads the failed-ingestions queue and reports what queued
//! ingestion refused after accepting it ([`LateRejection`]s), which the pipeline dead-letters.

mod dedupe;
mod deliver;
mod failures;
mod held;
mod metrics;
pub mod settings;
mod shared;
pub mod table;

pub use dedupe::BatchIdentity;
pub use deliver::STREAMING_LIMIT;
pub use settings::KustoSinkSettings;
pub use table::TableError;

use shared::{Inner, Target};

use super::contract::{DeliveryFuture, IngestedFuture, LateRejection, Sink};
use crate::batch::Batch;
use crate::destination::DestinationSettings;
use crate::destination::IngestionMode;
use iotc_adx_kusto::{ClientOptions, KustoClient, KustoError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// The sink could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The cluster did not answer a first command.
    #[error("cannot reach Data Explorer at {cluster}: {source}")]
    Unreachable {
        /// The engine URL.
        cluster: String,
        /// What failed.
        #[source]
        source: KustoError,
    },
    /// A table is missing or differs from the configuration.
    #[error(transparent)]
    Table(#[from] TableError),
}

/// The Kusto client for the sink's settings: the cluster (and ingestion endpoint), the
/// credential, the request timeout.
pub fn client(
    settings: &KustoSinkSettings,
    credential: Option<Arc<dyn azure_core::credentials::TokenCredential>>,
) -> Result<KustoClient, KustoError> {
    KustoClient::new(ClientOptions {
        engine: settings.cluster.clone(),
        ingest: settings.ingest_url.clone(),
        credential,
        scope: None,
        app: "iotc-adx".into(),
        timeout: settings.request_timeout,
        http: None,
    })
}

/// Ingests batches into Data Explorer.
pub struct KustoSink {
    inner: Arc<Inner>,
    max_in_flight: usize,
    late: Option<mpsc::Receiver<LateRejection>>,
    /// Tells the failure watcher which rejections' letters are stored.
    stored: Option<mpsc::UnboundedSender<u64>>,
}

impl KustoSink {
    /// Connects: checks the cluster and every destination's table, then starts the failure
    /// watcher when configured.
    pub async fn connect(
        client: KustoClient,
        settings: &KustoSinkSettings,
        destinations: &[DestinationSettings],
    ) -> Result<Self, ConnectError> {
        client
            .mgmt("NetDefaultDB", ".show version")
            .await
            .map_err(|source| ConnectError::Unreachable {
                cluster: settings.cluster.to_string(),
                source,
            })?;
        for d in destinations {
            table::check_table(&client, d).await?;
        }
        Ok(Self::new(client, settings, destinations))
    }

    /// A sink without start-up checks (tests, and `connect` after its checks).
    pub fn new(
        client: KustoClient,
        settings: &KustoSinkSettings,
        destinations: &[DestinationSettings],
    ) -> Self {
        let targets = destinations
            .iter()
            .map(|d| Target {
                name: d.name.clone(),
                database: d.database.clone(),
                table: d.table.clone(),
                mapping: d.mapping.clone(),
                mode: d.ingestion,
            })
            .collect();
        let inner = Arc::new(Inner {
            client,
            targets,
            retry: settings.retry,
            dedupe: settings.dedupe,
            watch_failures: settings.watch_failures,
            streaming_off: Mutex::new(HashMap::new()),
        });
        let uses_queued = destinations
            .iter()
            .any(|d| d.ingestion != IngestionMode::Streaming);
        let (late, stored) = match settings.watch_failures && uses_queued {
            true => {
                let (late, stored) =
                    failures::watch(inner.clone(), settings.failure_poll, settings.failure_hold);
                (Some(late), Some(stored))
            }
            false => (None, None),
        };
        KustoSink {
            inner,
            max_in_flight: settings.max_in_flight,
            late,
            stored,
        }
    }
}

impl Sink for KustoSink {
    fn deliver(&self, batch: Batch) -> DeliveryFuture {
        let inner = self.inner.clone();
        Box::pin(async move { deliver::deliver(&inner, batch).await })
    }

    fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    fn late_rejections(&mut self) -> Option<mpsc::Receiver<LateRejection>> {
        self.late.take()
    }

    fn late_rejection_stored(&self, receipt: u64) {
        if let Some(stored) = &self.stored {
            // The watcher is gone only when the sink is: its reports reappear to others.
            let _ = stored.send(receipt);
        }
    }

    /// Queued destinations with dedupe on: their batches' `ingest-by:` tags say which events
    /// the table holds.
    fn resumable(&self, destination: usize) -> bool {
        self.inner.dedupe
            && self
                .inner
                .targets
                .get(destination)
                .is_some_and(|t| t.mode == IngestionMode::Queued)
    }

    fn ingested(&self, destination: usize, partition: &str) -> IngestedFuture {
        let inner = self.inner.clone();
        let partition = partition.to_string();
        Box::pin(async move { held::ranges(&inner, destination, &partition).await })
    }
}
