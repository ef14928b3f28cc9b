//! The one Azure Storage REST layer of iotc-adx, used by both of its storage users: the Event
//! Hubs checkpoint store (ownership and checkpoint blobs in one container) and queued
//! ingestion into Data Explorer (a blob and a queue message per batch, the failed-ingestions
//! queue, behind the SAS URLs the cluster hands out).
//!
//! - [`StorageClient`] (`client`): signing (SAS or bearer token, [`StorageAuth`]), the common
//!   headers, the per-request time limit and the one retry loop; its calls in `blob`
//!   (containers, block blobs, metadata, listings) and `queue` (messages);
//! - [`ResourceUrl`] (`resource`): a container or queue URL with its SAS kept apart;
//! - [`StorageError`] (`error`): status, storage error code, request ids, the URL never with
//!   its query string;
//! - [`retry`]: backoff with full jitter and the service's `Retry-After` (both forms), and the
//!   retry loop of bounded calls;
//! - [`list`] and [`messages`]: the XML answers (`List Blobs` pages, `<Error>` bodies,
//!   `Get Messages`), read with `quick-xml`.
//!
//! It is a crate of its own so that both users share one client, and cannot reach into the
//! service. Why not the Azure SDK's storage crates: see the README.

mod auth;
mod blob;
mod client;
mod error;
mod lease;
pub mod list;
pub mod messages;
mod queue;
mod resource;
pub mod retry;

pub use auth::{StorageAuth, STORAGE_SCOPE};
pub use blob::{quoted_etag, BlobContent, Condition, Written, MAX_PAGES};
pub use client::{ClientOptions, StorageClient};
pub use error::{Call, StorageError};
pub use lease::Lease;
pub use list::{ListPage, ListedBlob};
pub use messages::QueueMessage;
pub use resource::{without_query, ResourceUrl};
pub use retry::RetryPolicy;
