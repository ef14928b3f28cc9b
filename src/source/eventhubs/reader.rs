//! [`EventHubsSource`]: the pipeline's view of the event processor. Events arrive from the
//! runner thread over a bounded channel; [`EventHubsCheckpointer`] writes confirmed progress.

use super::checkpoint_store::{BlobCheckpointStore, ContainerAuth};
use super::checkpointer::EventHubsCheckpointer;
use super::handover::Handovers;
use super::runner::Runner;
use super::settings::EventHubsSourceSettings;
use crate::event::SourceEvent;
use crate::source::{Source, SourceError};
use azure_core::credentials::TokenCredential;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot, watch};

/// Events buffered between the partition readers and the pipeline (on top of each partition's
/// prefetch): with the pipeline's own channel this bounds memory.
pub const CHANNEL_EVENTS: usize = 1024;

/// Reads the event hub through the official event processor.
pub struct EventHubsSource {
    events: mpsc::Receiver<SourceEvent>,
    checkpointer: Option<EventHubsCheckpointer>,
    stop: watch::Sender<bool>,
}

impl EventHubsSource {
    /// Connects: prepares the checkpoint container, opens the consumer and starts the event
    /// processor; fails with a clear error when either is unreachable or refuses the
    /// credentials.
    pub async fn connect(
        settings: &EventHubsSourceSettings,
        credential: Option<Arc<dyn TokenCredential>>,
    ) -> Result<Self, SourceError> {
        Self::connect_settling(settings, credential, std::time::Duration::ZERO).await
    }

    /// Like [`EventHubsSource::connect`]; a partition taken over from another owner is read
    /// only once `settle` has passed since that owner's last renewal (plus a balancing
    /// interval), so that its queued batches are committed first (see [`super::handover`]).
    pub async fn connect_settling(
        settings: &EventHubsSourceSettings,
        credential: Option<Arc<dyn TokenCredential>>,
        settle: std::time::Duration,
    ) -> Result<Self, SourceError> {
        let what = || format!("event hub {}", settings.event_hub);
        let failed = |source: Box<dyn std::error::Error + Send + Sync>| SourceError::Connect {
            what: what(),
            source,
        };
        let auth = if settings
            .checkpoint_container
            .query()
            .is_some_and(|q| q.contains("sig="))
        {
            ContainerAuth::Sas
        } else {
            match &credential {
                Some(c) => ContainerAuth::Token(c.clone()),
                None => return Err(SourceError::NoCheckpointCredential { what: what() }),
            }
        };
        let handovers = Arc::new(Handovers::new(settle, settings.balance_interval));
        let store = BlobCheckpointStore::new(settings.checkpoint_container.clone(), auth, None)
            .map_err(|e| failed(e.into()))?
            .with_handovers(handovers.clone());
        store
            .ensure_container()
            .await
            .map_err(|e| failed(e.into()))?;
        let store: Arc<dyn azure_messaging_eventhubs::CheckpointStore + Send + Sync> =
            Arc::new(store);
        let (tx, rx) = mpsc::channel(CHANNEL_EVENTS);
        let (stop_tx, stop_rx) = watch::channel(false);
        let (release_tx, release_rx) = watch::channel(false);
        let owned = Arc::new(Mutex::new(HashSet::new()));
        let runner = Runner {
            settings: settings.clone(),
            credential,
            store: store.clone(),
            events: tx,
            owned: owned.clone(),
            stop: stop_rx,
            release: release_rx,
            handovers,
        };
        let (ready_tx, ready_rx) = oneshot::channel();
        let thread = runner.spawn(ready_tx).map_err(|e| failed(e.into()))?;
        match ready_rx.await {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => return Err(failed(reason.into())),
            Err(_) => {
                return Err(failed(
                    "the Event Hubs thread ended while connecting".into(),
                ))
            }
        }
        let checkpointer = EventHubsCheckpointer {
            store,
            namespace: settings.namespace.clone(),
            event_hub: settings.event_hub.clone(),
            consumer_group: settings.consumer_group.clone(),
            owned,
            every: settings.checkpoint_every,
            every_events: settings.checkpoint_every_events,
            pending: HashMap::new(),
            written: HashMap::new(),
            parked: HashSet::new(),
            release: release_tx,
            thread: Some(thread),
        };
        Ok(EventHubsSource {
            events: rx,
            checkpointer: Some(checkpointer),
            stop: stop_tx,
        })
    }
}

impl Drop for EventHubsSource {
    fn drop(&mut self) {
        // The pipeline dropped the source (end of run): stop the partition readers.
        let _ = self.stop.send(true);
    }
}

impl Source for EventHubsSource {
    type Checkpointer = EventHubsCheckpointer;

    /// # Panics
    /// When called twice: the pipeline takes the checkpointer once, before reading.
    fn checkpointer(&mut self) -> EventHubsCheckpointer {
        match self.checkpointer.take() {
            Some(c) => c,
            // Taken once by contract; a second call gets one that writes nothing.
            None => panic!("EventHubsSource::checkpointer called twice"),
        }
    }

    async fn next_batch(&mut self, max: usize) -> Result<Option<Vec<SourceEvent>>, SourceError> {
        let Some(first) = self.events.recv().await else {
            return Ok(None);
        };
        let mut batch = Vec::with_capacity(max.min(CHANNEL_EVENTS));
        batch.push(first);
        while batch.len() < max {
            match self.events.try_recv() {
                Ok(event) => batch.push(event),
                Err(_) => break,
            }
        }
        Ok(Some(batch))
    }
}
