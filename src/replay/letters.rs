//! Reading the dead-letter store back: every `dead-letter-*.jsonl` file of a directory, each
//! line a [`DeadLetter`] with a stable key (file, line and a hash of the line) that the replay
//! ledger records once the letter has been sent again.

use crate::deadletter::{DeadLetter, Stage};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// One dead letter as found in the store.
#[derive(Debug, Clone)]
pub struct StoredLetter {
    /// Identifies the letter across replays: `file:line:hash`. Files are only appended to,
    /// so a line keeps its number.
    pub key: String,
    /// Where it is, for people (`dead-letter-….jsonl:12`).
    pub location: String,
    /// The letter.
    pub letter: DeadLetter,
}

/// A line of the store that is not a dead letter (cut short by a crash, edited by hand).
#[derive(Debug, Clone)]
pub struct Unreadable {
    /// `file:line`.
    pub location: String,
    /// What is wrong with it.
    pub problem: String,
}

/// What the store holds.
#[derive(Debug, Default)]
pub struct Store {
    /// The letters, in file-name order (which is time order) and line order.
    pub letters: Vec<StoredLetter>,
    /// Lines that could not be read as letters.
    pub unreadable: Vec<Unreadable>,
}

/// Reading the store failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot read dead letters in {path}: {source}")]
pub struct ReadError {
    /// The directory or file.
    pub path: String,
    /// The I/O error.
    #[source]
    pub source: std::io::Error,
}

/// Reads every dead-letter file of `dir` (an absent directory holds no letters).
pub fn read_store(dir: &Path) -> Result<Store, ReadError> {
    let error = |path: &Path, source| ReadError {
        path: path.display().to_string(),
        source,
    };
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| is_letter_file(p))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(error(dir, e)),
    };
    files.sort();
    let mut store = Store::default();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| error(&file, e))?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let location = format!("{name}:{}", i + 1);
            match serde_json::from_str::<DeadLetter>(line) {
                Ok(letter) => store.letters.push(StoredLetter {
                    key: format!("{location}:{}", short_hash(line)),
                    location,
                    letter,
                }),
                Err(e) => store.unreadable.push(Unreadable {
                    location,
                    problem: e.to_string(),
                }),
            }
        }
    }
    Ok(store)
}

fn is_letter_file(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy());
    name.is_some_and(|n| n.starts_with("dead-letter-") && n.ends_with(".jsonl"))
}

fn short_hash(line: &str) -> String {
    let digest = Sha256::digest(line.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Which letters to replay; an empty list or `None` accepts everything.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only letters of these stages.
    pub stages: Vec<Stage>,
    /// Only letters of these kinds of problem (`invalid_json`, `bad_value`, `rejected`, ...).
    pub kinds: Vec<String>,
    /// Only letters of this destination (decode letters have none, so this excludes them).
    pub destination: Option<String>,
    /// Only letters written at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only letters written before this time.
    pub until: Option<DateTime<Utc>>,
}

impl Selection {
    /// Whether `letter` is selected. A letter whose time cannot be read is selected only
    /// when no time bound is set.
    pub fn accepts(&self, letter: &DeadLetter) -> bool {
        if !self.stages.is_empty() && !self.stages.contains(&letter.stage) {
            return false;
        }
        if !self.kinds.is_empty() && !self.kinds.contains(&letter.kind) {
            return false;
        }
        if let Some(d) = &self.destination {
            if letter.destination.as_deref() != Some(d.as_str()) {
                return false;
            }
        }
        if self.since.is_none() && self.until.is_none() {
            return true;
        }
        let Ok(time) = DateTime::parse_from_rfc3339(&letter.time).map(|t| t.to_utc()) else {
            return false;
        };
        self.since.is_none_or(|s| time >= s) && self.until.is_none_or(|u| time < u)
    }
}
