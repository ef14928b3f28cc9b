//! `[dead_letter]`: where failed messages are kept, as written (a serde type that refuses
//! unknown keys) and as validated.

use crate::settings_check::Checker;
use serde::Deserialize;
use std::path::PathBuf;

/// `[dead_letter]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterConfig {
    /// Store kind; only `directory` for now.
    #[serde(rename = "type", default)]
    pub kind: DeadLetterKind,
    /// Directory for the JSONL files (default `dead-letter`).
    pub path: Option<String>,
    /// Start a new file past this size (default 64 MiB).
    pub max_file_bytes: Option<u64>,
}

/// `[dead_letter] type = "..."`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterKind {
    /// JSON Lines files in a local directory.
    #[default]
    Directory,
}

/// Validated `[dead_letter]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterSettings {
    /// Directory of the JSONL files.
    pub dir: PathBuf,
    /// A new file starts past this size.
    pub max_file_bytes: u64,
}

impl DeadLetterSettings {
    /// `[dead_letter]` with its defaults, the directory resolved against the configuration
    /// file's folder (nothing here can be wrong once the section deserialised).
    pub(crate) fn from_config(c: &Checker, d: DeadLetterConfig) -> Self {
        DeadLetterSettings {
            dir: c.path(d.path.as_deref().unwrap_or("dead-letter")),
            max_file_bytes: d.max_file_bytes.unwrap_or(64 * 1024 * 1024).max(1024),
        }
    }
}
