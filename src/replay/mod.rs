//! Replay: sends dead letters through the pipeline again once their cause is fixed (a
//! transform, a column type, a table), to the destination they failed for or to another.
//!
//! Message letters (stages decode to coerce) go through decode, route, transform and coerce
//! again, as [`ReplaySource`] events; letters of rows Data Explorer refused (stage ingest) are
//! sent as the rows they are. What fails again becomes a new letter with its new reason.
//! Every letter that is done is recorded in the [`Ledger`], so a second replay sends nothing
//! twice; the dead-letter files themselves are never rewritten.

mod ledger;
mod letters;
mod source;

pub use ledger::{Ledger, LedgerError, LEDGER_FILE};
pub use letters::{read_store, ReadError, Selection, Store, StoredLetter, Unreadable};
pub use source::{replay_events, LedgerCheckpointer, OnProgress, ReplaySource, REPLAY_PARTITION};

use crate::batch::Batch;
use crate::deadletter::{DeadLetter, DeadLetterError, DeadLetterStore, Stage};
use crate::destination::DestinationSettings;
use crate::sink::{Outcome, Sink, SinkError};
use std::sync::{Arc, Mutex};

/// Letters that go through the pipeline together: to one destination, or (decode letters
/// without `--to`) to every destination whose filter takes them.
#[derive(Debug, Clone)]
pub struct Group {
    /// The destination's name; `None` for every destination.
    pub destination: Option<String>,
    /// The letters, in store order.
    pub letters: Vec<StoredLetter>,
}

/// What a replay would do, worked out before anything is sent.
#[derive(Debug, Default)]
pub struct Plan {
    /// Message letters, by target.
    pub groups: Vec<Group>,
    /// Refused rows, each with the destination to send them to.
    pub rows: Vec<(String, StoredLetter)>,
    /// Selected letters that cannot be replayed, with the reason.
    pub skipped: Vec<(StoredLetter, String)>,
    /// Selected letters a replay already sent.
    pub already_replayed: usize,
    /// Lines of the store that are not letters.
    pub unreadable: Vec<Unreadable>,
}

impl Plan {
    /// Sorts the selected letters of `store` by what a replay does with them. `to` sends
    /// every letter to that destination instead of its own; `configured` are the names of
    /// the configuration's destinations.
    pub fn new(
        store: Store,
        selection: &Selection,
        to: Option<&str>,
        configured: &[&str],
        ledger: &Ledger,
    ) -> Plan {
        let mut plan = Plan {
            unreadable: store.unreadable,
            ..Plan::default()
        };
        for stored in store.letters {
            if !selection.accepts(&stored.letter) {
                continue;
            }
            if ledger.contains(&stored.key) {
                plan.already_replayed += 1;
                continue;
            }
            let target = to.map(str::to_string).or(stored.letter.destination.clone());
            if let Some(name) = target.as_deref().filter(|n| !configured.contains(n)) {
                let why = format!("destination `{name}` is not in the configuration");
                plan.skipped.push((stored, why));
                continue;
            }
            plan.place(stored, target);
        }
        plan
    }

    fn place(&mut self, stored: StoredLetter, target: Option<String>) {
        let letter = &stored.letter;
        if letter.stage == Stage::Ingest {
            match (&letter.rows, target) {
                (Some(_), Some(target)) => self.rows.push((target, stored)),
                (None, _) => {
                    let why = match &letter.blob {
                        Some(blob) => format!("its rows are not in the letter, only in the blob {blob} (ingest that blob, or read its events again from the hub)"),
                        None => "its rows are not in the letter".to_string(),
                    };
                    self.skipped.push((stored, why));
                }
                (Some(_), None) => {
                    let why = "it names no destination: give one with --to".to_string();
                    self.skipped.push((stored, why));
                }
            }
            return;
        }
        if letter.body.is_none() && letter.body_base64.is_none() {
            let why = "it keeps no body".to_string();
            self.skipped.push((stored, why));
            return;
        }
        match self.groups.iter_mut().find(|g| g.destination == target) {
            Some(group) => group.letters.push(stored),
            None => self.groups.push(Group {
                destination: target,
                letters: vec![stored],
            }),
        }
    }

    /// How many letters the replay sends.
    pub fn letters(&self) -> usize {
        self.groups.iter().map(|g| g.letters.len()).sum::<usize>() + self.rows.len()
    }
}

/// The destinations a group goes to, from the configuration's.
pub fn destinations_of(group: &Group, all: &[DestinationSettings]) -> Vec<DestinationSettings> {
    match &group.destination {
        None => all.to_vec(),
        Some(name) => all.iter().filter(|d| &d.name == name).cloned().collect(),
    }
}

/// What became of refused rows sent again.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RowsReport {
    /// Letters whose rows were accepted.
    pub accepted: usize,
    /// Rows accepted.
    pub rows: usize,
    /// Letters refused again (now new letters).
    pub refused: usize,
}

/// Replaying refused rows could not go on.
#[derive(Debug, thiserror::Error)]
pub enum RowsError {
    /// The sink cannot deliver at all.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// A letter refused again could not be stored.
    #[error(transparent)]
    DeadLetter(#[from] DeadLetterError),
    /// The ledger could not be written.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Sends the rows of ingest letters to their destinations (indices into the `destinations`
/// the sink was built over), one batch per letter, marking each in the ledger once it is
/// accepted or stored again as a new letter.
pub async fn replay_rows<K: Sink>(
    rows: &[(String, StoredLetter)],
    destinations: &[DestinationSettings],
    sink: &K,
    dead_letters: &mut dyn DeadLetterStore,
    ledger: &Arc<Mutex<Ledger>>,
    on_progress: &OnProgress,
) -> Result<RowsReport, RowsError> {
    let mut report = RowsReport::default();
    for (done, (target, stored)) in rows.iter().enumerate() {
        let Some(index) = destinations.iter().position(|d| &d.name == target) else {
            continue;
        };
        let payload = stored.letter.rows.clone().unwrap_or_default().into_bytes();
        let count = payload
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count();
        let batch = Batch {
            destination: index,
            payload,
            rows: count,
            tickets: Vec::new(),
            origin: Vec::new(),
        };
        match sink.deliver(batch).await? {
            Outcome::Accepted(_) => {
                report.accepted += 1;
                report.rows += count;
            }
            Outcome::Rejected { reason, payload } => {
                let events = stored.letter.events.clone();
                let letter = DeadLetter::for_rows(reason, target.clone(), events, &payload);
                dead_letters.put(&letter)?;
                dead_letters.flush()?;
                report.refused += 1;
            }
        }
        // A panic elsewhere cannot leave the ledger half written (each mark is one append).
        let mut ledger = ledger
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        ledger.mark([stored.key.as_str()])?;
        on_progress(done as u64 + 1);
    }
    Ok(report)
}

#[cfg(test)]
mod tests;
