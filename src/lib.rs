//! iotc-adx moves Azure IoT Central's exported messages into Azure Data Explorer.
//!
//! Data flows one way, one module per stage:
//! [`source`] → [`decode`] → [`route`] → [`transform`] → [`batch`] → [`sink`] →
//! [`checkpoint`], with failures going to [`deadletter`], and [`replay`] sending them through
//! again. [`checkpoint`] follows each event from read to checkpoint (acknowledgements, the
//! checkpoint writer, the trait each source's checkpoint store implements); [`dedupe`] skips
//! events read again whose rows a table already holds. [`pipeline`] wires the stages
//! together; [`config`] reads the TOML file and hands each section to the stage it
//! configures, whose `settings` module checks it; [`destination`] holds what one
//! `[[destination]]` is; [`schema`] describes destination tables; [`event`] holds what travels
//! between stages.

#![warn(missing_docs)]

// The types a program embedding the pipeline starts from; the rest stays in its module.
pub use config::{load, ConfigError, Settings};
pub use deadletter::{DeadLetter, DeadLetterStore, LocalDirStore};
pub use event::SourceEvent;
pub use pipeline::{Pipeline, PipelineError, Summary};
pub use sink::{Sink, SinkError};
pub use source::{Source, SourceError};

pub mod auth;
pub mod batch;
pub mod checkpoint;
pub mod config;
pub mod deadletter;
pub mod decode;
pub mod dedupe;
pub mod destination;
pub mod event;
pub mod pipeline;
pub mod provision;
pub mod replay;
pub mod report;
/// Backoff and `Retry-After` (the storage crate, `crates/storage`, shared with the clients).
pub use iotc_adx_storage::retry;
pub mod route;
pub mod schema;
mod settings_check;
pub mod sink;
pub mod source;
pub mod telemetry;
pub mod transform;
