// What the history's crossing to the checker thread costs (simulator/history-batch.ts): records the
// history of one run, then packs it into batches and serializes them as postMessage does (V8's
// serializer), and reads them back as the checker thread does, timing each side in CPU time.
//   npx tsx bench/history-batch-bench.ts [scenario] [clients] [rounds]
// Prints, per round: the world's side (pack + serialize), the thread's side (deserialize + rebuild),
// and the bytes serialized.

import { deserialize, serialize } from 'node:v8';
import { loadScenario } from '../scenarios/load-scenario.ts';
import type { HistoryEvent } from '../simulator/history.ts';
import { HistoryBatchReader, HistoryBatchWriter } from '../simulator/history-batch.ts';
import { runScenario } from '../simulator/run-scenario.ts';

const [name = 'million', clients = '10000', rounds = '5'] = process.argv.slice(2);
const batchEvents = 4096;

const events: HistoryEvent[] = [];
const devices: number[] = [];
const deviceOf = new Map<string, number>();
await runScenario(loadScenario(name), {
  seed: 1,
  clients: Number(clients),
  checkers: [
    {
      property: 'history',
      observe: (event: HistoryEvent) => {
        events.push(event);
        if (!('device' in event)) {
          devices.push(-1);
          return;
        }
        const key = `${event.user}\0${event.device}`;
        const device = deviceOf.get(key) ?? deviceOf.size;
        deviceOf.set(key, device);
        devices.push(device);
      },
      finish: () => ({ property: 'history', verdict: 'pass', details: '', witness: [] }),
    },
  ],
});

const cpuMs = (): number => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};

process.stdout.write(`${name}, ${clients} clients: ${events.length} history events\n`);
for (let round = 0; round < Number(rounds); round++) {
  const writer = new HistoryBatchWriter(batchEvents);
  const batches: Buffer[] = [];
  const start = cpuMs();
  for (let i = 0; i < events.length; i++) {
    writer.add(events[i]!, devices[i]!);
    if (writer.count === batchEvents || i === events.length - 1) batches.push(serialize(writer.take().batch));
  }
  const packed = cpuMs();
  const reader = new HistoryBatchReader();
  let read = 0;
  for (const bytes of batches)
    reader.read(deserialize(bytes), () => {
      read++;
    });
  const done = cpuMs();
  if (read !== events.length) throw new Error(`read ${read} events of ${events.length}`);
  const bytes = batches.reduce((sum, batch) => sum + batch.length, 0);
  process.stdout.write(
    `round ${round + 1}: world side ${(packed - start).toFixed(0)} ms, thread side ${(done - packed).toFixed(0)} ms, ${(bytes / 1e6).toFixed(1)} MB serialized\n`,
  );
}
