"""azure-kusto-data's KustoClient against the Data Explorer emulator: management commands over
/v1/rest/mgmt and queries over /v2/rest/query. Env: KUSTO_URL, KUSTO_DB, KUSTO_TOKEN (optional:
app-token auth; without it, no authentication)."""
import os
import sys

from azure.kusto.data import KustoClient, KustoConnectionStringBuilder
from azure.kusto.data.exceptions import KustoServiceError

url, db, token = os.environ["KUSTO_URL"], os.environ["KUSTO_DB"], os.environ.get("KUSTO_TOKEN")
kcsb = (KustoConnectionStringBuilder.with_aad_application_token_authentication(url, token)
        if token else KustoConnectionStringBuilder.with_no_authentication(url))
client = KustoClient(kcsb)

version = client.execute_mgmt(db, ".show version").primary_results[0]
assert version.rows[0]["ServiceType"] == "Engine", version.rows[0]

client.execute_mgmt(db, ".create table Py (name:string, n:long, ts:datetime, v:real, d:dynamic)")
client.execute_mgmt(db, ".create-merge table Py (name:string, extra:string)")
schema = client.execute_mgmt(db, ".show table Py cslschema").primary_results[0].rows[0]["Schema"]
assert schema == "name:string,n:long,ts:datetime,v:real,d:dynamic,extra:string", schema
tables = [r["TableName"] for r in client.execute_mgmt(db, ".show tables").primary_results[0]]
assert "Py" in tables, tables

client.execute_mgmt(db, ".alter table Py policy streamingingestion enable")
# Rows go in through the test's own streaming call (KUSTO_SEED_DONE) or are empty here.
result = client.execute(db, "Py | count").primary_results[0]
assert result.rows[0][0] == int(os.environ.get("KUSTO_EXPECT_ROWS", "0")), result.rows[0][0]
rows = client.execute_query(db, "Py").primary_results[0]
assert [c.column_name for c in rows.columns][:3] == ["name", "n", "ts"], rows.columns

try:
    client.execute_mgmt(db, ".frobnicate")
    sys.exit("an unknown command must fail")
except KustoServiceError as e:
    assert "frobnicate" in str(e), str(e)
try:
    client.execute(db, "NoSuchTable | count")
    sys.exit("a bad query must fail")
except KustoServiceError as e:
    assert "NoSuchTable" in str(e), str(e)
print("OK")
