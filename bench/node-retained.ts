// What the reference node keeps per message, apart from its sockets (issue #6: "the node process grew
// +1.11 MiB/min in the 30-minute soak: a leak?"). Appends messages to a real LogStore in a temporary data
// dir, as the live soak's workload spreads them (direct conversations and groups), and prints the heap
// kept after a full collection, step by step, with the tail cache on and off: the tail cache is bounded
// (tailCacheMessagesPerConv x tailCacheConvsMax) and fills as conversations get their first 64 messages;
// what is left grows with the messages stored (the idempotency keys, kept "forever" by protocol.md
// guarantee 2, and each message's location in the log), not with time.
//   node --expose-gc --import tsx bench/node-retained.ts [--messages 90000] [--convs 531] [--body 40] \
//     [--cache-bytes N]   (the tail cache's byte bound; default the store's, tailCacheBytesMax)

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LogStore } from '../reference-server/store/log-store.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '90000' },
    convs: { type: 'string', default: '531' },
    body: { type: 'string', default: '40' },
    'cache-bytes': { type: 'string' },
  },
});
const messages = Number(values.messages);
const convs = Number(values.convs);
const bodyBytes = Number(values.body);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

/** Heap kept after a full collection, plus Buffers' bytes outside it (the log's encoded index chunks). */
function heapMiB(): number {
  gc!();
  gc!();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return (heapUsed + arrayBuffers) / 1048576;
}

async function measure(tailCache: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'node-retained-'));
  const store = new LogStore({
    dir,
    limits: tailCache
      ? values['cache-bytes'] === undefined
        ? {}
        : { tailCacheBytesMax: Number(values['cache-bytes']) }
      : { tailCacheMessagesPerConv: 0 },
  });
  await store.open();
  for (let c = 0; c < convs; c++)
    await store.createConversation({
      id: `c${c}`,
      kind: c % 17 === 0 ? 'group' : 'direct',
      members: [`u${c}`, `u${c + 1}`],
    });
  const base = heapMiB();
  const steps = 6;
  const line: string[] = [];
  let sent = 0;
  for (let step = 1; step <= steps; step++) {
    const until = Math.round((messages * step) / steps);
    const batch: Promise<unknown>[] = [];
    for (; sent < until; sent++) {
      // Groups (one conversation in 17) get half the messages, as the soak's mix roughly does.
      const c = sent % 2 === 0 ? (sent % Math.ceil(convs / 17)) * 17 : sent % convs;
      const from = `u${c + (sent % 2)}`;
      batch.push(
        store.append({
          conv: `c${c}`,
          from,
          cmid: `${from}-d0-${sent}`,
          body: 'x'.repeat(bodyBytes),
          ts: sent,
        }),
      );
      if (batch.length >= 512) await Promise.all(batch.splice(0));
    }
    await Promise.all(batch);
    line.push(`${sent}: +${(heapMiB() - base).toFixed(1)} MiB`);
  }
  const bytesPerMessage = ((heapMiB() - base) * 1048576) / messages;
  console.log(
    `tail cache ${tailCache ? 'on ' : 'off'}: ${line.join(', ')}; ${bytesPerMessage.toFixed(0)} B/message over ${messages}`,
  );
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

await measure(false);
await measure(true);
