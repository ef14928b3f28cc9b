//! Configuration: one TOML file, with environment overrides, validated once at start-up into
//! typed [`Settings`].
//!
//! Loading happens in two phases. [`raw`] holds plain serde types that mirror the file and
//! refuse unknown keys; `validate` hands each section to the stage it configures, which
//! checks values, compiles transforms, predicates and patterns, and resolves relative paths
//! against the configuration file's directory (each stage's `settings` module). Every
//! problem is reported at once, each with the key path it concerns
//! (`settings_check.rs`).
//!
//! This module is the top of the import graph: it imports the stages, and no stage imports
//! it. The settings types are re-exported here, so a loaded [`Settings`] reads as one tree.
//!
//! Environment variables `IOTC_ADX__<SECTION>__<KEY>` override keys of the table sections
//! (`[source]`, `[sink]`, `[auth]`, `[dead_letter]`, `[metrics]`, `[log]`), for secrets and
//! per-host settings: `IOTC_ADX__LOG__LEVEL=debug`, `IOTC_ADX__AUTH__CLIENT_SECRET=...`.

pub mod raw;
mod settings;
mod validate;

pub use settings::Settings;

pub use crate::deadletter::settings::DeadLetterSettings;
pub use crate::destination::{
    default_batch_limits, BatchingPolicy, DedupeView, DestinationSettings, IngestionMode,
    DEFAULT_MAPPING,
};
pub use crate::settings_check::{resolve, Problem};
pub use crate::sink::kusto::KustoSinkSettings;
pub use crate::sink::SinkSettings;
pub use crate::source::eventhubs::{EventHubsSourceSettings, StartAt};
pub use crate::source::file::FileInput;
pub use crate::source::SourceSettings;
pub use crate::telemetry::settings::{LogFormat, LogSettings, MetricsSettings};

use std::fmt;
use std::path::Path;

/// Prefix of environment overrides.
pub const ENV_PREFIX: &str = "IOTC_ADX";

/// Everything wrong with a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file (or description of the text) that was loaded.
    pub origin: String,
    /// Every problem found.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "configuration {} has {n} problem{}:",
            self.origin,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            // Multi-line messages (a transform's caret snippet) stay indented under their key.
            write!(f, "\n  - {}: {}", p.key, p.message.replace('\n', "\n    "))?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    fn single(origin: &str, key: &str, message: String) -> Self {
        ConfigError {
            origin: origin.to_string(),
            problems: vec![Problem {
                key: key.to_string(),
                message,
            }],
        }
    }
}

/// Loads a configuration file with overrides from the process environment.
pub fn load(path: &Path) -> Result<Settings, ConfigError> {
    load_with_env(path, std::env::vars())
}

/// Loads a configuration file with overrides from the given environment (for tests).
pub fn load_with_env(
    path: &Path,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Settings, ConfigError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::single(&origin, "(file)", format!("cannot read {origin}: {e}"))
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    load_text(&text, base, &origin, env)
}

/// Loads configuration text; relative paths resolve against `base_dir`.
pub fn load_str(text: &str, base_dir: &Path) -> Result<Settings, ConfigError> {
    load_text(text, base_dir, "(text)", std::iter::empty())
}

/// Loads configuration text with the given environment (overrides and `url_env` secrets).
pub fn load_str_with_env(
    text: &str,
    base_dir: &Path,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Settings, ConfigError> {
    load_text(text, base_dir, "(text)", env)
}

fn load_text(
    text: &str,
    base_dir: &Path,
    origin: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Settings, ConfigError> {
    let prefix = format!("{ENV_PREFIX}__");
    let env: std::collections::HashMap<String, String> = env.into_iter().collect();
    let overrides: config::Map<String, String> = env
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let merged = config::Config::builder()
        .add_source(config::File::from_str(text, config::FileFormat::Toml))
        .add_source(
            config::Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(Some(overrides)),
        )
        .build()
        .map_err(|e| ConfigError::single(origin, "(syntax)", e.to_string()))?;
    let tree: serde_json::Value = merged
        .try_deserialize()
        .map_err(|e| ConfigError::single(origin, "(syntax)", e.to_string()))?;
    validate::validate(tree, base_dir, &env).map_err(|problems| ConfigError {
        origin: origin.to_string(),
        problems,
    })
}

#[cfg(test)]
mod tests;
