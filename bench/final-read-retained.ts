// What the live driver's final read holds once it is done (issue #6: "the final read holds every message
// at the end"): reads N messages over C conversations from a black box (an in-process fake of the HTTP
// message reads, so only the driver's side is measured) into the store the run uses (spilled-store.ts:
// on disk) and into in-memory maps (as the read was before), and prints the heap kept after a full
// collection for each, and what a checker's look-up costs in the spilled store, in conversation order
// and in the time order durable-ack walks its acks.
//   node --expose-gc --import tsx bench/final-read-retained.ts [--messages 90000] [--convs 531] [--body 40]

import { parseArgs } from 'node:util';
import type { Message } from '../reference-server/protocol/frames.ts';
import type { AdminApi } from '../simulator/live/admin-api.ts';
import { finalRead, memorySink, readConversation } from '../simulator/live/final-read.ts';
import { TokenCache } from '../simulator/live/hs256.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '90000' },
    convs: { type: 'string', default: '531' },
    body: { type: 'string', default: '40' },
  },
});
const messages = Number(values.messages);
const convs = Number(values.convs);
const body = 'x'.repeat(Number(values.body));
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

const lastSeq = (c: number): number => Math.floor(messages / convs) + (c < messages % convs ? 1 : 0);
const api = {
  async readMessages(conv: string, _token: string, after: number, limit: number) {
    const last = lastSeq(Number(conv.slice(1)));
    const page: Message[] = [];
    for (let seq = after + 1; seq <= last && page.length < limit; seq++)
      page.push({ conv, seq, from: 'u1', cmid: `u1-d0-${conv}-${seq}`, body, ts: 1_764_547_200_000 + seq });
    return { status: 200, messages: page, lastSeq: last };
  },
} as unknown as AdminApi;
const tokens = new TokenCache('final-read-retained-secret-0123456789', 3600);
const readers = new Map(Array.from({ length: convs }, (_, c) => [`c${c}`, ['u1']] as const));

function heapMiB(): number {
  gc!();
  gc!();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return (heapUsed + arrayBuffers) / 1048576;
}

const base = heapMiB();
const inMemory = new Map<string, ReturnType<typeof memorySink>>();
for (const [conv, users] of readers) {
  const sink = memorySink();
  await readConversation(api, tokens, conv, users, sink, 1, Number.POSITIVE_INFINITY);
  inMemory.set(conv, sink);
}
const memoryMiB = heapMiB() - base;
inMemory.clear();
const base2 = heapMiB();
let started = performance.now();
const spilled = await finalRead(api, tokens, readers);
const readMs = performance.now() - started;
const spilledMiB = heapMiB() - base2;
const lookups = (order: 'conversation' | 'time'): number => {
  started = performance.now();
  if (order === 'conversation') {
    for (let c = 0; c < convs; c++)
      for (let seq = 1; seq <= lastSeq(c); seq++) spilled.store.message(`c${c}`, seq);
  } else {
    for (let i = 0; i < messages; i++) spilled.store.message(`c${i % convs}`, Math.floor(i / convs) + 1);
  }
  return ((performance.now() - started) * 1000) / messages;
};
const byConversation = lookups('conversation');
const byTime = lookups('time');
spilled.store.close();
console.log(
  `${messages} messages in ${convs} conversations, ${values.body}-byte bodies: in memory ${memoryMiB.toFixed(1)} MiB kept ` +
    `(${((memoryMiB * 1048576) / messages).toFixed(0)} B/message); spilled ${spilledMiB.toFixed(2)} MiB kept ` +
    `(read in ${readMs.toFixed(0)} ms); a look-up ${byConversation.toFixed(1)} us in conversation order, ${byTime.toFixed(1)} us in time order`,
);
