"""The official Python producer (azure-eventhub 5.15.1) sends one event with application
properties and a partition key, as IoT Central's export does, for tests/eventhubs_paths.rs.

argv: connection string (UseDevelopmentEmulator=true), custom endpoint (sb://127.0.0.1:PORT),
body, partition key, application properties as a JSON object."""
import json
import logging
import sys

from azure.eventhub import EventData, EventHubProducerClient

logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
conn, endpoint, body, key, properties = sys.argv[1:6]

producer = EventHubProducerClient.from_connection_string(
    conn, custom_endpoint_address=endpoint, retry_total=0
)
with producer:
    batch = producer.create_batch(partition_key=key)
    event = EventData(body)
    event.properties = json.loads(properties)
    batch.add(event)
    producer.send_batch(batch)
print("sent")
