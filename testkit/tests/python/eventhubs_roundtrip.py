"""Official azure-eventhub (pyamqp) against the emulator: send with EventHubProducerClient,
then receive with EventHubConsumerClient what the Rust side put in partition 0.
argv: connection string (with UseDevelopmentEmulator=true), expected bodies (comma separated)."""
import sys, threading, logging
from azure.eventhub import EventHubProducerClient, EventHubConsumerClient, EventData

logging.basicConfig(level=logging.WARNING)
conn, expected = sys.argv[1], [b for b in sys.argv[2].split(",") if b]

producer = EventHubProducerClient.from_connection_string(conn, retry_total=0)
with producer:
    batch = producer.create_batch(partition_id="0")
    batch.add(EventData(b"from-python"))
    producer.send_batch(batch)
print("sent")

got = []
done = threading.Event()
def on_event(ctx, ev):
    if ev is None:
        return
    got.append(ev.body_as_str())
    if len(got) >= len(expected) + 1:
        done.set()

consumer = EventHubConsumerClient.from_connection_string(conn, consumer_group="$Default", retry_total=0)
t = threading.Thread(target=lambda: consumer.receive(on_event=on_event, partition_id="0", starting_position="-1", max_wait_time=1))
t.start()
done.wait(30)
consumer.close()
t.join(10)
print("received", got)
missing = [b for b in expected + ["from-python"] if b not in got]
if missing:
    print("missing", missing)
    sys.exit(1)
