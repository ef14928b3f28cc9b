//! `[destination.batch]`: when a destination's batches close, as written (a serde type that
//! refuses unknown keys) and checked into [`BatchLimits`], each problem with its key path.

use super::BatchLimits;
use crate::settings_check::Checker;
use serde::Deserialize;
use std::time::Duration;

/// `[destination.batch]`; unset keys take the ingestion mode's defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchConfig {
    /// Rows per batch.
    pub max_rows: Option<usize>,
    /// Uncompressed bytes per batch.
    pub max_bytes: Option<usize>,
    /// Milliseconds the oldest row may wait.
    pub max_age_ms: Option<u64>,
}

impl BatchLimits {
    /// Checks `b`, taking unset keys from `defaults`; problems are recorded under `key` (such
    /// as `destination[0].batch`).
    pub(crate) fn from_config(
        c: &mut Checker,
        key: &str,
        b: &BatchConfig,
        defaults: BatchLimits,
    ) -> Option<BatchLimits> {
        let before = c.problems_len();
        let max_rows = b.max_rows.unwrap_or(defaults.max_rows);
        if max_rows == 0 || max_rows > 10_000_000 {
            c.problem(
                format!("{key}.max_rows"),
                format!("{max_rows} is out of range: expected 1 to 10000000"),
            );
        }
        let max_bytes = b.max_bytes.unwrap_or(defaults.max_bytes);
        if !(1024..=1024 * 1024 * 1024).contains(&max_bytes) {
            c.problem(
                format!("{key}.max_bytes"),
                format!("{max_bytes} is out of range: expected 1024 to 1073741824 (1 GiB)"),
            );
        }
        let max_age_ms = b.max_age_ms.unwrap_or(defaults.max_age.as_millis() as u64);
        if !(1..=3_600_000).contains(&max_age_ms) {
            c.problem(
                format!("{key}.max_age_ms"),
                format!("{max_age_ms} is out of range: expected 1 to 3600000 (one hour)"),
            );
        }
        (c.problems_len() == before).then(|| BatchLimits {
            max_rows,
            max_bytes,
            max_age: Duration::from_millis(max_age_ms),
        })
    }
}
