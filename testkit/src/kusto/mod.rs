//! Data Explorer (Kusto) emulator over its REST API: management commands, v1/v2 queries through
//! the [`kql`] engine, streaming ingestion with JSON mappings, and queued ingestion through
//! Azurite queues and blobs, with token validation, fault injection and a request log so tests
//! can watch how clients retry.
//!
//! Start one with [`KustoEmulator::start`]; it serves on `http://127.0.0.1:<port>`, which is
//! both the engine and the ingestion endpoint, and stops when the handle drops.
//!
//! ```ignore
//! let k = KustoEmulator::start(KustoOptions { storage: StorageMode::Own, ..Default::default() }).await?;
//! k.create_table("db1", "T", &[("a", "string")]);          // or `.create table` over HTTP
//! k.inject(Fault { class: RouteClass::Ingest, kind: FaultKind::Throttle { retry_after_secs: 1 }, count: 2 });
//! // ... run the client against k.url() ...
//! assert_eq!(k.rows("db1", "T").len(), 3);
//! let retries = k.requests();                                // method, path, time, status, headers
//! ```

use crate::azurite::{account_sas, Azurite};
use crate::identity::TokenAuthority;

mod auth;
mod emulator;
mod errors;
mod faults;
mod formats;
mod frames;
mod ingest;
pub mod kql;
mod log;
mod mapping;
mod mgmt;
mod query;
mod queued;
mod records;
mod server;
mod shared;
mod state;
mod storage;
mod truncation;
mod values;
mod views;

pub use emulator::{KustoEmulator, StartError};
pub use faults::{Fault, FaultKind, RouteClass};
pub use log::LoggedRequest;
pub use mapping::{MappingColumn, Transform};
pub use shared::{AuthMode, KustoOptions, StorageMode, StreamingOffError};
pub use state::{BatchingPolicy, ClusterState, Database, IngestionFailure, Table};
