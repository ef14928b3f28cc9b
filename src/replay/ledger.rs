//! The replay ledger: `replayed.jsonl` beside the dead letters, one line per letter that was
//! sent again, so that a second replay sends nothing twice. Dead-letter files are never
//! rewritten (a running pipeline may be appending to them); a letter that failed again is
//! marked here too and lives on as the new letter the replay wrote, with its new reason.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The ledger's file name in the dead-letter directory.
pub const LEDGER_FILE: &str = "replayed.jsonl";

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    key: String,
    time: String,
}

/// Writing or reading the ledger failed: the replay stops (going on could send twice).
#[derive(Debug, thiserror::Error)]
#[error("cannot use the replay ledger {path}: {source}")]
pub struct LedgerError {
    /// The ledger file.
    pub path: String,
    /// The I/O error.
    #[source]
    pub source: std::io::Error,
}

/// The set of replayed letters, appended to as letters are confirmed.
#[derive(Debug)]
pub struct Ledger {
    path: PathBuf,
    done: HashSet<String>,
    file: Option<File>,
}

impl Ledger {
    /// Opens the ledger of the dead-letter directory `dir` (empty when absent). Lines that
    /// cannot be read (a crash mid-write) are ignored: their letters are not marked.
    pub fn open(dir: &Path) -> Result<Ledger, LedgerError> {
        let path = dir.join(LEDGER_FILE);
        let done = match std::fs::read_to_string(&path) {
            Ok(text) => text
                .lines()
                .filter_map(|l| serde_json::from_str::<Entry>(l).ok())
                .map(|e| e.key)
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashSet::new(),
            Err(source) => {
                return Err(LedgerError {
                    path: path.display().to_string(),
                    source,
                })
            }
        };
        Ok(Ledger {
            path,
            done,
            file: None,
        })
    }

    /// A ledger that records nothing on disk: for a checkpointer that has no letters.
    pub fn empty() -> Ledger {
        Ledger {
            path: PathBuf::new(),
            done: HashSet::new(),
            file: None,
        }
    }

    /// Whether the letter with `key` was replayed already.
    pub fn contains(&self, key: &str) -> bool {
        self.done.contains(key)
    }

    /// How many letters the ledger holds.
    pub fn len(&self) -> usize {
        self.done.len()
    }

    /// Whether the ledger is empty.
    pub fn is_empty(&self) -> bool {
        self.done.is_empty()
    }

    /// Marks letters as replayed, durably (written and synced before returning).
    pub fn mark<'k>(&mut self, keys: impl IntoIterator<Item = &'k str>) -> Result<(), LedgerError> {
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut text = String::new();
        let mut added = Vec::new();
        for key in keys {
            if self.done.contains(key) {
                continue;
            }
            let entry = Entry {
                key: key.to_string(),
                time: time.clone(),
            };
            // An entry of strings and a unit enum always serialises.
            text.push_str(&serde_json::to_string(&entry).unwrap_or_default());
            text.push('\n');
            added.push(key.to_string());
        }
        if added.is_empty() {
            return Ok(());
        }
        self.append(text.as_bytes()).map_err(|source| LedgerError {
            path: self.path.display().to_string(),
            source,
        })?;
        self.done.extend(added);
        Ok(())
    }

    fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.file.is_none() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            self.file = Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)?,
            );
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        file.write_all(bytes)?;
        file.sync_data()
    }
}
