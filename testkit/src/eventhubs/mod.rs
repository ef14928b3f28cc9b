//! An Event Hubs namespace over AMQP 1.0 on plain TCP (`amqp://127.0.0.1:PORT`), speaking what
//! the official clients speak: SASL (ANONYMOUS, PLAIN, MSSBCBS), claims-based security on
//! `$cbs` (SAS tokens and Entra ID JWTs), `$management` READ, producer links (single and
//! batched messages) and consumer links with selector filters, credit-based flow and owner
//! levels (epochs). Partitions are append-only logs in memory; tests inject faults through the
//! [`EventHubsEmulator`] handle.

// The only lines naming the rest of the testkit: in the testkit itself these read `crate::`.
use crate::identity::TokenAuthority;

mod address;
mod append;
mod auth;
mod connection;
mod deliver;
mod emulator;
mod error;
mod faults;
mod frames;
mod ingest;
mod io;
mod log;
mod management;
mod options;
mod owners;
mod requests;
mod sasl;
mod selector;
mod settle;
mod shared;

pub use append::AppendEvent;
pub use auth::sas_token;
pub use emulator::EventHubsEmulator;
pub use error::EmulatorError;
pub use faults::LinkFault;
pub use log::StoredEvent;
pub use options::{EmulatorOptions, EventHubOptions};
