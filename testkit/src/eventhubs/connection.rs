//! One client connection: SASL and open, then its sessions, then each link attach routed by
//! address — `$cbs` and `$management` request links and their reply links, producer links to
//! hubs and partitions, consumer links from consumer-group partitions — with the
//! authorisation check for entity links.

use super::address::{self, Entity};
use super::auth;
use super::deliver;
use super::faults::LinkFault;
use super::ingest;
use super::io::CuttableStream;
use super::log::{Hub, Partition};
use super::management;
use super::owners;
use super::requests::{self, Msg};
use super::sasl::NamespaceSasl;
use super::selector;
use super::shared::ConnCtx;
use fe2o3_amqp::acceptor::{
    ConnectionAcceptor, LinkAcceptor, LinkEndpoint, ListenerSessionHandle, SessionAcceptor,
};
use fe2o3_amqp::link::{Receiver, Sender};
use fe2o3_amqp_types::definitions::Role;
use fe2o3_amqp_types::messaging::TargetArchetype;
use fe2o3_amqp_types::performatives::Attach;
use fe2o3_amqp_types::primitives::{Symbol, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// How long the emulator waits on a peer for link and session closing handshakes.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(2);

/// fe2o3's link acceptor with its default (pass-through) terminus handlers.
type Links = LinkAcceptor<
    fn(fe2o3_amqp_types::messaging::Source) -> Option<fe2o3_amqp_types::messaging::Source>,
    fn(fe2o3_amqp_types::messaging::Target) -> Option<fe2o3_amqp_types::messaging::Target>,
>;

fn link_acceptor() -> Links {
    // Like the service, settle at once (rcv-settle-mode first) even when a client asks for
    // second (pyamqp does, and waits for a settled disposition).
    LinkAcceptor::builder()
        .max_message_size(1024 * 1024u64)
        .supported_receiver_settle_modes(fe2o3_amqp::acceptor::SupportedReceiverSettleModes::First)
        .fallback_receiver_settle_mode(fe2o3_amqp_types::definitions::ReceiverSettleMode::First)
        .build()
}

/// Serves one TCP connection until the client closes it or a fault cuts it.
pub(crate) async fn serve_connection(ctx: Arc<ConnCtx>, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let acceptor = ConnectionAcceptor::builder()
        .container_id(format!("eventhubs-emulator-{}", ctx.id))
        .max_frame_size(65536u32)
        .sasl_acceptor(NamespaceSasl)
        .build();
    let io = CuttableStream::new(stream, ctx.cancel.clone());
    let mut conn = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(io)).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            tracing::info!(error = %e, "connection open failed");
            return;
        }
        Err(_) => {
            tracing::info!("connection open timed out");
            return;
        }
    };
    let sessions = SessionAcceptor::new();
    loop {
        let session = tokio::select! {
            _ = ctx.cancel.cancelled() => break,
            s = sessions.accept(&mut conn) => s,
        };
        match session {
            Ok(session) => {
                tokio::spawn(serve_session(ctx.clone(), session));
            }
            Err(e) => {
                tracing::debug!(error = %e, "connection ended");
                break;
            }
        }
    }
    if !ctx.cancel.is_cancelled() {
        let _ = tokio::time::timeout(HANDSHAKE_TIMEOUT, conn.close()).await;
    }
    ctx.cancel.cancel();
}

async fn serve_session(ctx: Arc<ConnCtx>, mut session: ListenerSessionHandle) {
    let links = link_acceptor();
    loop {
        let attach = tokio::select! {
            _ = ctx.cancel.cancelled() => return,
            a = session.next_incoming_attach() => a,
        };
        let Some(attach) = attach else { break };
        on_attach(&ctx, &links, &mut session, attach).await;
    }
    let _ = tokio::time::timeout(HANDSHAKE_TIMEOUT, session.end()).await;
}

fn target_address(attach: &Attach) -> String {
    match attach.target.as_deref() {
        Some(TargetArchetype::Target(t)) => t.address.clone().unwrap_or_default(),
        #[allow(unreachable_patterns)]
        _ => String::new(),
    }
}

fn source_address(attach: &Attach) -> String {
    attach
        .source
        .as_ref()
        .and_then(|s| s.address.clone())
        .unwrap_or_default()
}

fn epoch_of(attach: &Attach) -> Option<i64> {
    let v = attach
        .properties
        .as_ref()?
        .get(&Symbol::from("com.microsoft:epoch"))?;
    match v {
        Value::Long(x) => Some(*x),
        Value::Int(x) => Some(i64::from(*x)),
        Value::Uint(x) => Some(i64::from(*x)),
        Value::Ulong(x) => i64::try_from(*x).ok(),
        _ => None,
    }
}

/// Accepts the link and detaches it at once with `fault`: how the service refuses a link.
async fn refuse(
    links: &Links,
    session: &mut ListenerSessionHandle,
    attach: Attach,
    fault: LinkFault,
) {
    tracing::info!(link = %attach.name, condition = %fault.condition, description = %fault.description, "refusing link");
    match links.accept_incoming_attach(attach, session).await {
        Ok(LinkEndpoint::Sender(s)) => {
            tokio::spawn(async move {
                tokio::time::timeout(HANDSHAKE_TIMEOUT, s.close_with_error(fault.to_error())).await
            });
        }
        Ok(LinkEndpoint::Receiver(r)) => {
            tokio::spawn(async move {
                tokio::time::timeout(HANDSHAKE_TIMEOUT, r.close_with_error(fault.to_error())).await
            });
        }
        Err(e) => tracing::debug!(error = %e, "refused link failed to attach"),
    }
}

fn unauthorised(address: &str) -> LinkFault {
    LinkFault::new("amqp:unauthorized-access", &format!("Unauthorized access. 'Listen'/'Send' claim(s) are required for {address}; put a valid token on $cbs first"))
}

fn not_found(what: &str) -> LinkFault {
    LinkFault::new(
        "amqp:not-found",
        &format!("The messaging entity '{what}' could not be found."),
    )
}

/// Routes one link attach by the client's role and the address it names.
async fn on_attach(
    ctx: &Arc<ConnCtx>,
    links: &Links,
    session: &mut ListenerSessionHandle,
    attach: Attach,
) {
    match attach.role {
        Role::Sender => on_sender_attach(ctx, links, session, attach).await,
        Role::Receiver => on_receiver_attach(ctx, links, session, attach).await,
    }
}

/// The client sends: requests to $cbs/$management, or events to a hub.
async fn on_sender_attach(
    ctx: &Arc<ConnCtx>,
    links: &Links,
    session: &mut ListenerSessionHandle,
    attach: Attach,
) {
    let address = target_address(&attach);
    let entity = address::parse(&address);
    tracing::debug!(%address, ?entity, "incoming sender link");
    match entity {
        Entity::Cbs | Entity::Management => {
            let is_cbs = entity == Entity::Cbs;
            if let Ok(LinkEndpoint::Receiver(r)) =
                links.accept_incoming_attach(attach, session).await
            {
                tokio::spawn(serve_requests(ctx.clone(), r, is_cbs));
            }
        }
        Entity::Hub { .. } | Entity::HubPartition { .. } => {
            match publish_target(ctx, &address, &entity) {
                Err(fault) => refuse(links, session, attach, fault).await,
                Ok((hub, partition)) => {
                    if let Ok(LinkEndpoint::Receiver(r)) =
                        links.accept_incoming_attach(attach, session).await
                    {
                        tokio::spawn(ingest::run(ctx.cancel.clone(), r, hub, partition));
                    }
                }
            }
        }
        _ => refuse(links, session, attach, not_found(&address)).await,
    }
}

/// The hub (and partition, if named) a producer link may send to, or why it may not.
fn publish_target(
    ctx: &ConnCtx,
    address: &str,
    entity: &Entity,
) -> Result<(Arc<Hub>, Option<String>), LinkFault> {
    let (Entity::Hub { hub } | Entity::HubPartition { hub, .. }) = entity else {
        return Err(not_found(address));
    };
    if let Some(fault) = ctx.shared.faults.link_refusal() {
        return Err(fault);
    }
    if !ctx.authorised(address) {
        return Err(unauthorised(address));
    }
    let h = ctx
        .shared
        .store
        .hub(hub)
        .cloned()
        .ok_or_else(|| not_found(hub))?;
    let partition = match entity {
        Entity::HubPartition { partition, .. } => match h.partition(partition) {
            Some(_) => Some(partition.clone()),
            None => return Err(not_found(address)),
        },
        _ => None,
    };
    Ok((h, partition))
}

/// The client receives: replies from $cbs/$management, or events from a partition.
async fn on_receiver_attach(
    ctx: &Arc<ConnCtx>,
    links: &Links,
    session: &mut ListenerSessionHandle,
    attach: Attach,
) {
    let address = source_address(&attach);
    let entity = address::parse(&address);
    tracing::debug!(%address, ?entity, "incoming receiver link");
    match entity {
        Entity::Cbs | Entity::Management => {
            // Replies go to the request's reply-to node; requests without one (pyamqp
            // sends none) are answered on the link attached from the node itself.
            let node = target_address(&attach);
            let own = node_key(entity == Entity::Cbs);
            if let Ok(LinkEndpoint::Sender(s)) = links.accept_incoming_attach(attach, session).await
            {
                let (tx, rx) = mpsc::channel(16);
                if !node.is_empty() {
                    ctx.replies().insert(node.clone(), tx.clone());
                }
                ctx.replies().insert(own.to_string(), tx);
                tokio::spawn(serve_replies(
                    ctx.clone(),
                    s,
                    rx,
                    vec![node, own.to_string()],
                ));
            }
        }
        Entity::ConsumerPartition {
            ref hub,
            ref group,
            ref partition,
        } => {
            let reader = match consumer_source(ctx, &attach, &address, hub, group, partition) {
                Ok(reader) => reader,
                Err(fault) => return refuse(links, session, attach, fault).await,
            };
            let ConsumerSource {
                partition: p,
                from,
                key,
                registration,
            } = reader;
            match links.accept_incoming_attach(attach, session).await {
                Ok(LinkEndpoint::Sender(s)) => {
                    tokio::spawn(deliver::run(
                        ctx.clone(),
                        s,
                        p,
                        from,
                        key,
                        registration,
                        partition.clone(),
                    ));
                }
                _ => ctx.shared.owners.unregister(&key, registration.id),
            }
        }
        _ => refuse(links, session, attach, not_found(&address)).await,
    }
}

/// What a consumer link reads: the partition, the first sequence number, and its place
/// among the partition's readers.
struct ConsumerSource {
    partition: Arc<Partition>,
    from: i64,
    key: owners::PartitionKey,
    registration: owners::Registration,
}

/// Checks a consumer link (faults, claims, hub, group, partition, filter, epoch) and
/// registers it as a reader, or says why it is refused.
fn consumer_source(
    ctx: &ConnCtx,
    attach: &Attach,
    address: &str,
    hub: &str,
    group: &str,
    partition: &str,
) -> Result<ConsumerSource, LinkFault> {
    let shared = &ctx.shared;
    if let Some(fault) = shared.faults.link_refusal() {
        return Err(fault);
    }
    if !ctx.authorised(address) {
        return Err(unauthorised(address));
    }
    let h = shared
        .store
        .hub(hub)
        .cloned()
        .ok_or_else(|| not_found(hub))?;
    if !h.has_group(group) {
        return Err(not_found(&format!("{hub}/ConsumerGroups/{group}")));
    }
    let p = h
        .partition(partition)
        .cloned()
        .ok_or_else(|| not_found(address))?;
    let filter = selector::selector_of(attach.source.as_ref().and_then(|s| s.filter.as_ref()));
    let start = match filter.as_deref().map(selector::parse) {
        None => selector::StartAt::Earliest,
        Some(Ok(s)) => s,
        Some(Err(e)) => return Err(LinkFault::new("amqp:not-implemented", &e.to_string())),
    };
    // Resolved before the reader counts as attached (see `EventHubsEmulator::readers`): what
    // is appended once a test sees the reader is after a `@latest` start.
    let from = selector::resolve(&start, &p);
    let key = owners::key(hub, group, partition);
    let registration = shared
        .owners
        .register(key.clone(), ctx.id, epoch_of(attach))?;
    Ok(ConsumerSource {
        partition: p,
        from,
        key,
        registration,
    })
}

/// Pumps replies onto the link attached to a client's reply node.
/// The reply-route key of the link attached from `$cbs` or `$management` itself.
fn node_key(is_cbs: bool) -> &'static str {
    if is_cbs {
        "\u{0}$cbs"
    } else {
        "\u{0}$management"
    }
}

async fn serve_replies(
    ctx: Arc<ConnCtx>,
    mut sender: Sender,
    mut rx: mpsc::Receiver<Msg>,
    nodes: Vec<String>,
) {
    loop {
        let msg = tokio::select! {
            _ = ctx.cancel.cancelled() => break,
            _ = sender.on_detach() => break,
            m = rx.recv() => m,
        };
        let Some(msg) = msg else { break };
        let sendable = fe2o3_amqp::link::delivery::Sendable::builder()
            .message(msg)
            .settled(true)
            .build();
        if let Err(e) = sender.send_batchable(sendable).await {
            tracing::debug!(error = %e, "reply link failed");
            break;
        }
    }
    // With our receiver gone, only our own routes report closed.
    drop(rx);
    {
        let mut replies = ctx.replies();
        for node in &nodes {
            if replies.get(node).is_some_and(|tx| tx.is_closed()) {
                replies.remove(node);
            }
        }
    }
    let _ = tokio::time::timeout(HANDSHAKE_TIMEOUT, sender.close()).await;
}

/// Answers requests on a `$cbs` or `$management` link.
async fn serve_requests(ctx: Arc<ConnCtx>, mut receiver: Receiver, is_cbs: bool) {
    loop {
        let delivery = tokio::select! {
            _ = ctx.cancel.cancelled() => return,
            d = receiver.recv::<fe2o3_amqp_types::messaging::Body<Value>>() => d,
        };
        let delivery = match delivery {
            Ok(d) => d,
            Err(e) => {
                tracing::debug!(error = %e, "request link ended");
                break;
            }
        };
        let _ = receiver.accept(&delivery).await;
        let request: &Msg = delivery.message();
        let reply = if is_cbs {
            cbs_reply(&ctx, request)
        } else {
            management_reply(&ctx, request)
        };
        let own = node_key(is_cbs);
        let to = requests::reply_to(request).unwrap_or_else(|| own.to_string());
        ctx.send_reply(&to, own, reply).await;
    }
    let _ = tokio::time::timeout(HANDSHAKE_TIMEOUT, receiver.close()).await;
}

fn cbs_reply(ctx: &ConnCtx, request: &Msg) -> Msg {
    let op = requests::prop_str(request, "operation").unwrap_or_default();
    if op != "put-token" {
        return requests::reply(
            request,
            400,
            &format!("unsupported operation {op:?}"),
            Value::Null,
        );
    }
    let token_type = requests::prop_str(request, "type").unwrap_or_default();
    let audience = requests::prop_str(request, "name").unwrap_or_default();
    let Some(token) = requests::body_str(request) else {
        return requests::reply(request, 400, "the token is missing", Value::Null);
    };
    let shared = &ctx.shared;
    match auth::validate_put_token(
        &shared.options.sas_keys,
        shared.options.token_authority.as_ref(),
        &token_type,
        &audience,
        &token,
    ) {
        Ok(grant) => {
            tracing::debug!(%audience, "put-token accepted");
            ctx.grants().push(grant);
            requests::reply(request, 202, "Accepted", Value::Null)
        }
        Err(why) => {
            tracing::info!(%audience, %why, "put-token refused");
            requests::reply(
                request,
                401,
                &format!("InvalidSignature: {why}"),
                Value::Null,
            )
        }
    }
}

fn management_reply(ctx: &ConnCtx, request: &Msg) -> Msg {
    let shared = &ctx.shared;
    let name = requests::prop_str(request, "name").unwrap_or_default();
    let has_grant = ctx
        .grants()
        .iter()
        .any(|g| g.expires_ms > super::log::now_ms());
    let token_ok = requests::prop_str(request, "security_token").is_some_and(|t| {
        let ty = if t.starts_with("SharedAccessSignature") {
            auth::SAS_TYPE
        } else {
            auth::JWT_TYPE
        };
        let aud = format!("amqps://{}/{}", shared.options.namespace, name);
        auth::validate_put_token(
            &shared.options.sas_keys,
            shared.options.token_authority.as_ref(),
            ty,
            &aud,
            &t,
        )
        .is_ok()
    });
    management::handle(shared, has_grant || token_ok, request)
}
