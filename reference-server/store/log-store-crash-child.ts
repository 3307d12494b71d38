// Test support for log-store.crash.test.ts, run as `node --import tsx log-store-crash-child.ts <dir>
// <round>` (the test runs it bundled): many concurrent writers append to one conversation of a LogStore
// and print every resolved ack as a line on stdout (synchronous for pipes on Linux), until the parent
// SIGKILLs it.

import { LogStore } from './log-store.ts';

/** Appends per writer before the child gives up waiting to be killed (a runaway guard). */
const appendsPerWriterMax = 20_000;
const writers = 32;

const [dir, round] = process.argv.slice(2);
if (dir === undefined || round === undefined)
  throw new Error('usage: log-store-crash-child.ts <dir> <round>');

// Small segments and frequent checkpoints, so kills land during rotations and checkpoint writes too.
const store = new LogStore({ dir, segmentBytesMax: 64 * 1024, checkpointEveryRecords: 300 });
await store.open();
const members = Array.from({ length: writers }, (_, w) => `w${w}`);
await store.createConversation({ id: 'g', kind: 'group', members });
process.stdout.write('ready\n');

async function writer(w: number): Promise<void> {
  let previous: string | null = null;
  for (let k = 0; k < appendsPerWriterMax; k++) {
    const cmid = `r${round}-w${w}-${k}`;
    const body = `${cmid}:${'x'.repeat((k * 7 + w) % 60)}`;
    const result = await store.append({ conv: 'g', from: `w${w}`, cmid, body, ts: Date.now() });
    if (result.status !== 'ok') throw new Error(`append ${cmid}: ${result.status}`);
    process.stdout.write(`ack ${w} ${cmid} ${result.seq} ${body}\n`);
    // Every few messages, resend the previous one as a client retry would.
    if (previous !== null && k % 5 === 0) {
      const retry = await store.append({
        conv: 'g',
        from: `w${w}`,
        cmid: previous,
        body: 'retry',
        ts: Date.now(),
      });
      if (retry.status !== 'ok' || !retry.duplicate)
        throw new Error(`retry of ${previous} was not a duplicate`);
      process.stdout.write(`dup ${w} ${previous} ${retry.seq}\n`);
    }
    previous = cmid;
  }
}

await Promise.all(members.map((_, w) => writer(w)));
await store.close();
