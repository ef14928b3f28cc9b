//! The state every part of the emulator reads: the namespace's [`Shared`] state (options,
//! stored events, faults, owners, open connections) and each connection's [`ConnCtx`]. In a
//! file of its own so that the handle, the connection loop and the link handlers all import
//! it, and none of them imports another for it.

use super::auth::{self, Grant};
use super::faults::Faults;
use super::log::Store;
use super::options::EmulatorOptions;
use super::owners::Owners;
use super::requests::Msg;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// State shared by the listener, all connections and the handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub options: EmulatorOptions,
    pub store: Store,
    pub faults: Faults,
    pub owners: Owners,
    pub connections: Mutex<HashMap<u64, Arc<ConnCtx>>>,
    pub next_connection: AtomicU64,
    pub cancel: CancellationToken,
}

impl Shared {
    pub fn connections(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<ConnCtx>>> {
        self.connections.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Per-connection state: the grants its tokens earned and its reply nodes.
#[derive(Debug)]
pub(crate) struct ConnCtx {
    pub id: u64,
    pub shared: Arc<Shared>,
    pub cancel: CancellationToken,
    grants: Mutex<Vec<Grant>>,
    replies: Mutex<HashMap<String, mpsc::Sender<Msg>>>,
}

impl ConnCtx {
    pub fn new(id: u64, shared: Arc<Shared>, cancel: CancellationToken) -> Self {
        ConnCtx {
            id,
            shared,
            cancel,
            grants: Mutex::new(Vec::new()),
            replies: Mutex::new(HashMap::new()),
        }
    }

    pub(super) fn grants(&self) -> std::sync::MutexGuard<'_, Vec<Grant>> {
        self.grants.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn replies(&self) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::Sender<Msg>>> {
        self.replies.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn authorised(&self, address: &str) -> bool {
        auth::covers(&self.grants(), address)
    }

    /// Sends a reply to the client's node `to`, waiting briefly for its link to attach.
    pub(super) async fn send_reply(&self, to: &str, fallback: &str, message: Msg) {
        // The reply-to node's link may still be attaching: wait for it a little. A client
        // whose reply link names no target (the JavaScript SDK's `$cbs` receiver) gets the
        // reply on the node's own link, as the service answers it.
        for attempt in 0..50 {
            // One lookup per statement: the map's guard must be gone before the next.
            let mut tx = self.replies().get(to).cloned();
            if tx.is_none() && attempt >= 5 {
                tx = self.replies().get(fallback).cloned();
            }
            if let Some(tx) = tx {
                let _ = tx.send(message).await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tracing::warn!(node = to, "no reply link attached; reply dropped");
    }
}
