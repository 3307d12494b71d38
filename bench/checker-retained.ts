// What the standard checkers keep per message over a long fault-free run (issue #6: "a live run can
// soak ... checkers streaming, memory flat"): feeds them a synthetic steady history (groups whose
// members' devices all hold one session, each message sent, acked, pushed to and displayed by every
// other member device) and prints, after full collections, the bytes retained per message in all and
// by checker. What stays per message is what a property judges against the store's final read at the
// end (agreement, durable-ack, idempotency, no-loss); state per (device, conv) does not grow.
// `--read-every N` reads the store every N messages as the live driver does during a run
// (simulator/live/progressive-read.ts): each read shows the messages but the last 100, the checkers
// judge and drop them, and what stays per message is what they keep for the final read (read-back.ts).
//   node --expose-gc --import tsx bench/checker-retained.ts [--messages 20000] [--steps 4] [--group-size 10] [--devices 2] [--read-every 3000]

import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { Message } from '../reference-server/protocol/frames.ts';
import { standardCheckers } from '../simulator/checkers/index.ts';
import type { Checker, HistoryEvent } from '../simulator/history.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    steps: { type: 'string', default: '4' },
    'group-size': { type: 'string', default: '10' },
    devices: { type: 'string', default: '2' },
    groups: { type: 'string', default: '10' },
    only: { type: 'string' },
    'read-every': { type: 'string', default: '0' },
  },
});
const readEvery = Number(values['read-every']);
/** Messages a read leaves for the next one (the driver reads only seqs acked an interval before). */
const readLagMessages = 100;
const perStep = Number(values.messages);
const steps = Number(values.steps);
const groupSize = Number(values['group-size']);
const devicesPer = Number(values.devices);
const groups = Number(values.groups);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc --import tsx bench/checker-retained.ts');

/** Heap and typed-array memory in use after full collections. */
function retained(): number {
  gc!();
  gc!();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

/** Feeds `checkers` the history of `perStep * steps` messages; returns bytes retained after each step. */
function feed(checkers: Checker[]): number[] {
  const observe = (event: HistoryEvent): void => {
    for (const checker of checkers) checker.observe(event);
  };
  const user = (g: number, k: number) => `u${g * groupSize + k}`;
  for (let g = 0; g < groups; g++)
    observe({
      k: 'conv',
      at: 0,
      conv: `g${g}`,
      kind: 'group',
      members: Array.from({ length: groupSize }, (_, k) => user(g, k)),
    });
  for (let g = 0; g < groups; g++)
    for (let k = 0; k < groupSize; k++)
      for (let d = 0; d < devicesPer; d++)
        observe({
          k: 'session',
          at: 1,
          connectMs: 1,
          first: true,
          user: user(g, k),
          device: `${user(g, k)}-d${d}`,
        });
  const seqOf = new Array<number>(groups).fill(0);
  let unread: Message[] = [];
  const readBack = (at: number): void => {
    const conversations = new Map<string, Map<number, Message>>();
    for (const m of unread.slice(0, unread.length - readLagMessages)) {
      const conv = conversations.get(m.conv) ?? new Map<number, Message>();
      conv.set(m.seq, m);
      conversations.set(m.conv, conv);
    }
    unread = unread.slice(unread.length - readLagMessages);
    for (const checker of checkers) checker.checkpoint?.({ at, conversations });
  };
  const base = retained();
  const out: number[] = [];
  let at = 10;
  for (let step = 0, n = 0; step < steps; step++) {
    for (let i = 0; i < perStep; i++, n++) {
      at += 5;
      const g = n % groups;
      const seq = ++seqOf[g]!;
      const conv = `g${g}`;
      const from = user(g, n % groupSize);
      const device = `${from}-d0`;
      const cmid = `c${n}`;
      const message = { conv, seq, from, cmid, body: `body ${n}`, ts: at };
      if (readEvery > 0) {
        unread.push(message);
        if (unread.length >= readEvery + readLagMessages) readBack(at);
      }
      observe({ k: 'send', at, conv, cmid, body: message.body, user: from, device } as HistoryEvent);
      observe({ k: 'ack', at: at + 1, conv, cmid, seq, ts: at, sentAt: at, user: from, device });
      observe({ k: 'display', at: at + 1, via: 'own', message, user: from, device });
      for (let k = 0; k < groupSize; k++)
        for (let d = 0; d < devicesPer; d++) {
          const other = user(g, k);
          const otherDevice = `${other}-d${d}`;
          if (otherDevice === device) continue;
          observe({
            k: 'conv-frame',
            at: at + 2,
            conv,
            t: 'msg',
            seqs: [seq],
            user: other,
            device: otherDevice,
          });
          observe({ k: 'display', at: at + 2, via: 'push', message, user: other, device: otherDevice });
        }
    }
    out.push(retained() - base);
  }
  return out;
}

const options = { largeGroupThreshold: 256 };
const total = perStep * steps;
const perMessage = (bytes: number[]) => bytes[bytes.length - 1]! / total;
// The slope over the later steps, so the tables' first growth (a SlotTable's doubling) weighs less.
const slope = (bytes: number[]) => (bytes[bytes.length - 1]! - bytes[0]!) / (perStep * (steps - 1));
if (values.only !== undefined) {
  // One checker alone, in a process of its own (a fresh heap: no garbage of the others to count).
  const bytes = feed(standardCheckers(options).filter((checker) => checker.property === values.only));
  console.log(perMessage(bytes).toFixed(0));
  process.exit(0);
}
const all = feed(standardCheckers(options));
console.log(
  `${total} messages in ${groups} groups of ${groupSize} users x ${devicesPer} devices (${groupSize * devicesPer - 1} recipient devices each)${readEvery > 0 ? `; the store read every ${readEvery} messages` : ''}`,
);
console.log(
  `all checkers: ${(all[all.length - 1]! / 1048576).toFixed(1)} MiB retained, ${perMessage(all).toFixed(0)} B/message (over the later steps ${slope(all).toFixed(0)} B/message)`,
);
for (const property of standardCheckers(options).map((checker) => checker.property)) {
  const args = [...process.execArgv, process.argv[1]!, ...process.argv.slice(2), '--only', property];
  const bytes = execFileSync(process.execPath, args, { encoding: 'utf8' }).trim();
  console.log(`  ${property.padEnd(24)} ${bytes.padStart(5)} B/message`);
}
