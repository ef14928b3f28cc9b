// The official JavaScript Event Hubs client (@azure/event-hubs) against the emulator: reads
// the hub's properties, sends a batch to partition 0, then receives from the earliest position
// until it has seen every body it expects. Args: CONNECTION_STRING BODY... (the bodies expected
// in partition 0, those sent by this script included). Env: NODE_MODULES.
const path = require("path");
const { EventHubProducerClient, EventHubConsumerClient, earliestEventPosition } =
  require(path.join(process.env.NODE_MODULES, "@azure/event-hubs"));

(async () => {
  const [cs, ...expected] = process.argv.slice(2);
  const producer = new EventHubProducerClient(cs);
  const props = await producer.getEventHubProperties();
  const batch = await producer.createBatch({ partitionId: "0" });
  for (const body of ["from-js-1", "from-js-2"]) batch.tryAdd({ body });
  await producer.sendBatch(batch);
  await producer.close();
  const consumer = new EventHubConsumerClient("$Default", cs);
  const seen = [];
  await new Promise((resolve, reject) => {
    const subscription = consumer.subscribe("0", {
      processEvents: async (events) => {
        for (const e of events) seen.push(typeof e.body === "string" ? e.body : Buffer.from(e.body).toString());
        if (expected.every((b) => seen.includes(b))) { await subscription.close(); resolve(); }
      },
      processError: async (err) => reject(err),
    }, { startPosition: earliestEventPosition, maxBatchSize: 10, maxWaitTimeInSeconds: 1 });
  });
  await consumer.close();
  console.log(JSON.stringify({ partitions: props.partitionIds, seen }));
})().catch((e) => { console.error(e); process.exit(1); });
