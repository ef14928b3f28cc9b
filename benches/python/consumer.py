"""The straightforward Python consumer iotc-adx is compared with: azure-eventhub reads every
partition from the earliest event, each IoT Central telemetry message becomes one row per
capability, and azure-kusto-ingest's managed streaming client ingests them in blocks of
5,000 rows (multijson with a JSON mapping). Args: EVENT_HUBS_CONNECTION_STRING KUSTO_URL
MESSAGES. Prints the process CPU seconds and the rows ingested when every message is in."""
import io
import json
import sys
import threading
import time

from azure.eventhub import EventHubConsumerClient
from azure.kusto.data import KustoConnectionStringBuilder
from azure.kusto.data.data_format import DataFormat
from azure.kusto.ingest import IngestionProperties, ManagedStreamingIngestClient

cs, kusto_url, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
kcsb = KustoConnectionStringBuilder.with_no_authentication(kusto_url)
ingest = ManagedStreamingIngestClient(kcsb, kcsb)
props = IngestionProperties(database="iot", table="PyTelemetry", data_format=DataFormat.MULTIJSON,
                            ingestion_mapping_reference="py")
lock = threading.Lock()
rows, seen, ingested = [], [0], [0]
done = threading.Event()


def flush():
    global rows
    if rows:
        body = "\n".join(json.dumps(r) for r in rows).encode()
        ingest.ingest_from_stream(io.BytesIO(body), ingestion_properties=props)
        ingested[0] += len(rows)
        rows = []


def on_batch(context, events):
    with lock:
        for e in events:
            m = json.loads(e.body_as_str())
            for capability, value in m.get("telemetry", {}).items():
                rows.append({"EnqueuedTime": m["enqueuedTime"], "Device": m["deviceId"],
                             "Capability": capability, "Value": value})
            seen[0] += 1
        if len(rows) >= 5000 or seen[0] >= total:
            flush()
        if seen[0] >= total:
            done.set()


client = EventHubConsumerClient.from_connection_string(cs, consumer_group="$Default")
worker = threading.Thread(target=lambda: client.receive_batch(
    on_event_batch=on_batch, starting_position="-1", max_batch_size=300, max_wait_time=1), daemon=True)
worker.start()
done.wait()
client.close()
print(json.dumps({"cpu_seconds": time.process_time(), "rows": ingested[0], "messages": seen[0]}))
