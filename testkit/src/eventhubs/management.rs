//! `$management` READ requests: the hub's and a partition's runtime properties, as the
//! clients parse them (`com.microsoft:eventhub`, `com.microsoft:partition`).

use super::requests::{prop_str, reply, Msg};
use super::shared::Shared;
use fe2o3_amqp_types::primitives::{Array, OrderedMap, Timestamp, Value};

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

/// Answers one management request.
pub(crate) fn handle(shared: &Shared, authorised: bool, request: &Msg) -> Msg {
    if !authorised {
        return reply(request, 401, "no valid token for this entity", Value::Null);
    }
    let op = prop_str(request, "operation").unwrap_or_default();
    if op != "READ" {
        return reply(
            request,
            400,
            &format!("unsupported operation {op:?}"),
            Value::Null,
        );
    }
    let ty = prop_str(request, "type").unwrap_or_default();
    let name = prop_str(request, "name").unwrap_or_default();
    let Some(hub) = shared.store.hub(&name) else {
        return reply(
            request,
            404,
            &format!("the messaging entity {name:?} could not be found"),
            Value::Null,
        );
    };
    let mut map: OrderedMap<Value, Value> = OrderedMap::new();
    match ty.as_str() {
        "com.microsoft:eventhub" => {
            map.insert(s("name"), s(&hub.name));
            map.insert(s("type"), s("com.microsoft:eventhub"));
            map.insert(
                s("created_at"),
                Value::Timestamp(Timestamp::from_milliseconds(hub.created_at_ms)),
            );
            map.insert(
                s("partition_count"),
                Value::Int(hub.partitions.len() as i32),
            );
            let ids: Vec<Value> = (0..hub.partitions.len())
                .map(|i| s(&i.to_string()))
                .collect();
            map.insert(s("partition_ids"), Value::Array(Array::from(ids)));
        }
        "com.microsoft:partition" => {
            let pid = prop_str(request, "partition").unwrap_or_default();
            let Some(partition) = hub.partition(&pid) else {
                return reply(
                    request,
                    404,
                    &format!("partition {pid:?} of {name:?} could not be found"),
                    Value::Null,
                );
            };
            let last = partition.last();
            map.insert(s("type"), s("com.microsoft:partition"));
            map.insert(s("name"), s(&hub.name));
            map.insert(s("partition"), s(&pid));
            map.insert(s("begin_sequence_number"), Value::Long(0));
            map.insert(
                s("last_enqueued_sequence_number"),
                Value::Long(last.as_ref().map(|e| e.sequence_number).unwrap_or(-1)),
            );
            map.insert(s("last_enqueued_sequence_number_epoch"), Value::Long(0));
            map.insert(
                s("last_enqueued_offset"),
                s(&last
                    .as_ref()
                    .map(|e| e.offset.to_string())
                    .unwrap_or_else(|| "-1".into())),
            );
            map.insert(
                s("last_enqueued_time_utc"),
                Value::Timestamp(Timestamp::from_milliseconds(
                    last.as_ref().map(|e| e.enqueued_time_ms).unwrap_or(0),
                )),
            );
            map.insert(s("is_partition_empty"), Value::Bool(last.is_none()));
        }
        other => {
            return reply(
                request,
                400,
                &format!("unsupported type {other:?}"),
                Value::Null,
            )
        }
    }
    reply(request, 200, "OK", Value::Map(map))
}
