//! Our Azure Data Explorer (Kusto) client, on `reqwest` (there is no Kusto crate we can use):
//! management commands, queries, streaming ingestion and queued ingestion for one cluster.
//!
//! Every call makes one attempt and classifies its outcome ([`ErrorKind`]): retries, backoff
//! and the fallback from streaming to queued ingestion belong to the sink. The one exception is
//! queued ingestion meeting an expired SAS, which re-fetches the ingestion resources and tries
//! once more at once.
//!
//! It is a crate of its own so that the service and the reports feature use the same client,
//! and so that it cannot reach into the service.
//!
//! - `client`: [`KustoClient`] (`/v1/rest/mgmt`, `/v2/rest/query`, `/v1/rest/ingest`);
//! - `transport`: the HTTP side every call shares (headers, token, v1/v2 answers);
//! - `options`: [`ClientOptions`] and the derived ingest endpoint and token scope;
//! - `queued` with `resources` and `failures`: blob upload, queue message, failure reports;
//! - `storage`: those storage calls, through the storage crate (`iotc_adx_storage`), one
//!   attempt each, their failures classified as [`KustoError`]s;
//! - `request`: [`RequestProperties`] (query parameters, limits, request id, time limit);
//! - `response`: v1 and v2 answers as a [`Dataset`] (with the `render` annotation);
//! - `error` and `status`: [`KustoError`] and how answers are classified.

mod client;
mod error;
mod failures;
mod options;
mod queued;
mod request;
mod resources;
mod response;
mod status;
mod storage;
mod transport;

pub use client::{KustoClient, StreamingRequest};
pub use error::{ErrorKind, KustoError};
pub use failures::OwnFailure;
pub use options::ClientOptions;
pub use queued::{IngestionFailure, QueuedIngestor, QueuedReceipt, QueuedRequest};
pub use request::{timespan, RequestProperties};
pub use response::{Column, Dataset, Table};
