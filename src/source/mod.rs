//! Source stage: where events come from. Each source yields [`SourceEvent`](crate::event::SourceEvent)s in batches,
//! keeping each event's body byte for byte and its position in the hub (or the file).

pub mod eventhubs;
pub mod file;

mod contract;

pub use contract::{Source, SourceError};

/// Validated `[source]`: which source events come from, with its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSettings {
    /// JSON Lines files of exported messages.
    File {
        /// What to read.
        input: file::FileInput,
    },
    /// The Event Hub IoT Central exports to.
    EventHubs(eventhubs::EventHubsSourceSettings),
}
