//! State shared by the endpoint handlers and the server handle: configuration, the request log,
//! pending injected faults and the current token lifetime.

use super::options::IdentityOptions;
use super::TokenAuthority;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

/// Which token endpoint a request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /{tenant}/oauth2/v2.0/token` (Entra ID).
    Entra,
    /// `GET /metadata/identity/oauth2/token` (IMDS).
    Imds,
    /// `GET /msi/token` (App Service / Container Apps, `IDENTITY_ENDPOINT`).
    AppService,
}

/// One token request as the server saw it, for tests to assert on.
#[derive(Debug, Clone)]
pub struct TokenRequestRecord {
    /// When it arrived.
    pub at: SystemTime,
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// The client id or managed identity it was for (as resolved, or as sent when unknown; empty
    /// when none was given and none could be resolved).
    pub identity: String,
    /// The audience requested (scope or resource without `/.default`), if any.
    pub audience: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
}

/// An injected failure for the next token requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// Status to answer, e.g. 500 or 429.
    pub status: u16,
    /// `Retry-After` seconds to send with it, if any.
    pub retry_after: Option<u64>,
}

/// Everything the handlers share.
pub(crate) struct Shared {
    pub authority: TokenAuthority,
    pub options: IdentityOptions,
    lifetime_ms: AtomicU64,
    log: Mutex<Vec<TokenRequestRecord>>,
    faults: Mutex<VecDeque<Fault>>,
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it (the data stay valid).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub fn new(authority: TokenAuthority, options: IdentityOptions) -> Arc<Self> {
        let lifetime_ms =
            AtomicU64::new(options.token_lifetime.as_millis().min(u64::MAX as u128) as u64);
        Arc::new(Shared {
            authority,
            options,
            lifetime_ms,
            log: Mutex::new(Vec::new()),
            faults: Mutex::new(VecDeque::new()),
        })
    }

    /// The current token lifetime (at least one second).
    pub fn lifetime(&self) -> Duration {
        Duration::from_millis(self.lifetime_ms.load(Ordering::Relaxed)).max(Duration::from_secs(1))
    }

    pub fn set_lifetime(&self, lifetime: Duration) {
        self.lifetime_ms.store(
            lifetime.as_millis().min(u64::MAX as u128) as u64,
            Ordering::Relaxed,
        );
    }

    pub fn record(
        &self,
        endpoint: Endpoint,
        identity: &str,
        audience: Option<String>,
        status: u16,
    ) {
        tracing::debug!(?endpoint, identity, ?audience, status, "token request");
        lock(&self.log).push(TokenRequestRecord {
            at: SystemTime::now(),
            endpoint,
            identity: identity.to_string(),
            audience,
            status,
        });
    }

    pub fn requests(&self) -> Vec<TokenRequestRecord> {
        lock(&self.log).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.log).clear();
    }

    pub fn inject(&self, count: usize, fault: Fault) {
        let mut faults = lock(&self.faults);
        faults.extend(std::iter::repeat_n(fault, count));
    }

    /// Takes the next pending fault, if any.
    pub fn take_fault(&self) -> Option<Fault> {
        lock(&self.faults).pop_front()
    }
}
