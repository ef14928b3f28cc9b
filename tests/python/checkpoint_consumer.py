"""The official Python consumer with the official blob checkpoint store
(azure-eventhub 5.15.1, azure-eventhub-checkpointstoreblob 1.2.0), for tests/checkpoint_interop.rs.

argv[1] is a JSON object:
  conn        Event Hubs connection string naming the namespace (UseDevelopmentEmulator=true)
  endpoint    the emulator's address, sb://127.0.0.1:PORT (custom_endpoint_address)
  storage     Azure Storage connection string (Azurite)
  container   the checkpoint container
  group       consumer group
  checkpoint_below  {partition: n}: checkpoint only events with sequence number < n there;
              absent: checkpoint every event
  balance_s   load-balancing interval in seconds

Prints one JSON object per line and flushes: {"claimed": p} when a partition is initialised,
{"event": {...}} for each received event (after its checkpoint, when one is written),
{"closed": p, "reason": r} when a partition is given up, {"stopped": true} at the end.
Reads standard input until EOF, then closes the consumer (which releases its partitions)."""
import json
import logging
import sys
import threading

from azure.eventhub import EventHubConsumerClient
from azure.eventhub.extensions.checkpointstoreblob import BlobCheckpointStore

logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
cfg = json.loads(sys.argv[1])
below = cfg.get("checkpoint_below")
lock = threading.Lock()


def say(obj):
    with lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def on_event(ctx, event):
    if event is None:
        return
    seq = event.sequence_number
    checkpoint = below is None or seq < below.get(ctx.partition_id, 0)
    if checkpoint:
        ctx.update_checkpoint(event)
    say({"event": {
        "partition": ctx.partition_id,
        "sequence_number": seq,
        "offset": event.offset,
        "body": event.body_as_str(),
        "checkpointed": checkpoint,
    }})


def on_init(ctx):
    say({"claimed": ctx.partition_id})


def on_close(ctx, reason):
    say({"closed": ctx.partition_id, "reason": str(reason)})


def on_error(ctx, error):
    print("error", getattr(ctx, "partition_id", None), repr(error), file=sys.stderr, flush=True)


store = BlobCheckpointStore.from_connection_string(cfg["storage"], cfg["container"])
consumer = EventHubConsumerClient.from_connection_string(
    cfg["conn"],
    consumer_group=cfg["group"],
    checkpoint_store=store,
    custom_endpoint_address=cfg["endpoint"],
    load_balancing_interval=cfg.get("balance_s", 1),
)
receiver = threading.Thread(target=lambda: consumer.receive(
    on_event=on_event,
    on_partition_initialize=on_init,
    on_partition_close=on_close,
    on_error=on_error,
    starting_position="-1",
    max_wait_time=None,
))
receiver.start()
sys.stdin.read()
consumer.close()
receiver.join(30)
say({"stopped": True})
