// What the history's crossing to the checker thread costs (simulator/history-batch.ts): records the
// history of one run, then packs it into batches and posts them on a MessagePort with their columns
// transferred, as checker-thread.ts does (the structured clone happens in postMessage), and takes them
// off the other port and reads them back as the checker thread does, timing each side in CPU time.
//   npx tsx bench/history-batch-bench.ts [scenario] [clients] [rounds]
// Prints, per round: the world's side (pack + post), the thread's side (receive + rebuild), and the
// bytes of one serialized copy of the batches (their columns included, which postMessage moves).

import { serialize } from 'node:v8';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { loadScenario } from '../scenarios/load-scenario.ts';
import type { HistoryEvent } from '../simulator/history.ts';
import { type HistoryBatch, HistoryBatchReader, HistoryBatchWriter } from '../simulator/history-batch.ts';
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
      kinds: 'all',
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
/** One serialized copy of every batch, columns included (postMessage moves those instead). */
function serializedBytes(): number {
  const writer = new HistoryBatchWriter(batchEvents);
  let bytes = 0;
  for (let i = 0; i < events.length; i++) {
    writer.add(events[i]!, devices[i]!);
    if (writer.count === batchEvents || i === events.length - 1)
      bytes += serialize(writer.take().batch).length;
  }
  return bytes;
}

const bytes = serializedBytes();
for (let round = 0; round < Number(rounds); round++) {
  const writer = new HistoryBatchWriter(batchEvents);
  const { port1, port2 } = new MessageChannel();
  const start = cpuMs();
  let posted = 0;
  for (let i = 0; i < events.length; i++) {
    writer.add(events[i]!, devices[i]!);
    if (writer.count < batchEvents && i < events.length - 1) continue;
    const { batch, transfer } = writer.take();
    port1.postMessage(batch, transfer);
    posted++;
  }
  const packed = cpuMs();
  const reader = new HistoryBatchReader();
  let read = 0;
  for (let taken = 0; taken < posted; taken++)
    reader.read(receiveMessageOnPort(port2)!.message as HistoryBatch, () => {
      read++;
    });
  const done = cpuMs();
  port1.close();
  if (read !== events.length) throw new Error(`read ${read} events of ${events.length}`);
  process.stdout.write(
    `round ${round + 1}: world side ${(packed - start).toFixed(0)} ms, thread side ${(done - packed).toFixed(0)} ms, ${(bytes / 1e6).toFixed(1)} MB serialized\n`,
  );
}
