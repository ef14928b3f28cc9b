//! The problem collector every stage's settings validation writes to: each problem with the
//! key path it concerns (`destination[1].batch.max_rows`), none stopping the search for the
//! next. It sits below every stage and imports none, so each stage can validate its own
//! section of the configuration while [`crate::config`] only reads the file and dispatches.

use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Key path, such as `destination[1].batch.max_rows`.
    pub key: String,
    /// What is wrong and what was expected.
    pub message: String,
}

/// Collects problems while building settings.
pub(crate) struct Checker<'a> {
    base_dir: &'a Path,
    problems: Vec<Problem>,
}

impl<'a> Checker<'a> {
    /// A checker with no problems yet; relative paths resolve against `base_dir`.
    pub(crate) fn new(base_dir: &'a Path) -> Self {
        Checker {
            base_dir,
            problems: Vec::new(),
        }
    }

    /// The problems found.
    pub(crate) fn into_problems(self) -> Vec<Problem> {
        self.problems
    }

    /// Records a problem at `key`.
    pub(crate) fn problem(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            key: key.into(),
            message: message.into(),
        });
    }

    /// How many problems so far (a step compares before and after to know it failed).
    pub(crate) fn problems_len(&self) -> usize {
        self.problems.len()
    }

    /// Deserialises `value` as `T`, recording a problem at `prefix.<path>` on failure.
    pub(crate) fn section<T: DeserializeOwned>(&mut self, prefix: &str, value: Value) -> Option<T> {
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(v) => Some(v),
            Err(e) => {
                let inner = e.path().to_string();
                let key = if inner == "." {
                    prefix.to_string()
                } else {
                    format!("{prefix}.{inner}")
                };
                self.problem(key, e.into_inner().to_string());
                None
            }
        }
    }

    /// Records `"<value> is out of range: expected <lo> to <hi>"` at `key` unless `value` is
    /// within `lo..=hi`; returns whether it is.
    pub(crate) fn range<T: PartialOrd + fmt::Display>(
        &mut self,
        key: &str,
        value: T,
        lo: T,
        hi: T,
    ) -> bool {
        let within = lo <= value && value <= hi;
        if !within {
            self.problem(
                key,
                format!("{value} is out of range: expected {lo} to {hi}"),
            );
        }
        within
    }

    /// A duration such as `15m`, `90s`, `1h 30m` (not zero), or a problem at `key`.
    pub(crate) fn duration(&mut self, key: &str, text: &str) -> Option<std::time::Duration> {
        match humantime::parse_duration(text) {
            Ok(d) if !d.is_zero() => Some(d),
            _ => {
                self.problem(
                    key,
                    format!(
                        "{text:?} is not a duration such as \"90s\", \"15m\", \"1h\" or \"1d\""
                    ),
                );
                None
            }
        }
    }

    /// `p` resolved against the configuration file's folder.
    pub(crate) fn path(&self, p: &str) -> PathBuf {
        resolve(self.base_dir, p)
    }
}

/// Resolves a configured path: absolute stays, relative is taken from `base_dir`.
pub fn resolve(base_dir: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base_dir.join(p)
    }
}
