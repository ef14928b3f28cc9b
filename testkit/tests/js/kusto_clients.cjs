// The official JavaScript Data Explorer clients (azure-kusto-data, azure-kusto-ingest) against
// the emulator: control commands (a table, its streaming policy and JSON mapping), streaming
// and managed streaming ingestion, and a query that reads the rows back.
// Env: KUSTO_URL, NODE_MODULES. Prints the rows as JSON.
const path = require("path");
const lib = (name) => require(path.join(process.env.NODE_MODULES, name));
const { Client, KustoConnectionStringBuilder } = lib("azure-kusto-data");
const { StreamingIngestClient, ManagedStreamingIngestClient, IngestionProperties, DataFormat } =
  lib("azure-kusto-ingest");
const { Readable } = require("stream");

(async () => {
  // The emulator runs without authentication here; any token is accepted.
  const kcsb = () => KustoConnectionStringBuilder.withAccessToken(process.env.KUSTO_URL, "emulator");
  const client = new Client(kcsb());
  for (const command of [
    ".create-merge table JsRows (n:long, dev:string)",
    ".alter table JsRows policy streamingingestion enable",
    `.create-or-alter table JsRows ingestion json mapping 'rows' '[{"column":"n","path":"$.n","datatype":"long"},{"column":"dev","path":"$.dev","datatype":"string"}]'`,
  ]) {
    await client.executeMgmt("db1", command);
  }
  const props = new IngestionProperties({
    database: "db1", table: "JsRows", format: DataFormat.MULTIJSON, ingestionMappingReference: "rows",
  });
  const streaming = new StreamingIngestClient(kcsb(), props);
  await streaming.ingestFromStream(Readable.from([Buffer.from('{"n":1,"dev":"a"}\n{"n":2,"dev":"b"}\n')]));
  const managed = new ManagedStreamingIngestClient(kcsb(), kcsb(), props);
  await managed.ingestFromStream(Readable.from([Buffer.from('{"n":3,"dev":"c"}\n')]));
  const result = await client.execute("db1", "JsRows | order by n asc | project n, dev");
  console.log(JSON.stringify(result.primaryResults[0].toJSON().data));
  client.close();
  streaming.close();
  managed.close();
})().catch((e) => {
  console.error(e.response?.data ? JSON.stringify(e.response.data) : e);
  process.exit(1);
});
