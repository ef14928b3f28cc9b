//! The thread the official event processor runs on. Its partition clients' futures are not
//! `Send`, so they live on a current-thread runtime with a `LocalSet`; events cross to the
//! pipeline through a bounded channel, so a slow pipeline stops the partition clients from
//! pulling (their prefetch is the only other buffer).
//!
//! A reader whose partition moved to another reader hands it back to the processor. A reader
//! that fails with any other error makes the runner throw the whole client away (processor,
//! connection, every reader) and open a new one that resumes from the checkpoints: the SDK
//! reports only errors it gave up on, and when several links of its one connection fail at
//! once (the service force-detaches them, or drops the connection) its concurrent recoveries
//! can leave that connection unusable — a re-attach refused with "Link name is not unique",
//! or an authorization waiting forever on a connection another recovery closed. That last one
//! reports nothing, so a watchdog (see `watchdog.rs`) also reopens the client when an owned
//! partition has newer events and its reader has delivered nothing for a while.

use super::convert::to_source_event;
use super::metrics::{self, Gauges};
use super::settings::EventHubsSourceSettings;
use super::watchdog::{Progress, Watchdog};
use crate::event::SourceEvent;
use crate::telemetry::health::health;
use azure_core::credentials::TokenCredential;
use azure_messaging_eventhubs::error::ErrorKind;
use azure_messaging_eventhubs::models::Ownership;
use azure_messaging_eventhubs::{
    CheckpointStore, ConsumerClient, EventProcessor, ProcessorStrategy,
};
use futures::StreamExt;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// How long releasing the partitions at shutdown may take.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(5);
/// The pause before a new client is opened after the previous one failed.
const REOPEN_PAUSE: Duration = Duration::from_millis(500);

/// What the runner needs.
pub(super) struct Runner {
    pub settings: EventHubsSourceSettings,
    pub credential: Option<Arc<dyn TokenCredential>>,
    pub store: Arc<dyn CheckpointStore + Send + Sync>,
    pub events: mpsc::Sender<SourceEvent>,
    /// Partitions this replica currently reads.
    pub owned: Arc<Mutex<HashSet<String>>>,
    /// Stop reading (the pipeline is done taking events).
    pub stop: watch::Receiver<bool>,
    /// The last checkpoints are written: give the partitions up and end.
    pub release: watch::Receiver<bool>,
    /// Partitions taken from another owner, and how long to wait before reading them.
    pub handovers: Arc<super::handover::Handovers>,
}

impl Runner {
    /// Starts the thread; `ready` gets the outcome of connecting.
    pub fn spawn(
        self,
        ready: oneshot::Sender<Result<(), String>>,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name("eventhubs".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ =
                            ready.send(Err(format!("cannot start the Event Hubs runtime: {e}")));
                        return;
                    }
                };
                let local = tokio::task::LocalSet::new();
                local.block_on(&runtime, self.run(ready));
            })
    }

    /// Runs the processor; when a partition reader fails with an error the SDK could not
    /// recover from, throws the whole client away and opens a new one (see [`Generation`]).
    async fn run(self, ready: oneshot::Sender<Result<(), String>>) {
        // One owner id for every generation, so a new processor finds its own claims.
        let owner = owner_id();
        let mut ready = Some(ready);
        let mut stop = self.stop.clone();
        let progress = Arc::new(Progress::default());
        let mut watchdog: Option<Watchdog> = None;
        let mut gauges = Gauges::default();
        loop {
            let processor = match self.connect(&owner).await {
                Ok(p) => {
                    if let Some(r) = ready.take() {
                        let _ = r.send(Ok(()));
                    }
                    health().source_connected();
                    p
                }
                Err(e) => {
                    if let Some(r) = ready.take() {
                        let _ = r.send(Err(e));
                        return;
                    }
                    tracing::warn!(error = %e, "reopening the Event Hubs client failed; retrying");
                    health().source_disconnected("cannot reconnect to Event Hubs; retrying");
                    tokio::select! {
                        _ = stop.changed() => return,
                        _ = tokio::time::sleep(REOPEN_PAUSE) => continue,
                    }
                }
            };
            if watchdog.is_none() {
                watchdog = self.watchdog(&owner).await;
            }
            match self
                .run_generation(processor, &progress, watchdog.as_ref(), &mut gauges)
                .await
            {
                Generation::Stopped => {
                    // Nothing more to deliver: let the pipeline see the end of the events.
                    let Runner {
                        settings,
                        store,
                        events,
                        owned,
                        mut release,
                        ..
                    } = self;
                    drop(events);
                    // Keep the claims until the final checkpoints are written.
                    let _ = release.wait_for(|r| *r).await;
                    relinquish(&settings, store.as_ref(), &owner, &owned).await;
                    return;
                }
                Generation::Failed(partition) => {
                    tracing::warn!(partition = %partition, "a partition reader failed and the SDK did not recover it; reopening the Event Hubs client (reading resumes from the checkpoints)");
                    health().source_disconnected("reopening the Event Hubs client");
                    tokio::select! {
                        _ = stop.changed() => return,
                        _ = tokio::time::sleep(REOPEN_PAUSE) => {}
                    }
                }
            }
        }
    }

    /// Hands out partition clients from one processor until shutdown or a reader failure.
    async fn run_generation(
        &self,
        processor: Arc<EventProcessor>,
        progress: &Arc<Progress>,
        watchdog: Option<&Watchdog>,
        gauges: &mut Gauges,
    ) -> Generation {
        let runner = processor.clone();
        tokio::task::spawn_local(async move {
            if let Err(e) = runner.run().await {
                tracing::error!(error = %e, "the Event Hubs processor stopped");
            }
        });
        let (failed_tx, mut failed_rx) = mpsc::unbounded_channel::<String>();
        let (retire_tx, retire_rx) = watch::channel(false);
        let mut stop = self.stop.clone();
        let check_every = watchdog.map_or(Duration::from_secs(3600), |w| w.stall_after / 2);
        let mut check =
            tokio::time::interval_at(tokio::time::Instant::now() + check_every, check_every);
        let mut measure =
            tokio::time::interval(metrics::measure_every(self.settings.balance_interval));
        let outcome = loop {
            tokio::select! {
                _ = stop.changed() => break Generation::Stopped,
                _ = measure.tick(), if watchdog.is_some() => {
                    if let Some(w) = watchdog {
                        let owned: Vec<String> = self.owned.lock().map(|s| s.iter().cloned().collect()).unwrap_or_default();
                        gauges.measure(w, &owned).await;
                    }
                }
                Some(partition) = failed_rx.recv() => break Generation::Failed(partition),
                _ = check.tick() => {
                    // A full channel means the pipeline is slow, not that a reader is stuck.
                    if let (Some(w), true) = (watchdog, self.events.capacity() > 0) {
                        let owned: Vec<String> = self.owned.lock().map(|s| s.iter().cloned().collect()).unwrap_or_default();
                        if let Some(partition) = w.stuck(progress, &owned).await {
                            tracing::warn!(partition = %partition, "a partition reader delivers nothing although newer events exist");
                            break Generation::Failed(partition);
                        }
                    }
                }
                next = processor.next_partition_client() => match next {
                    Ok(client) => {
                        let reader = Reader {
                            events: self.events.clone(),
                            owned: self.owned.clone(),
                            stop: self.stop.clone(),
                            retire: retire_rx.clone(),
                            failed: failed_tx.clone(),
                            progress: progress.clone(),
                            handovers: self.handovers.clone(),
                        };
                        tokio::task::spawn_local(reader.read(client));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "no more partition clients");
                        break Generation::Stopped;
                    }
                },
            }
        };
        // Stops this generation's readers (they drop their clients) and its balancing loop.
        let _ = retire_tx.send(true);
        if let Err(e) = processor.shutdown().await {
            tracing::warn!(error = %e, "Event Hubs processor shutdown");
        }
        outcome
    }

    /// Opens a consumer client named `application_id` (the SDK names its connection after it).
    async fn open_consumer(&self, application_id: String) -> Result<ConsumerClient, String> {
        let s = &self.settings;
        let mut builder = ConsumerClient::builder()
            .with_consumer_group(s.consumer_group.clone())
            .with_application_id(application_id);
        if let Some(endpoint) = &s.custom_endpoint {
            builder = builder.with_custom_endpoint(endpoint.to_string());
        }
        match (&s.connection_string, &self.credential) {
            (Some(cs), _) => {
                builder
                    .open_with_connection_string(cs, Some(&s.event_hub))
                    .await
            }
            (None, Some(credential)) => {
                builder
                    .open(&s.namespace, s.event_hub.clone(), credential.clone())
                    .await
            }
            (None, None) => {
                return Err("Event Hubs needs [auth] credentials or a connection string".into())
            }
        }
        .map_err(|e| {
            format!(
                "cannot connect to event hub {} in {}: {e}",
                s.event_hub, s.namespace
            )
        })
    }

    /// The stuck-reader check, on its own connection; `None` (with a warning) if that cannot
    /// be opened.
    async fn watchdog(&self, owner: &str) -> Option<Watchdog> {
        match self.open_consumer(format!("{owner}-probe")).await {
            Ok(probe) => Some(Watchdog {
                probe,
                store: self.store.clone(),
                namespace: self.settings.namespace.clone(),
                event_hub: self.settings.event_hub.clone(),
                consumer_group: self.settings.consumer_group.clone(),
                stall_after: (self.settings.balance_interval * 6).max(Duration::from_secs(5)),
            }),
            Err(e) => {
                tracing::warn!(error = %e, "no stuck-reader check: its probe connection failed");
                None
            }
        }
    }

    async fn connect(&self, owner: &str) -> Result<Arc<EventProcessor>, String> {
        let s = &self.settings;
        // The SDK names the connection, and so the processor's owner id, after the application
        // id: it must differ per replica, or every replica claims every partition as "itself".
        let consumer = self.open_consumer(owner.to_string()).await?;
        let interval = s.balance_interval.as_millis() as i64;
        EventProcessor::builder()
            .with_start_positions(super::start::start_positions(s.start))
            .with_load_balancing_strategy(if s.greedy {
                ProcessorStrategy::Greedy
            } else {
                ProcessorStrategy::Balanced
            })
            .with_prefetch(s.prefetch)
            .with_update_interval(azure_core::time::Duration::milliseconds(interval))
            .with_partition_expiration_duration(azure_core::time::Duration::milliseconds(
                interval * 6,
            ))
            .build(consumer, self.store.clone())
            .await
            .map_err(|e| format!("cannot start the event processor for {}: {e}", s.event_hub))
    }
}

/// A unique, readable owner id: `iotc-adx-<host name>-<random>` (the pod name on Kubernetes).
fn owner_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("iotc-adx-{host}-{}", &random[..8])
}

/// How one processor's run ended.
enum Generation {
    /// Shutdown, or the processor stopped handing out partitions.
    Stopped,
    /// A reader of this partition failed with an error the SDK gave up on.
    Failed(String),
}

/// What a partition reader needs.
struct Reader {
    events: mpsc::Sender<SourceEvent>,
    /// Partitions this replica currently reads.
    owned: Arc<Mutex<HashSet<String>>>,
    /// Shutdown of the source.
    stop: watch::Receiver<bool>,
    /// Set when this reader's processor is being replaced.
    retire: watch::Receiver<bool>,
    /// Where a reader reports a failure the SDK did not recover from.
    failed: mpsc::UnboundedSender<String>,
    /// Where a reader records what it delivered, for the watchdog.
    progress: Arc<Progress>,
    /// Says how long to wait before reading a partition taken from another owner.
    handovers: Arc<super::handover::Handovers>,
}

/// How a partition reader ended.
enum Ended {
    /// Shutdown: the partition stays this replica's until the last checkpoints are written
    /// and the runner releases it.
    Shutdown,
    /// The pipeline stopped taking events, or the processor is being replaced.
    Stopped,
    /// The partition went to another reader (stolen, or ownership moved), or its stream ended.
    Lost,
    /// The SDK gave up on an error it could not recover from.
    Failed,
}

impl Reader {
    /// Reads one partition until it is lost, fails, the pipeline stops taking events, or
    /// shutdown.
    async fn read(mut self, client: Arc<azure_messaging_eventhubs::processor::PartitionClient>) {
        let partition = client.get_partition_id().to_string();
        if let Some(wait) = self
            .handovers
            .wait_before_reading(&partition, std::time::SystemTime::now())
        {
            tracing::info!(partition = %partition, wait_s = wait.as_secs(), "taken from another owner: waiting until its queued batches are committed");
            // Not yet counted as owned: a stop now leaves the claim to expire.
            tokio::select! {
                biased;
                _ = self.stop.changed() => return,
                _ = self.retire.changed() => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
        if let Ok(mut set) = self.owned.lock() {
            set.insert(partition.clone());
            metrics::owned(set.len());
        }
        tracing::info!(partition = %partition, "reading partition");
        self.progress.started(&partition);
        let ended = {
            let mut stream = Box::pin(client.stream_events());
            loop {
                // Shutdown first: it retires the readers too, and must be told apart.
                tokio::select! {
                    biased;
                    _ = self.stop.changed() => break Ended::Shutdown,
                    _ = self.retire.changed() => break Ended::Stopped,
                    next = stream.next() => match next {
                        Some(Ok(event)) => {
                            let sequence_number = event.sequence_number();
                            if self.events.send(to_source_event(&partition, &event)).await.is_err() {
                                break Ended::Stopped;
                            }
                            if let Some(n) = sequence_number {
                                self.progress.delivered(&partition, n);
                            }
                        }
                        Some(Err(e)) if matches!(e.kind, ErrorKind::ConsumerDisconnected(_)) => {
                            tracing::info!(partition = %partition, error = %e, "partition taken over by another reader");
                            break Ended::Lost;
                        }
                        Some(Err(e)) => {
                            // The SDK retries and recovers links, sessions and the connection
                            // itself before it reports an error here; what reaches us it gave
                            // up on, and its connection may be left unusable (several
                            // partitions recovering at once can wedge it).
                            tracing::warn!(partition = %partition, error = %e, "partition reader failed");
                            break Ended::Failed;
                        }
                        None => break Ended::Lost,
                    },
                }
            }
        };
        if matches!(ended, Ended::Shutdown) {
            return;
        }
        if let Ok(mut set) = self.owned.lock() {
            set.remove(&partition);
            metrics::owned(set.len());
        }
        metrics::forget(&partition);
        match ended {
            Ended::Shutdown | Ended::Stopped => {}
            Ended::Failed => {
                let _ = self.failed.send(partition);
            }
            Ended::Lost => hand_back(client, &partition).await,
        }
    }
}

/// Gives up every partition `owner` holds (an empty owner id, written only if the claim is
/// still ours), so that other replicas take them at their next balancing round rather than
/// after the claims expire. A failure only delays the takeover.
async fn relinquish(
    settings: &EventHubsSourceSettings,
    store: &(dyn CheckpointStore + Send + Sync),
    owner: &str,
    owned: &Mutex<HashSet<String>>,
) {
    let listed = tokio::time::timeout(
        RELEASE_TIMEOUT,
        store.list_ownerships(
            &settings.namespace,
            &settings.event_hub,
            &settings.consumer_group,
        ),
    )
    .await;
    let mine: Vec<Ownership> = match listed {
        Ok(Ok(list)) => list
            .into_iter()
            .filter(|o| o.owner_id.as_deref() == Some(owner))
            .map(|mut o| {
                o.owner_id = None;
                o
            })
            .collect(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot list ownerships to release them: other replicas take the partitions when the claims expire");
            Vec::new()
        }
        Err(_) => Vec::new(),
    };
    if !mine.is_empty() {
        match tokio::time::timeout(RELEASE_TIMEOUT, store.claim_ownership(&mine)).await {
            Ok(Ok(released)) => {
                tracing::info!(
                    partitions = released.len(),
                    "released the partitions for other replicas"
                )
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot release the partitions: other replicas take them when the claims expire")
            }
            Err(_) => {}
        }
    }
    if let Ok(mut set) = owned.lock() {
        for partition in set.drain() {
            metrics::forget(&partition);
        }
    }
    metrics::owned(0);
}

/// Hands a lost partition back: closing the client removes it from the processor, whose next
/// balancing round opens a new reader from the last checkpoint if this replica still owns the
/// partition (events after the checkpoint come again; the pipeline's checkpoints never move
/// back). The processor keeps only a weak reference, so the reader holds the one strong one.
async fn hand_back(
    client: Arc<azure_messaging_eventhubs::processor::PartitionClient>,
    partition: &str,
) {
    match Arc::try_unwrap(client) {
        Ok(client) => {
            if let Err(e) = client.close().await {
                tracing::debug!(partition = %partition, error = %e, "closing the lost partition client");
            }
        }
        Err(_) => {
            tracing::warn!(partition = %partition, "the lost partition client is still shared; the processor reopens it when ownership moves")
        }
    }
}
