//! The validated configuration the service runs with: one settings value per stage, each
//! made by that stage's own validation (the stages' files say how).

use crate::auth::AuthSettings;
use crate::deadletter::settings::DeadLetterSettings;
use crate::destination::DestinationSettings;
use crate::sink::SinkSettings;
use crate::source::SourceSettings;
use crate::telemetry::settings::{LogSettings, MetricsSettings};

/// The validated configuration the service runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where events come from.
    pub source: SourceSettings,
    /// Where batches go.
    pub sink: SinkSettings,
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
}
