//! `[sink] type = "file"`: where the file sink writes, as written (a serde type that refuses
//! unknown keys); `config` turns it into `SinkSettings::File`.

use crate::settings_check::Checker;
use serde::Deserialize;
use std::path::PathBuf;

/// `[sink] type = "file"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSinkConfig {
    /// Directory for the payload files (one sub-directory per destination).
    pub path: String,
    /// Write `.multijson.gz` files, as the ingestion request would carry them.
    #[serde(default)]
    pub gzip: bool,
}

impl FileSinkConfig {
    /// The output directory, taken from the configuration file's folder when relative
    /// (nothing here can be wrong once the section deserialised).
    pub(crate) fn dir(&self, c: &Checker) -> PathBuf {
        c.path(&self.path)
    }
}
