// LogStore's durability rules seen from outside: one fsync covers many appends, no answer (a
// duplicate's or a read's included) comes before the sync that makes it true, a failed sync fails
// everything without an ack, the write queue is bounded, and a bad data dir is refused up front.

import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ControllableSink } from './controllable-sink.ts';
import { LogStore } from './log-store.ts';
import { FileSegmentSink } from './segment-file.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chatsim-log-durability-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

function track<T>(promise: Promise<T>) {
  const state = { done: false, failed: false };
  promise.then(
    () => {
      state.done = true;
    },
    () => {
      state.failed = true;
    },
  );
  return state;
}

async function heldStore(limits = {}) {
  const dir = await tempDir();
  const sink = new ControllableSink(new FileSegmentSink(dir));
  const store = new LogStore({ dir, sink, limits });
  await store.open();
  await store.createConversation({ id: 'g', kind: 'group', members: ['a', 'b'] });
  return { dir, sink, store };
}

const append = (store: LogStore, cmid: string, body = `body ${cmid}`) =>
  store.append({ conv: 'g', from: 'a', cmid, body, ts: 7 });

describe('LogStore durability', () => {
  it('covers many concurrent appends with far fewer fsyncs', async () => {
    const dir = await tempDir();
    const fsyncs: number[] = [];
    const store = new LogStore({ dir, onFsync: (_ms, records) => fsyncs.push(records) });
    await store.open();
    await store.createConversation({ id: 'g', kind: 'group', members: ['a'] });
    await Promise.all(Array.from({ length: 500 }, (_, i) => append(store, `m${i}`)));
    await settle(1);
    expect(fsyncs.reduce((sum, n) => sum + n, 0)).toBe(501);
    expect(fsyncs.length).toBeLessThan(50);
    await store.close();
  });

  it('answers an append, its duplicate and a read only after the sync that covers the original', async () => {
    const { sink, store } = await heldStore();
    sink.hold();
    const original = append(store, 'x', 'first');
    const states = [track(original)];
    await settle();
    const duplicate = append(store, 'x', 'second');
    const read = store.read({ conv: 'g', after: 0, limit: 10 });
    states.push(track(duplicate), track(read));
    await settle();
    expect(states.map((s) => s.done || s.failed)).toEqual([false, false, false]);
    sink.release();
    expect(await original).toEqual({ status: 'ok', seq: 1, ts: 7, duplicate: false, membersVersion: 2 });
    expect(await duplicate).toEqual({ status: 'ok', seq: 1, ts: 7, duplicate: true, membersVersion: 2 });
    expect(await read).toMatchObject({ status: 'ok', lastSeq: 1, messages: [{ seq: 1, body: 'first' }] });
  });

  it('answers conversations() only after the sync that covers the cursors and seqs it reports', async () => {
    // A fleet node catching up after a lost bus reads every record: a cursor it is told must survive a
    // crash, or its welcome shows a cursor that a node loading the recovered log shows lower.
    const { sink, store } = await heldStore();
    await append(store, 'x');
    sink.hold();
    const cursor = track(store.advanceCursor({ conv: 'g', user: 'b', kind: 'delivered', seq: 1 }));
    await settle();
    const records = store.conversations();
    const state = track(records);
    await settle();
    expect([cursor.done, state.done, state.failed]).toEqual([false, false, false]);
    sink.release();
    expect((await records)[0]).toMatchObject({ lastSeq: 1, cursors: { b: { delivered: 1 } } });
    await store.close();
  });

  it("under the 'ack-before-durable' bug answers an append while its sync is held, nothing else", async () => {
    const dir = await tempDir();
    const sink = new ControllableSink(new FileSegmentSink(dir));
    const store = new LogStore({ dir, sink, ackBeforeDurable: true });
    expect(store.ackBeforeDurable).toBe(true);
    await store.open();
    await store.createConversation({ id: 'g', kind: 'group', members: ['a', 'b'] });
    const syncsBefore = sink.syncs;
    sink.hold();
    expect(await append(store, 'early')).toEqual({
      status: 'ok',
      seq: 1,
      ts: 7,
      duplicate: false,
      membersVersion: 2,
    });
    const read = track(store.read({ conv: 'g', after: 0, limit: 10 }));
    await settle();
    expect(sink.syncs).toBe(syncsBefore);
    expect(read.done || read.failed).toBe(false);
    sink.release();
    await store.close();
    expect(new LogStore({ dir }).ackBeforeDurable).toBe(false);
  });

  it('fails every waiting append after a failed fsync, refuses work, and recovers on reopen', async () => {
    const { dir, sink, store } = await heldStore();
    expect(await append(store, 'acked')).toMatchObject({ seq: 1 });
    sink.failNextSync(new Error('EIO: simulated'));
    const failing = [append(store, 'p1'), append(store, 'p2'), append(store, 'acked')];
    for (const promise of failing) {
      await expect(promise).rejects.toMatchObject({ code: 'CHATSIM_ERR_STORE_UNAVAILABLE' });
    }
    await expect(store.ping()).rejects.toThrow(/EIO: simulated/);
    await expect(append(store, 'p3')).rejects.toMatchObject({ code: 'CHATSIM_ERR_STORE_UNAVAILABLE' });
    await expect(store.read({ conv: 'g', after: 0, limit: 5 })).rejects.toThrow(/log store write failed/);
    await store.close();

    const reopened = new LogStore({ dir });
    await reopened.open();
    await reopened.ping();
    const read = await reopened.read({ conv: 'g', after: 0, limit: 10 });
    // What was acked is there; the unacked records may or may not have reached the disk.
    expect(read.status === 'ok' && read.messages[0]).toMatchObject({ seq: 1, cmid: 'acked' });
    expect(await append(reopened, 'acked')).toMatchObject({ seq: 1, duplicate: true });
    await reopened.close();
  });

  it('refuses writes as unavailable, deciding nothing, while its write queue is over its bound', async () => {
    const { sink, store } = await heldStore({ pendingBytesMax: 400 });
    sink.hold();
    const first = append(store, 'm0');
    await settle();
    const accepted = [];
    let refusal: unknown = null;
    for (let i = 1; i < 50 && refusal === null; i++) {
      try {
        accepted.push(await Promise.race([append(store, `m${i}`), settle(2).then(() => 'pending')]));
      } catch (error) {
        refusal = error;
      }
    }
    expect(refusal).toMatchObject({ code: 'CHATSIM_ERR_STORE_UNAVAILABLE' });
    expect((refusal as Error).message).toMatch(/write queue/);
    sink.release();
    await first;
    const read = await store.read({ conv: 'g', after: 0, limit: 100 });
    expect(read.status === 'ok' && read.lastSeq).toBe(accepted.length + 1);
    await store.close();
  });

  it('creates a missing data dir and refuses one that is a file, saying what to do', async () => {
    const root = await tempDir();
    const nested = join(root, 'a', 'b');
    const store = new LogStore({ dir: nested });
    expect(await store.open()).toEqual([]);
    expect((await stat(nested)).isDirectory()).toBe(true);
    await store.close();

    const file = join(root, 'plain-file');
    await writeFile(file, 'not a dir');
    await expect(new LogStore({ dir: file }).open()).rejects.toMatchObject({
      code: 'CHATSIM_ERR_DATA_DIR',
      message: expect.stringMatching(/is not a directory: pass another --data-dir/),
    });
    await expect(new LogStore({ dir: join(file, 'sub') }).open()).rejects.toMatchObject({
      code: 'CHATSIM_ERR_DATA_DIR',
      message: expect.stringMatching(/cannot create data dir .*writable location/),
    });
  });
});
