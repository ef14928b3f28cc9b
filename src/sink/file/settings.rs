//! `[sink] type = "file"`: where the file sink writes, as written (a serde type that refuses
//! unknown keys) and as validated ([`SinkSettings::File`]).

use crate::settings_check::Checker;
use crate::sink::SinkSettings;
use serde::Deserialize;

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
    /// The file sink's settings, its directory taken from the configuration file's folder when
    /// relative (nothing here can be wrong once the section deserialised).
    pub(crate) fn into_settings(self, c: &Checker) -> SinkSettings {
        SinkSettings::File {
            dir: c.path(&self.path),
            gzip: self.gzip,
        }
    }
}
