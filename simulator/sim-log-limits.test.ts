// The simulator's real log runs at bounds a run of seconds reaches (run-scenario.ts's
// simulatedLogLimits): at production's a sim conversation never fills a checkpoint index chunk, a
// backlog never fills a group-commit batch and a checkpoint never fills a write, so the code past
// those bounds never ran in the gate and mutants there survived unseen (docs/benchmarks.md, session
// 12). Each test builds the log exactly as the simulator does and fails at production's bounds.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkpointFileName } from '../reference-server/store/checkpoint.ts';
import type { FileSystem } from '../reference-server/store/file-system.ts';
import { LogStore } from '../reference-server/store/log-store.ts';
import { nodeFileSystem } from '../reference-server/store/node-file-system.ts';
import { readFrame } from '../reference-server/store/record-codec.ts';
import { simulatedLog } from './run-scenario.ts';

let dir = '';
afterEach(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

/** node:fs, counting the writes to each file name. */
function countingFs(writes: Map<string, number>): FileSystem {
  return {
    ...nodeFileSystem,
    async open(path, mode) {
      const file = await nodeFileSystem.open(path, mode);
      const name = path.slice(path.lastIndexOf('/') + 1);
      return {
        ...file,
        write: (data, position) => {
          writes.set(name, (writes.get(name) ?? 0) + 1);
          return file.write(data, position);
        },
        read: (position, length) => file.read(position, length),
        datasync: () => file.datasync(),
        truncate: (length) => file.truncate(length),
        close: () => file.close(),
      };
    },
  };
}

/** The simulator's log (no bugs) on a temp dir; `fsyncs` gets the records each fdatasync made durable. */
async function simLog(writes: Map<string, number>, fsyncs: number[]): Promise<LogStore> {
  dir = await mkdtemp(join(tmpdir(), 'sim-log-limits-'));
  const { storeOptions } = simulatedLog(new Set(), undefined);
  const store = new LogStore({
    ...storeOptions,
    dir,
    fs: countingFs(writes),
    onFsync: (_ms, records) => fsyncs.push(records),
  });
  await store.open();
  await store.createConversation({ id: 'g', kind: 'group', members: ['a', 'b'] });
  return store;
}

const body = (i: number) => `message ${i} `.padEnd(400, 'x');

describe("the simulator's log at the bounds a sim run reaches", () => {
  it('chunks a conversation of a few dozen seqs into several checkpoint index frames', async () => {
    const store = await simLog(new Map(), []);
    for (let i = 1; i <= 40; i++)
      await store.append({ conv: 'g', from: 'a', cmid: `m${i}`, body: 'hi', ts: i });
    await store.close();
    const data = (await nodeFileSystem.readFile(join(dir, checkpointFileName)))!;
    const firstSeqs: number[] = [];
    for (let offset = 0; offset < data.length; ) {
      const frame = readFrame(data, offset, data.length);
      if (!frame.ok) throw new Error(frame.reason);
      const value = JSON.parse(frame.payload.toString('utf8')) as { t: string; firstSeq?: number };
      if (value.t === 'index') firstSeqs.push(value.firstSeq!);
      offset = frame.end;
    }
    expect(firstSeqs.length).toBeGreaterThanOrEqual(3);
    expect(firstSeqs[0]).toBe(1);
    // And the chunked checkpoint is the one the next start-up loads, with every message in it.
    const again = new LogStore({ ...simulatedLog(new Set(), undefined).storeOptions, dir });
    await again.open();
    expect(again.replayedRecords).toBe(0);
    expect(again.checkpointRejected).toBeNull();
    expect(again.decisions.lastSeq('g')).toBe(40);
    await again.close();
  });

  it('writes a backlog of some 16 KiB in more than one group-commit batch', async () => {
    const fsyncs: number[] = [];
    const store = await simLog(new Map(), fsyncs);
    fsyncs.length = 0;
    // Queued in one tick: one batch at production's 8 MiB, several at the simulator's bound.
    const acks = [];
    for (let i = 1; i <= 40; i++)
      acks.push(store.append({ conv: 'g', from: 'a', cmid: `m${i}`, body: body(i), ts: i }));
    await Promise.all(acks);
    expect(fsyncs.reduce((a, b) => a + b, 0)).toBe(40);
    expect(fsyncs.length).toBeGreaterThanOrEqual(3);
    await store.close();
  });

  it('writes a checkpoint of some 50 KiB in more than one write', async () => {
    const writes = new Map<string, number>();
    const store = await simLog(writes, []);
    const acks = [];
    for (let i = 1; i <= 120; i++)
      acks.push(store.append({ conv: 'g', from: 'a', cmid: `m${i}`, body: body(i), ts: i }));
    await Promise.all(acks);
    await store.createConversation({
      id: 'h',
      kind: 'group',
      members: Array.from({ length: 2000 }, (_, i) => `user${i}`),
    });
    await store.close();
    expect(writes.get('checkpoint.tmp')).toBeGreaterThanOrEqual(2);
  });
});
