//! The problem collector every validation step writes to: each problem with the key path it
//! concerns, none stopping the search for the next (see [`super::validate`]).

use super::Problem;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Collects problems while building settings.
pub(super) struct Checker<'a> {
    base_dir: &'a Path,
    problems: Vec<Problem>,
}

impl<'a> Checker<'a> {
    /// A checker with no problems yet; relative paths resolve against `base_dir`.
    pub(super) fn new(base_dir: &'a Path) -> Self {
        Checker {
            base_dir,
            problems: Vec::new(),
        }
    }

    /// The problems found.
    pub(super) fn into_problems(self) -> Vec<Problem> {
        self.problems
    }

    /// Records a problem at `key`.
    pub(super) fn problem(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            key: key.into(),
            message: message.into(),
        });
    }

    /// How many problems so far (a step compares before and after to know it failed).
    pub(super) fn problems_len(&self) -> usize {
        self.problems.len()
    }

    /// Deserialises `value` as `T`, recording a problem at `prefix.<path>` on failure.
    pub(super) fn section<T: DeserializeOwned>(&mut self, prefix: &str, value: Value) -> Option<T> {
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

    /// `p` resolved against the configuration file's folder.
    pub(super) fn path(&self, p: &str) -> PathBuf {
        super::resolve(self.base_dir, p)
    }
}
