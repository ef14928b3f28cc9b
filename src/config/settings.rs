//! The validated configuration the service runs with: one settings value per stage, each
//! made by that stage's own validation (the stages' files say how).

use crate::auth::AuthSettings;
use crate::deadletter::settings::DeadLetterSettings;
use crate::destination::DestinationSettings;
use crate::report::ReportsSettings;
use crate::sink::SinkSettings;
use crate::source::SourceSettings;
use crate::telemetry::settings::{LogSettings, MetricsSettings};

/// The validated configuration the service runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where events come from; `None` in a configuration of reports only.
    pub source: Option<SourceSettings>,
    /// Where batches go; `None` in a configuration of reports only.
    pub sink: Option<SinkSettings>,
    /// The identity used towards Azure.
    pub auth: AuthSettings,
    /// The destinations, in configuration order.
    pub destinations: Vec<DestinationSettings>,
    /// Where failed messages go.
    pub dead_letter: DeadLetterSettings,
    /// The metrics endpoint.
    pub metrics: MetricsSettings,
    /// Logging.
    pub log: LogSettings,
    /// Scheduled reports and alerts (`[reports]`, `[[report]]`).
    pub reports: ReportsSettings,
}

impl Settings {
    /// The configured source, sink and destinations, when this configuration has a pipeline.
    pub fn pipeline(&self) -> Option<(&SourceSettings, &SinkSettings)> {
        Some((self.source.as_ref()?, self.sink.as_ref()?))
    }
}
