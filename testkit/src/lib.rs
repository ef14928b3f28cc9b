//! Local stand-ins for the Azure services iotc-adx talks to, speaking the real wire protocols
//! so that the real client code (ours, and the official SDKs) runs against them:
//!
//! - [`identity`]: Entra ID and managed-identity token endpoints, and the [`identity::TokenAuthority`]
//!   that signs the tokens they issue and that the emulators validate;
//! - [`eventhubs`]: an Event Hubs namespace over AMQP 1.0;
//! - [`kusto`]: a Data Explorer cluster over its REST API, with queued ingestion through Azurite;
//! - [`azurite`]: installs and starts Azurite (the Azure Storage emulator) for blobs and queues;
//! - [`chaos`]: SIGKILLs and restarts replicas of the binary while the stand-ins inject faults,
//!   then counts each event's rows;
//! - [`replay`]: sends IoT Central sample traffic into an Event Hub at a chosen rate;
//! - [`webhook`]: a webhook receiver that records (or prints) what reports send, and answers
//!   as scripted (429 with `Retry-After`, 5xx, delays);
//! - [`python`]: a virtual environment with the official Python SDKs, for proofs that an
//!   independent client accepts the stand-ins.
//!
//! Everything binds to 127.0.0.1 on ephemeral ports and stops when its handle is dropped, so
//! tests can run in parallel.

#![warn(missing_docs)]

pub mod azurite;
pub mod chaos;
pub mod eventhubs;
pub mod identity;
pub mod kusto;
pub mod process;
pub mod python;
pub mod replay;
pub mod scripted;
pub mod smtp;
pub mod webhook;
