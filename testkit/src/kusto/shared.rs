//! What every part of the Data Explorer emulator shares: how it was started
//! ([`KustoOptions`] and the modes it names) and the state its request handlers work on
//! ([`Shared`]). Kept apart from the start-up code (`emulator.rs`) so that the handlers depend
//! on this, not on what starts them.

use super::faults::Faults;
use super::log::RequestLog;
use super::state::ClusterState;
use super::storage::Storage;
use super::{Azurite, TokenAuthority};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How requests are authenticated.
#[derive(Debug, Clone, Default)]
pub enum AuthMode {
    /// No authentication (the Python SDK's "no authentication" mode): any request is served.
    #[default]
    None,
    /// `Authorization: Bearer <jwt>` required, issued by `authority` for one of `audiences`
    /// (empty: the emulator's own URL).
    Tokens {
        /// Who signs the tokens.
        authority: TokenAuthority,
        /// Accepted audiences (empty: the emulator's own URL only).
        audiences: Vec<String>,
    },
}

/// Where queued ingestion's blobs and queues live.
#[derive(Debug, Clone, Default)]
pub enum StorageMode {
    /// No queued ingestion: `.get ingestion resources` fails.
    #[default]
    None,
    /// Start an Azurite of the emulator's own.
    Own,
    /// Use this Azurite (its container and queue names get a per-emulator suffix, so several
    /// emulators can share one).
    Shared(Arc<Azurite>),
}

/// The answer to streaming ingestion into a table whose streaming policy is off. The exact
/// error the service returns is not documented; clients look for
/// `StreamingIngestionPolicyNotEnabled` in the code, so it is configurable.
#[derive(Debug, Clone)]
pub struct StreamingOffError {
    /// HTTP status.
    pub status: u16,
    /// OneApiError `code`.
    pub code: String,
    /// OneApiError `@type`.
    pub type_name: String,
    /// `@permanent` (false lets managed-streaming clients fall back to queued ingestion).
    pub permanent: bool,
}

impl Default for StreamingOffError {
    fn default() -> Self {
        StreamingOffError {
            status: 400,
            code: "StreamingIngestionPolicyNotEnabled".into(),
            type_name: "Kusto.DataNode.Exceptions.StreamingIngestionPolicyNotEnabledException"
                .into(),
            permanent: false,
        }
    }
}

/// How to start the emulator.
#[derive(Debug, Clone)]
pub struct KustoOptions {
    /// Authentication.
    pub auth: AuthMode,
    /// Databases that exist from the start.
    pub databases: Vec<String>,
    /// Storage for queued ingestion.
    pub storage: StorageMode,
    /// The error for streaming into a table whose policy is off.
    pub streaming_off_error: StreamingOffError,
    /// Largest streaming request body accepted (as sent, before decompression).
    pub max_streaming_request_bytes: usize,
    /// Largest decompressed body accepted (a guard against gzip bombs).
    pub max_decompressed_bytes: usize,
    /// Time queued data waits before it is committed; `None` uses the batching policy.
    pub queued_batching_time: Option<Duration>,
    /// How often the worker polls the ingestion queue.
    pub queue_poll_interval: Duration,
    /// Lifetime of the SAS tokens `.get ingestion resources` hands out.
    pub sas_lifetime: Duration,
    /// Served at `GET /v1/rest/auth/metadata`; `None` answers 404 so clients fall back.
    pub auth_metadata: Option<serde_json::Value>,
    /// Loopback port to listen on; 0 picks a free one (what tests want).
    pub port: u16,
}

impl Default for KustoOptions {
    fn default() -> Self {
        KustoOptions {
            auth: AuthMode::None,
            databases: vec!["db1".into()],
            storage: StorageMode::None,
            streaming_off_error: StreamingOffError::default(),
            max_streaming_request_bytes: 4 * 1024 * 1024,
            max_decompressed_bytes: 64 * 1024 * 1024,
            queued_batching_time: Some(Duration::from_millis(500)),
            queue_poll_interval: Duration::from_millis(200),
            sas_lifetime: Duration::from_secs(6 * 3600),
            auth_metadata: None,
            port: 0,
        }
    }
}

/// What the handlers share.
#[derive(Debug)]
pub(super) struct Shared {
    pub state: Mutex<ClusterState>,
    pub options: KustoOptions,
    pub url: String,
    pub faults: Faults,
    pub log: RequestLog,
    pub storage: Option<Storage>,
    pub identity_token: String,
}

impl Shared {
    /// The state, even if a panicking thread poisoned the lock.
    pub fn state(&self) -> MutexGuard<'_, ClusterState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}
