"""The KQL conformance cases through azure-kusto-data's KustoClient: each case's raw rows as
the client received them must equal the documented ones, and each refused case must raise a
KustoServiceError naming what is refused. Args: the cases file. Env: KUSTO_URL."""
import json
import os
import sys

from azure.kusto.data import KustoClient, KustoConnectionStringBuilder
from azure.kusto.data.exceptions import KustoServiceError

client = KustoClient(KustoConnectionStringBuilder.with_no_authentication(os.environ["KUSTO_URL"]))
failures = []
cases = json.load(open(sys.argv[1]))
for case in cases:
    try:
        rows = client.execute("db1", case["query"]).primary_results[0].raw_rows
        if "error" in case or rows != case["rows"]:
            failures.append(f"{case['about']}: got {rows}")
    except KustoServiceError as e:
        if case.get("error", "\0") not in str(e):
            failures.append(f"{case['about']}: {e}")
if failures:
    sys.exit("\n".join(failures))
print(f"OK: {len(cases)} cases")
