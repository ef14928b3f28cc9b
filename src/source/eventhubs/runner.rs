//! The thread the official event processor runs on. Its partition clients' futures are not
//! `Send`, so they live on a current-thread runtime with a `LocalSet`; events cross to the
//! pipeline through a bounded channel, so a slow pipeline stops the partition clients from
//! pulling (their prefetch is the only other buffer).

use super::convert::to_source_event;
use crate::config::{EventHubsSourceSettings, StartAt};
use crate::event::SourceEvent;
use azure_core::credentials::TokenCredential;
use azure_messaging_eventhubs::models::StartPositions;
use azure_messaging_eventhubs::{CheckpointStore, ConsumerClient, EventProcessor, ProcessorStrategy, StartLocation, StartPosition};
use futures::StreamExt;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot, watch};

/// What the runner needs.
pub(super) struct Runner {
    pub settings: EventHubsSourceSettings,
    pub credential: Option<Arc<dyn TokenCredential>>,
    pub store: Arc<dyn CheckpointStore + Send + Sync>,
    pub events: mpsc::Sender<SourceEvent>,
    /// Partitions this replica currently reads.
    pub owned: Arc<Mutex<HashSet<String>>>,
    pub stop: watch::Receiver<bool>,
}

impl Runner {
    /// Starts the thread; `ready` gets the outcome of connecting.
    pub fn spawn(self, ready: oneshot::Sender<Result<(), String>>) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new().name("eventhubs".into()).spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready.send(Err(format!("cannot start the Event Hubs runtime: {e}")));
                    return;
                }
            };
            let local = tokio::task::LocalSet::new();
            local.block_on(&runtime, self.run(ready));
        })
    }

    async fn run(self, ready: oneshot::Sender<Result<(), String>>) {
        let processor = match self.connect().await {
            Ok(p) => {
                let _ = ready.send(Ok(()));
                p
            }
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let runner = processor.clone();
        tokio::task::spawn_local(async move {
            if let Err(e) = runner.run().await {
                tracing::error!(error = %e, "the Event Hubs processor stopped");
            }
        });
        let mut stop = self.stop.clone();
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                next = processor.next_partition_client() => match next {
                    Ok(client) => {
                        let (events, owned, stop) = (self.events.clone(), self.owned.clone(), self.stop.clone());
                        tokio::task::spawn_local(read_partition(client, events, owned, stop));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "no more partition clients");
                        break;
                    }
                },
            }
        }
        // Releases ownership so other replicas take over at once.
        if let Err(e) = processor.shutdown().await {
            tracing::warn!(error = %e, "Event Hubs processor shutdown");
        }
    }

    async fn connect(&self) -> Result<Arc<EventProcessor>, String> {
        let s = &self.settings;
        // The SDK names the connection, and so the processor's owner id, after the application
        // id: it must differ per replica, or every replica claims every partition as "itself".
        let mut builder = ConsumerClient::builder().with_consumer_group(s.consumer_group.clone()).with_application_id(owner_id());
        if let Some(endpoint) = &s.custom_endpoint {
            builder = builder.with_custom_endpoint(endpoint.to_string());
        }
        let consumer = match (&s.connection_string, &self.credential) {
            (Some(cs), _) => builder.open_with_connection_string(cs, Some(&s.event_hub)).await,
            (None, Some(credential)) => builder.open(&s.namespace, s.event_hub.clone(), credential.clone()).await,
            (None, None) => return Err("Event Hubs needs [auth] credentials or a connection string".into()),
        }
        .map_err(|e| format!("cannot connect to event hub {} in {}: {e}", s.event_hub, s.namespace))?;
        let location = match s.start {
            StartAt::Earliest => StartLocation::Earliest,
            StartAt::Latest => StartLocation::Latest,
            StartAt::Time(t) => StartLocation::EnqueuedTime(t.into()),
        };
        let interval = s.balance_interval.as_millis() as i64;
        EventProcessor::builder()
            .with_start_positions(StartPositions { default: StartPosition { location, inclusive: false }, ..Default::default() })
            .with_load_balancing_strategy(if s.greedy { ProcessorStrategy::Greedy } else { ProcessorStrategy::Balanced })
            .with_prefetch(s.prefetch)
            .with_update_interval(azure_core::time::Duration::milliseconds(interval))
            .with_partition_expiration_duration(azure_core::time::Duration::milliseconds(interval * 6))
            .build(consumer, self.store.clone())
            .await
            .map_err(|e| format!("cannot start the event processor for {}: {e}", s.event_hub))
    }
}

/// A unique, readable owner id: `iotc-adx-<host name>-<random>` (the pod name on Kubernetes).
fn owner_id() -> String {
    let host = std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "host".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("iotc-adx-{host}-{}", &random[..8])
}

/// Reads one partition until it is lost, the pipeline stops taking events, or shutdown.
async fn read_partition(
    client: Arc<azure_messaging_eventhubs::processor::PartitionClient>,
    events: mpsc::Sender<SourceEvent>,
    owned: Arc<Mutex<HashSet<String>>>,
    mut stop: watch::Receiver<bool>,
) {
    let partition = client.get_partition_id().to_string();
    if let Ok(mut set) = owned.lock() {
        set.insert(partition.clone());
    }
    tracing::info!(partition = %partition, "reading partition");
    let lost = {
        let mut stream = Box::pin(client.stream_events());
        loop {
            tokio::select! {
                _ = stop.changed() => break false,
                next = stream.next() => match next {
                    Some(Ok(event)) => {
                        if events.send(to_source_event(&partition, &event)).await.is_err() {
                            break false;
                        }
                    }
                    Some(Err(e)) => {
                        // Stolen by another replica, expired, or the link or connection failed.
                        tracing::info!(partition = %partition, error = %e, "partition reader ended");
                        break true;
                    }
                    None => break true,
                },
            }
        }
    };
    if let Ok(mut set) = owned.lock() {
        set.remove(&partition);
    }
    if lost {
        // Hand the partition back: closing the client removes it from the processor, whose
        // next balancing round opens a new reader from the last checkpoint if this replica
        // still owns the partition (events after the checkpoint come again; the pipeline's
        // checkpoints never move back). The processor keeps only a weak reference, so this
        // task holds the one strong one.
        match Arc::try_unwrap(client) {
            Ok(client) => {
                if let Err(e) = client.close().await {
                    tracing::debug!(partition = %partition, error = %e, "closing the lost partition client");
                }
            }
            Err(_) => tracing::warn!(partition = %partition, "the lost partition client is still shared; the processor reopens it when ownership moves"),
        }
    }
}
