//! The emulator handle: starts the listener, hands out addresses and connection strings,
//! exposes the stored events, injects faults, and stops everything on drop.

use super::connection::serve_connection;
use super::error::EmulatorError;
use super::faults::{Faults, LinkFault};
use super::log::{NewEvent, Partition, Store, StoredEvent};
use super::options::EmulatorOptions;
use super::owners::Owners;
use super::shared::{ConnCtx, Shared};
use fe2o3_amqp_types::messaging::{Body, Data};
use fe2o3_amqp_types::primitives::Binary;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A running emulated namespace; stops when dropped.
#[derive(Debug)]
pub struct EventHubsEmulator {
    address: SocketAddr,
    shared: Arc<Shared>,
}

impl EventHubsEmulator {
    /// Listens on 127.0.0.1 (free port) and serves the namespace described by `options`.
    pub async fn start(options: EmulatorOptions) -> Result<EventHubsEmulator, EmulatorError> {
        let listener = listen()?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            store: Store::new(&options.event_hubs),
            options,
            faults: Faults::default(),
            owners: Owners::default(),
            connections: Mutex::new(HashMap::new()),
            next_connection: AtomicU64::new(1),
            cancel: CancellationToken::new(),
        });
        tokio::spawn(accept_loop(listener, shared.clone()));
        tracing::info!(%address, namespace = %shared.options.namespace, "Event Hubs emulator listening");
        Ok(EventHubsEmulator { address, shared })
    }

    /// The socket address clients connect to.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `amqp://127.0.0.1:PORT`, for `with_custom_endpoint`.
    pub fn endpoint(&self) -> String {
        format!("amqp://{}", self.address)
    }

    /// The namespace host name.
    pub fn namespace(&self) -> &str {
        &self.shared.options.namespace
    }

    fn key(&self, key_name: &str) -> Result<&str, EmulatorError> {
        self.shared
            .options
            .sas_keys
            .get(key_name)
            .map(|s| s.as_str())
            .ok_or_else(|| EmulatorError::Unknown {
                what: "shared access key",
                name: key_name.into(),
            })
    }

    /// A connection string naming the namespace (use it with `with_custom_endpoint`).
    pub fn connection_string(&self, key_name: &str, hub: &str) -> Result<String, EmulatorError> {
        let key = self.key(key_name)?;
        Ok(format!(
            "Endpoint=sb://{}/;SharedAccessKeyName={key_name};SharedAccessKey={key};EntityPath={hub}",
            self.shared.options.namespace
        ))
    }

    /// A connection string pointing at the socket with `UseDevelopmentEmulator=true`, as the
    /// Python client needs for plain AMQP.
    pub fn emulator_connection_string(
        &self,
        key_name: &str,
        hub: &str,
    ) -> Result<String, EmulatorError> {
        let key = self.key(key_name)?;
        Ok(format!(
            "Endpoint=sb://{};SharedAccessKeyName={key_name};SharedAccessKey={key};EntityPath={hub};UseDevelopmentEmulator=true",
            self.address
        ))
    }

    /// The log of `hub`/`partition`.
    pub(crate) fn partition_log(
        &self,
        hub: &str,
        partition: &str,
    ) -> Result<Arc<Partition>, EmulatorError> {
        let h = self
            .shared
            .store
            .hub(hub)
            .ok_or_else(|| EmulatorError::Unknown {
                what: "event hub",
                name: hub.into(),
            })?;
        h.partition(partition)
            .cloned()
            .ok_or_else(|| EmulatorError::Unknown {
                what: "partition",
                name: partition.into(),
            })
    }

    /// The events stored in a partition.
    pub fn events(&self, hub: &str, partition: &str) -> Result<Vec<StoredEvent>, EmulatorError> {
        Ok(self.partition_log(hub, partition)?.snapshot())
    }

    /// Appends an event with `body` directly (as if a producer sent it); returns its sequence
    /// number. [`EventHubsEmulator::append_event`] adds properties, annotations and a time.
    pub fn append(&self, hub: &str, partition: &str, body: &[u8]) -> Result<i64, EmulatorError> {
        let ev = NewEvent {
            partition_key: None,
            body: Body::Data(vec![Data(Binary::from(body.to_vec()))].into()),
            properties: None,
            application_properties: None,
            message_annotations: None,
            size: body.len() as u64 + 16,
        };
        Ok(self
            .partition_log(hub, partition)?
            .append(vec![ev])
            .first()
            .copied()
            .unwrap_or(-1))
    }

    /// How many receivers read `hub`/`partition` in consumer `group` (names are compared
    /// without regard to case, as the service does), so a test can wait until a consumer
    /// that starts at `@latest` is attached before it sends.
    pub fn readers(&self, hub: &str, group: &str, partition: &str) -> usize {
        self.shared
            .owners
            .count(&super::owners::key(hub, group, partition))
    }

    /// How many AMQP connections are open.
    pub fn connection_count(&self) -> usize {
        self.shared.connections().len()
    }

    /// Drops every connection abruptly (TCP reset, no AMQP close); returns how many.
    pub fn drop_connections(&self) -> usize {
        let conns: Vec<_> = self.shared.connections().values().cloned().collect();
        for c in &conns {
            c.cancel.cancel();
        }
        conns.len()
    }

    /// Drops the connections that have a receiver on `hub`/`partition`; returns how many.
    pub fn drop_connections_reading(&self, hub: &str, partition: &str) -> usize {
        let ids = self.shared.owners.connections_reading(hub, partition);
        let conns = self.shared.connections();
        let mut n = 0;
        for id in ids {
            if let Some(c) = conns.get(&id) {
                if !c.cancel.is_cancelled() {
                    c.cancel.cancel();
                    n += 1;
                }
            }
        }
        n
    }

    /// Detaches the receivers of `hub` (one partition, or all) with `fault`; returns how many.
    pub fn detach_receivers(&self, hub: &str, partition: Option<&str>, fault: LinkFault) -> usize {
        self.shared.owners.detach(hub, partition, &fault)
    }

    /// Delays every delivery to consumers by `delay` (zero turns it off).
    pub fn set_delivery_delay(&self, delay: Duration) {
        self.shared.faults.set_delivery_delay(delay);
    }

    /// Closes new TCP connections at once for `duration`.
    pub fn refuse_connections_for(&self, duration: Duration) {
        self.shared.faults.refuse_connections_for(duration);
    }

    /// Refuses new entity links (attach, then detach with `fault`) for `duration`.
    pub fn refuse_links_for(&self, duration: Duration, fault: LinkFault) {
        self.shared.faults.refuse_links_for(duration, fault);
    }

    /// Stops listening and drops every connection.
    pub async fn shutdown(self) {
        self.shared.cancel.cancel();
        tokio::task::yield_now().await;
    }
}

impl Drop for EventHubsEmulator {
    fn drop(&mut self) {
        self.shared.cancel.cancel();
    }
}

/// Binds 127.0.0.1 on a free port with a TCP maximum segment size of 16 KiB. On loopback the
/// MSS otherwise grows to 32768 once data flows, and pyamqp, which reads every TCP option
/// and writes it back after connecting, then fails with EINVAL (Linux accepts at most 32767)
/// whenever the server's first bytes arrive before it does so.
fn listen() -> Result<TcpListener, EmulatorError> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    if let Err(e) = socket.set_tcp_mss(16 * 1024) {
        tracing::debug!(error = %e, "cannot lower the TCP maximum segment size");
    }
    socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    socket.listen(128)?;
    socket.set_nonblocking(true)?;
    Ok(TcpListener::from_std(socket.into())?)
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let accepted = tokio::select! {
            _ = shared.cancel.cancelled() => return,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if shared.faults.refusing_connections() {
            tracing::info!(%peer, "refusing connection (fault injected)");
            drop(stream);
            continue;
        }
        let id = shared.next_connection.fetch_add(1, Ordering::Relaxed);
        let ctx = Arc::new(ConnCtx::new(
            id,
            shared.clone(),
            shared.cancel.child_token(),
        ));
        shared.connections().insert(id, ctx.clone());
        let shared2 = shared.clone();
        tokio::spawn(async move {
            serve_connection(ctx, stream).await;
            shared2.connections().remove(&id);
        });
    }
}
