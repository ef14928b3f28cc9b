"""azure-kusto-data's KustoClient against the Data Explorer emulator, for what scheduled reports
use: query parameters through ClientRequestProperties, the render annotation in the v2
QueryProperties table, a leftanti join, percentile by bin, truncation reported as a partial
failure, .set-or-append and .show tables details. Env: KUSTO_URL, KUSTO_DB."""
import os
import sys

from azure.kusto.data import ClientRequestProperties, KustoClient, KustoConnectionStringBuilder
from azure.kusto.data.exceptions import KustoServiceError

url, db = os.environ["KUSTO_URL"], os.environ["KUSTO_DB"]
client = KustoClient(KustoConnectionStringBuilder.with_no_authentication(url))

client.execute_mgmt(db, ".set-or-append Dev <| print DeviceId = 'd1'")
client.execute_mgmt(db, ".append Dev <| print DeviceId = 'd2'")
for dev, ts, v in [("d1", "2026-12-03T10:00:00Z", 10), ("d1", "2026-12-03T10:20:00Z", 30)]:
    client.execute_mgmt(db, f".set-or-append Tel <| print DeviceId = '{dev}', Ts = datetime({ts}), V = {v}")

details = client.execute_mgmt(db, ".show tables details").primary_results[0]
counts = {r["TableName"]: r["TotalRowCount"] for r in details}
assert counts == {"Dev": 2, "Tel": 2}, counts

props = ClientRequestProperties()
props.set_parameter("start", "datetime(2026-12-03T10:10:00Z)")
props.set_parameter("dev", "d1")
q = "declare query_parameters(start:datetime, dev:string); Tel | where Ts >= start and DeviceId == dev | count"
n = client.execute(db, q, props).primary_results[0].rows[0][0]
assert n == 1, n

response = client.execute(db, "Tel | summarize V = sum(V) by bin(Ts, 1h) | render timechart with (title='Load')")
kinds = {t.table_kind.value: t for t in response.tables}
props_table = kinds["QueryProperties"]
vis = [r["Value"] for r in props_table if r["Key"] == "Visualization"][0]
if isinstance(vis, str):
    import json
    vis = json.loads(vis)
assert vis["Visualization"] == "timechart" and vis["Title"] == "Load", vis

silent = client.execute(db, "Dev | join kind=leftanti (Tel) on DeviceId").primary_results[0]
assert [r["DeviceId"] for r in silent] == ["d2"], silent

p = client.execute(db, "Tel | summarize percentile(V, 50) by bin(Ts, 1h)").primary_results[0]
assert p.rows[0]["percentile_V_50"] == 10, p.rows[0]

limited = ClientRequestProperties()
limited.set_option("truncationmaxrecords", 1)
try:
    client.execute(db, "Tel", limited)
    sys.exit("a result over truncationmaxrecords must fail")
except KustoServiceError as e:
    assert "E_QUERY_RESULT_SET_TOO_LARGE" in str(e), str(e)
print("OK")
