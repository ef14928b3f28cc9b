//! Dead letters as a pipeline source. Each letter's body becomes an event again, with its
//! original metadata (enqueued time, properties, partition key) but a position of its own:
//! partition `replay`, sequence numbers in replay order. The pipeline's acknowledgements then
//! say exactly which letters are done (their rows accepted or dead-lettered again), and the
//! checkpointer marks those in the ledger.

use super::ledger::Ledger;
use super::letters::StoredLetter;
use crate::checkpoint::{CheckpointError, Checkpointer, Progress};
use crate::event::{EventMeta, SourceEvent};
use crate::source::{Source, SourceError};
use base64::Engine;
use serde_json::Map;
use std::sync::{Arc, Mutex};

/// The partition name replayed events carry (`$meta.partition` in transforms).
pub const REPLAY_PARTITION: &str = "replay";

/// Called with the number of letters done so far (for a progress bar).
pub type OnProgress = Arc<dyn Fn(u64) + Send + Sync>;

/// Yields the bodies of message dead letters (stages decode to coerce) as events.
pub struct ReplaySource {
    events: std::vec::IntoIter<SourceEvent>,
    checkpointer: Option<LedgerCheckpointer>,
}

impl ReplaySource {
    /// A source over `letters` (each must have a body); confirmed letters are marked in
    /// `ledger`, and `on_progress` hears how many are done.
    pub fn new(
        letters: &[StoredLetter],
        ledger: Arc<Mutex<Ledger>>,
        on_progress: OnProgress,
    ) -> ReplaySource {
        ReplaySource {
            events: replay_events(letters).into_iter(),
            checkpointer: Some(LedgerCheckpointer {
                keys: letters.iter().map(|l| l.key.clone()).collect(),
                marked: 0,
                ledger,
                on_progress,
            }),
        }
    }
}

/// The events `letters` were, in replay order (what [`ReplaySource`] yields; `--dry-run`
/// processes them without sending).
pub fn replay_events(letters: &[StoredLetter]) -> Vec<SourceEvent> {
    letters
        .iter()
        .enumerate()
        .map(|(i, l)| event_of(l, i as i64))
        .collect()
}

/// The event a letter was, placed at `position` in the replay.
fn event_of(stored: &StoredLetter, position: i64) -> SourceEvent {
    let letter = &stored.letter;
    let body = match (&letter.body, &letter.body_base64) {
        (Some(text), _) => text.clone().into_bytes(),
        (None, Some(b64)) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            // Not base64 (edited by hand): replay the text itself, which decode then refuses
            // with a reason, as a new letter.
            .unwrap_or_else(|_| b64.clone().into_bytes()),
        (None, None) => Vec::new(),
    };
    let original = letter.event.clone();
    let was = original
        .as_ref()
        .map(|m| {
            format!(
                " (partition {}, sequence number {})",
                m.partition, m.sequence_number
            )
        })
        .unwrap_or_default();
    let meta = EventMeta {
        partition: REPLAY_PARTITION.to_string(),
        sequence_number: position,
        offset: position.to_string(),
        enqueued_time: original
            .as_ref()
            .map_or_else(chrono::Utc::now, |m| m.enqueued_time),
        partition_key: original.as_ref().and_then(|m| m.partition_key.clone()),
        properties: original
            .as_ref()
            .map_or_else(Map::new, |m| m.properties.clone()),
        system_properties: original
            .as_ref()
            .map_or_else(Map::new, |m| m.system_properties.clone()),
        origin: Some(format!("replay of {}{was}", stored.location)),
    };
    SourceEvent { body, meta }
}

impl Source for ReplaySource {
    type Checkpointer = LedgerCheckpointer;

    async fn next_batch(&mut self, max: usize) -> Result<Option<Vec<SourceEvent>>, SourceError> {
        let batch: Vec<SourceEvent> = self.events.by_ref().take(max.max(1)).collect();
        Ok((!batch.is_empty()).then_some(batch))
    }

    fn checkpointer(&mut self) -> LedgerCheckpointer {
        // The pipeline takes the checkpointer once; a second call gets one that marks nothing.
        self.checkpointer
            .take()
            .unwrap_or_else(|| LedgerCheckpointer {
                keys: Vec::new(),
                marked: 0,
                ledger: Arc::new(Mutex::new(Ledger::empty())),
                on_progress: Arc::new(|_| {}),
            })
    }
}

/// Marks letters in the ledger as the pipeline confirms them (in replay order).
pub struct LedgerCheckpointer {
    keys: Vec<String>,
    marked: usize,
    ledger: Arc<Mutex<Ledger>>,
    on_progress: OnProgress,
}

impl Checkpointer for LedgerCheckpointer {
    async fn commit(&mut self, progress: Vec<Progress>) -> Result<(), CheckpointError> {
        let Some(last) = progress
            .iter()
            .filter(|p| p.partition == REPLAY_PARTITION)
            .map(|p| p.sequence_number)
            .max()
        else {
            return Ok(());
        };
        let upto = usize::try_from(last + 1).unwrap_or(0).min(self.keys.len());
        if upto <= self.marked {
            return Ok(());
        }
        let keys = self.keys[self.marked..upto].iter().map(String::as_str);
        // A panic elsewhere cannot leave the ledger half written (each mark is one append).
        let mut ledger = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        ledger.mark(keys).map_err(|e| CheckpointError::Write {
            partition: REPLAY_PARTITION.into(),
            source: Box::new(e),
        })?;
        self.marked = upto;
        (self.on_progress)(upto as u64);
        Ok(())
    }
}
