"""azure-kusto-ingest's clients against the Data Explorer emulator (and Azurite for queued
ingestion). Usage: kusto_ingest_clients.py streaming|queued|managed|managed-fallback|managed-throttled.
Env: KUSTO_URL, KUSTO_DB, KUSTO_TOKEN (optional)."""
import io
import json
import os
import sys
import time

from azure.kusto.data import KustoClient, KustoConnectionStringBuilder
from azure.kusto.data.data_format import DataFormat, IngestionMappingKind
from azure.kusto.ingest import (IngestionProperties, KustoStreamingIngestClient, ManagedStreamingIngestClient,
                                QueuedIngestClient)

mode = sys.argv[1]
url, db, token = os.environ["KUSTO_URL"], os.environ["KUSTO_DB"], os.environ.get("KUSTO_TOKEN")


def kcsb():
    return (KustoConnectionStringBuilder.with_aad_application_token_authentication(url, token)
            if token else KustoConnectionStringBuilder.with_no_authentication(url))


client = KustoClient(kcsb())
table = "Ing_" + mode.replace("-", "_")
client.execute_mgmt(db, f".create table {table} (dev:string, ts:datetime, temp:real, raw:dynamic)")
mapping = [
    {"column": "dev", "Properties": {"Path": "$.device"}},
    {"column": "ts", "datatype": "datetime", "Properties": {"Path": "$.t", "Transform": "DateTimeFromUnixMilliseconds"}},
    {"column": "temp", "Properties": {"Path": "$['x-temp']"}},
    {"column": "raw", "Properties": {"Path": "$"}},
]
escaped = json.dumps(mapping).replace("\\", "\\\\").replace("'", "\\'")
client.execute_mgmt(db, f".create-or-alter table {table} ingestion json mapping 'm1' '{escaped}'")
policy = "disable" if mode in ("queued", "managed-fallback") else "enable"
client.execute_mgmt(db, f".alter table {table} policy streamingingestion {policy}")

records = [{"device": f"d{i}", "t": 1600000000000 + i, "x-temp": 20 + i} for i in range(5)]
data = "\n".join(json.dumps(r) for r in records).encode()
props = IngestionProperties(database=db, table=table, data_format=DataFormat.MULTIJSON,
                            ingestion_mapping_reference="m1", ingestion_mapping_kind=IngestionMappingKind.JSON)

if mode == "streaming":
    ingest = KustoStreamingIngestClient(kcsb())
elif mode == "queued":
    ingest = QueuedIngestClient(kcsb())
else:
    ingest = ManagedStreamingIngestClient(kcsb())
result = ingest.ingest_from_stream(io.BytesIO(data), ingestion_properties=props)
status = str(result.status).lower()
expected = "queued" if mode in ("queued", "managed-fallback", "managed-throttled") else "success"
assert expected in status, (mode, status)

deadline = time.time() + 30
while True:
    count = client.execute(db, f"{table} | count").primary_results[0].rows[0][0]
    if count == len(records):
        break
    if time.time() > deadline:
        sys.exit(f"rows did not arrive: {count}")
    time.sleep(0.2)
rows = client.execute(db, table).primary_results[0]
first = rows.rows[0]
assert first["dev"] == "d0", first
assert first["ts"].year == 2020, first["ts"]
assert first["temp"] == 20.0, first["temp"]
assert first["raw"]["device"] == "d0", first["raw"]
print("OK", status)
