// The JavaScript Event Hubs consumer with its blob checkpoint store
// (@azure/eventhubs-checkpointstore-blob) on Azurite, against the emulator: a first consumer
// reads every partition from the earliest event and checkpoints what it read; after more
// events are sent, a second consumer with the same store starts after those checkpoints and
// receives only the new events. Args: CONNECTION_STRING CONTAINER_URL (with a SAS).
// Env: NODE_MODULES. Prints {first, second, checkpoints} as JSON.
const path = require("path");
const lib = (name) => require(path.join(process.env.NODE_MODULES, name));
const { EventHubProducerClient, EventHubConsumerClient, earliestEventPosition } = lib("@azure/event-hubs");
const { BlobCheckpointStore } = lib("@azure/eventhubs-checkpointstore-blob");
const { ContainerClient } = lib("@azure/storage-blob");

async function send(cs, bodies) {
  const producer = new EventHubProducerClient(cs);
  for (const [i, body] of bodies.entries()) {
    const batch = await producer.createBatch({ partitionId: String(i % 2) });
    batch.tryAdd({ body });
    await producer.sendBatch(batch);
  }
  await producer.close();
}

async function consume(cs, store, count) {
  // Greedy balancing claims every partition at once; without a checkpoint a partition is
  // read from its earliest event, with one just after it.
  const consumer = new EventHubConsumerClient("$Default", cs, store, {
    loadBalancingOptions: { strategy: "greedy", updateIntervalInMs: 500 },
  });
  const seen = [];
  await new Promise((resolve, reject) => {
    const subscription = consumer.subscribe({
      processEvents: async (events, context) => {
        for (const e of events) seen.push(e.body);
        if (events.length > 0) await context.updateCheckpoint(events[events.length - 1]);
        if (seen.length >= count) { await subscription.close(); resolve(); }
      },
      processError: async (err) => reject(err),
    }, { maxBatchSize: 10, maxWaitTimeInSeconds: 1, startPosition: earliestEventPosition });
  });
  const ns = consumer.fullyQualifiedNamespace;
  await consumer.close();
  return { seen: seen.sort(), ns };
}

(async () => {
  const [cs, containerUrl] = process.argv.slice(2);
  const container = new ContainerClient(containerUrl);
  await container.createIfNotExists();
  const store = new BlobCheckpointStore(container);
  await send(cs, ["a", "b", "c", "d"]);
  const first = await consume(cs, store, 4);
  await send(cs, ["e", "f"]);
  const second = await consume(cs, store, 2);
  const checkpoints = await store.listCheckpoints(first.ns, "hub", "$Default");
  console.log(JSON.stringify({
    first: first.seen, second: second.seen,
    checkpoints: checkpoints.map((c) => ({ partition: c.partitionId, sequence: c.sequenceNumber })).sort((x, y) => x.partition.localeCompare(y.partition)),
  }));
  // After the consumers close, node does not exit by itself here (a handle stays open);
  // the answer is out, so end.
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
