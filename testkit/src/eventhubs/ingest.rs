//! Producer links: each delivery is one event, or — with message format `0x80013700` — a batch
//! whose data sections are each an encoded message. A delivery lands in one partition: the
//! link's own, the one its partition key hashes to, or the next in round robin.

use super::log::{Hub, NewEvent};
use super::requests::Msg;
use fe2o3_amqp::link::Receiver;
use fe2o3_amqp_types::definitions::{AmqpError, Error};
use fe2o3_amqp_types::messaging::annotations::OwnedKey;
use fe2o3_amqp_types::messaging::{Body, MessageAnnotations};
use fe2o3_amqp_types::primitives::{Symbol, Value};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The message format of an Event Hubs batch.
pub(crate) const BATCH_FORMAT: u32 = 0x8001_3700;

fn partition_key(annotations: Option<&MessageAnnotations>) -> Option<String> {
    match annotations?
        .0
        .get(&OwnedKey::Symbol(Symbol::from("x-opt-partition-key")))?
    {
        Value::String(s) => Some(s.clone()),
        Value::Symbol(s) => Some(s.0.clone()),
        _ => None,
    }
}

fn to_event(m: Msg) -> NewEvent {
    let size =
        serde_amqp::to_vec(&fe2o3_amqp_types::messaging::message::__private::Serializable(&m))
            .map(|v| v.len() as u64)
            .unwrap_or(64);
    NewEvent {
        partition_key: partition_key(m.message_annotations.as_ref()),
        body: m.body,
        properties: m.properties,
        application_properties: m.application_properties,
        message_annotations: m.message_annotations,
        size,
    }
}

/// Splits a delivery into events; errors when a batched message does not decode.
fn events_of(format: Option<u32>, m: Msg) -> Result<Vec<NewEvent>, String> {
    if format != Some(BATCH_FORMAT) {
        return Ok(vec![to_event(m)]);
    }
    let Body::Data(sections) = m.body else {
        return Err("a batch must carry data sections".into());
    };
    let envelope_key = partition_key(m.message_annotations.as_ref());
    let mut out = Vec::new();
    for d in sections.iter() {
        let inner: Msg = serde_amqp::from_slice::<
            fe2o3_amqp_types::messaging::message::__private::Deserializable<Msg>,
        >(&d.0)
        .map(|x| x.0)
        .map_err(|e| format!("a batched message does not decode: {e}"))?;
        let mut ev = to_event(inner);
        if ev.partition_key.is_none() {
            ev.partition_key = envelope_key.clone();
        }
        out.push(ev);
    }
    Ok(out)
}

/// Receives events on a producer link until it ends.
pub(crate) async fn run(
    cancel: CancellationToken,
    mut receiver: Receiver,
    hub: Arc<Hub>,
    partition: Option<String>,
) {
    loop {
        let delivery = tokio::select! {
            _ = cancel.cancelled() => return,
            d = receiver.recv::<Body<Value>>() => d,
        };
        let delivery = match delivery {
            Ok(d) => d,
            Err(e) => {
                tracing::debug!(error = %e, "producer link ended");
                break;
            }
        };
        let format = *delivery.message_format();
        let message = delivery.message().clone();
        match events_of(format, message) {
            Ok(events) if !events.is_empty() => {
                let index = match &partition {
                    Some(p) => p.parse::<usize>().unwrap_or(0),
                    None => hub.pick_partition(events[0].partition_key.as_deref()),
                };
                if let Some(p) = hub.partitions.get(index) {
                    let seqs = p.append(events);
                    tracing::debug!(hub = %hub.name, partition = index, count = seqs.len(), "events appended");
                }
                let _ = receiver.accept(&delivery).await;
            }
            Ok(_) => {
                let _ = receiver.accept(&delivery).await;
            }
            Err(why) => {
                let _ = receiver
                    .reject(
                        &delivery,
                        Error::new(AmqpError::DecodeError, Some(why), None),
                    )
                    .await;
            }
        }
    }
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), receiver.close()).await;
}
