//! Consumer links: deliver a partition's events from the start position on, then new events
//! as they are appended, never beyond the client's credit (fe2o3's sender waits for credit),
//! with the service's annotations typed as clients expect; stop when the link is stolen, a
//! fault detaches it, or the connection goes.

use super::log::{Partition, StoredEvent};
use super::owners::{PartitionKey, Registration};
use super::requests::Msg;
use super::shared::ConnCtx;
use fe2o3_amqp::link::delivery::Sendable;
use fe2o3_amqp::link::Sender;
use fe2o3_amqp_types::messaging::annotations::OwnedKey;
use fe2o3_amqp_types::messaging::MessageAnnotations;
use fe2o3_amqp_types::primitives::{OrderedMap, Symbol, Timestamp, Value};
use std::sync::Arc;
use std::time::Duration;

const READ_CHUNK: usize = 64;

/// The event as a message, with `x-opt-sequence-number` (long), `x-opt-offset` (string),
/// `x-opt-enqueued-time` (timestamp) and `x-opt-partition-key` (string).
pub(crate) fn to_message(e: &StoredEvent) -> Msg {
    let mut ann: OrderedMap<OwnedKey, Value> = e
        .message_annotations
        .clone()
        .map(|a| a.0)
        .unwrap_or_default();
    let k = |s: &str| OwnedKey::Symbol(Symbol::from(s));
    ann.insert(k("x-opt-sequence-number"), Value::Long(e.sequence_number));
    ann.insert(k("x-opt-offset"), Value::String(e.offset.to_string()));
    ann.insert(
        k("x-opt-enqueued-time"),
        Value::Timestamp(Timestamp::from_milliseconds(e.enqueued_time_ms)),
    );
    if let Some(pk) = &e.partition_key {
        ann.insert(k("x-opt-partition-key"), Value::String(pk.clone()));
    }
    Msg {
        header: None,
        delivery_annotations: None,
        message_annotations: Some(MessageAnnotations(ann)),
        properties: e.properties.clone(),
        application_properties: e.application_properties.clone(),
        body: e.body.clone(),
        footer: None,
    }
}

enum End {
    Fault(super::faults::LinkFault),
    ClientDetached,
    Gone,
}

/// Serves one consumer link until it ends, then releases the partition.
pub(crate) async fn run(
    ctx: Arc<ConnCtx>,
    mut sender: Sender,
    partition: Arc<Partition>,
    mut next: i64,
    key: PartitionKey,
    registration: Registration,
    partition_id: String,
) {
    let Registration { id, mut stop } = registration;
    let mut appended = partition.subscribe();
    let shared = ctx.shared.clone();
    tracing::debug!(partition = %partition_id, from = next, "consumer link attached");
    let end = 'outer: loop {
        if let Some(f) = stop.borrow_and_update().clone() {
            break End::Fault(f);
        }
        appended.borrow_and_update();
        let events = partition.read_from(next, READ_CHUNK);
        if events.is_empty() {
            tokio::select! {
                _ = ctx.cancel.cancelled() => break End::Gone,
                r = appended.changed() => if r.is_err() { break End::Gone },
                _ = stop.changed() => {}
                _ = sender.on_detach() => break End::ClientDetached,
            }
            continue;
        }
        for e in events {
            let delay = shared.faults.delivery_delay();
            if !delay.is_zero() {
                tokio::select! {
                    _ = ctx.cancel.cancelled() => break 'outer End::Gone,
                    _ = stop.changed() => continue 'outer,
                    _ = tokio::time::sleep(delay) => {}
                }
            }
            let sendable = Sendable::builder()
                .message(to_message(&e))
                .settled(true)
                .build();
            tokio::select! {
                _ = ctx.cancel.cancelled() => break 'outer End::Gone,
                _ = stop.changed() => continue 'outer,
                r = sender.send_batchable(sendable) => match r {
                    Ok(_) => next = e.sequence_number + 1,
                    Err(err) => {
                        tracing::debug!(error = %err, "consumer link send failed");
                        break 'outer End::Gone;
                    }
                },
            }
        }
    };
    shared.owners.unregister(&key, id);
    match end {
        End::Fault(f) => {
            tracing::info!(partition = %partition_id, condition = %f.condition, "detaching consumer link");
            let _ = tokio::time::timeout(
                Duration::from_secs(2),
                sender.close_with_error(f.to_error()),
            )
            .await;
        }
        End::ClientDetached => {
            let _ = tokio::time::timeout(Duration::from_secs(2), sender.close()).await;
        }
        End::Gone => {}
    }
}
