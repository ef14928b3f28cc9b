//! Event Hubs as a source: the official `azure_messaging_eventhubs` event processor balances
//! partitions across replicas through a [`checkpoint_store`] in Azure Blob Storage (shared by
//! every replica, and with consumers using the official Python blob checkpoint store); [`EventHubsSource`] hands the events to the
//! pipeline and [`EventHubsCheckpointer`] (its [`crate::checkpoint::Checkpointer`]) writes the
//! checkpoints the pipeline confirms.
//!
//! - `runner`: the thread the processor and its partition readers run on;
//! - `settings`: `[source] type = "eventhubs"` as written and as validated;
//! - `start`: `source.start_position` as the processor's start positions;
//! - `convert`: a received event as a [`crate::event::SourceEvent`];
//! - `reader` and `checkpointer`: the [`crate::source::Source`] side.

pub mod checkpoint_store;
mod checkpointer;
pub mod convert;
pub mod handover;
mod metrics;
mod reader;
mod runner;
pub mod settings;
mod start;
mod watchdog;

pub use checkpointer::EventHubsCheckpointer;
pub use reader::{EventHubsSource, CHANNEL_EVENTS};
pub use settings::{EventHubsSourceSettings, StartAt};
