//! The Azure Storage pieces that both of iotc-adx's storage users need: the Event Hubs
//! checkpoint store (blobs in a container) and queued ingestion into Data Explorer (blobs and
//! queues behind the SAS URLs the cluster hands out).
//!
//! - [`retry`]: backoff with full jitter and the service's `Retry-After` (both forms), and the
//!   retry loop of bounded calls;
//! - [`list`]: `List Blobs` pages and `<Error>` bodies, parsed with `quick-xml`;
//! - [`messages`]: `Get Messages` answers, and escaping a message's text.
//!
//! It is a crate of its own so that the two clients share one reading of the service's answers
//! and cannot reach into the service. The REST calls themselves are still made by each client
//! (`src/source/eventhubs/checkpoint_store/rest.rs`, `crates/kusto/src/storage.rs`).

pub mod list;
pub mod messages;
pub mod retry;
