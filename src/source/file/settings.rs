//! `[source] type = "file"`: which JSON Lines input the file source reads, as written (a
//! serde type that refuses unknown keys) and as validated.

use crate::settings_check::Checker;
use serde::Deserialize;
use std::path::PathBuf;

/// `[source] type = "file"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSourceConfig {
    /// A `.jsonl` file, a directory of them, or `-` for standard input.
    pub path: String,
}

/// What the file source reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileInput {
    /// Standard input.
    Stdin,
    /// A file, or every `.jsonl`/`.ndjson`/`.json` file of a directory, in name order.
    Path(PathBuf),
}

impl FileInput {
    /// Checks `[source] type = "file"`; a relative path is taken from the configuration
    /// file's folder.
    pub(crate) fn from_config(c: &mut Checker, f: FileSourceConfig) -> Option<Self> {
        if f.path.trim().is_empty() {
            c.problem(
                "source.path",
                "must name a file, a directory or - (standard input)",
            );
            return None;
        }
        Some(if f.path == "-" {
            FileInput::Stdin
        } else {
            FileInput::Path(c.path(&f.path))
        })
    }
}
