// GroupCommit on a recording sink: what one sync covers, when waiters are released, rotation order,
// and that a failed write or sync fails every waiter and every later call.

import { describe, expect, it } from 'vitest';
import { ControllableSink } from './controllable-sink.ts';
import { GroupCommit } from './group-commit.ts';

function commit(sink: ControllableSink, segmentBytesMax = 1 << 20) {
  const fsyncs: number[] = [];
  const group = new GroupCommit({
    sink,
    segment: 1,
    offset: 0,
    segmentBytesMax,
    groupCommitBytesMax: 1 << 20,
    onFsync: (_durationMs, records) => fsyncs.push(records),
  });
  return { group, fsyncs };
}

const frame = (n: number) => Buffer.alloc(10, n);

/** Lets pending I/O callbacks and promise reactions run; no clock involved. */
async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

function track(promise: Promise<void>) {
  const state = { done: false, error: null as unknown };
  promise.then(
    () => {
      state.done = true;
    },
    (error: unknown) => {
      state.error = error;
    },
  );
  return state;
}

describe('GroupCommit', () => {
  it('covers records queued in one tick with one write and one sync, at consecutive offsets', async () => {
    const sink = new ControllableSink();
    const { group, fsyncs } = commit(sink);
    const placed = Array.from({ length: 20 }, (_, i) => group.enqueue(frame(i)));
    expect(placed.map((p) => p.offset)).toEqual(Array.from({ length: 20 }, (_, i) => i * 10));
    await group.waitForAll();
    expect(sink.writes).toEqual([{ segment: 1, position: 0, bytes: 200 }]);
    expect(sink.syncs).toBe(1);
    await settle(1);
    expect(fsyncs).toEqual([20]);
  });

  it('gathers records arriving during a sync into the next single write + sync', async () => {
    const sink = new ControllableSink();
    const { group } = commit(sink);
    sink.hold();
    const first = track(group.waitFor(group.enqueue(frame(0)).lsn));
    await settle();
    const later = Array.from({ length: 50 }, (_, i) => track(group.waitFor(group.enqueue(frame(i + 1)).lsn)));
    await settle();
    expect(first.done).toBe(false);
    expect(later.some((s) => s.done)).toBe(false);
    sink.release();
    await group.waitForAll();
    expect(first.done && later.every((s) => s.done)).toBe(true);
    expect(sink.writes.map((w) => w.bytes)).toEqual([10, 500]);
    expect(sink.syncs).toBe(2);
  });

  it('rotates to a new segment once the next record would pass the bound, after syncing the old one', async () => {
    const sink = new ControllableSink();
    const { group } = commit(sink, 25);
    const placed = [0, 1, 2, 3, 4].map((n) => group.enqueue(frame(n)));
    expect(placed.map((p) => [p.segment, p.offset])).toEqual([
      [1, 0],
      [1, 10],
      [2, 0],
      [2, 10],
      [3, 0],
    ]);
    await group.waitForAll();
    expect(sink.writes.map((w) => [w.segment, w.position, w.bytes])).toEqual([
      [1, 0, 20],
      [2, 0, 20],
      [3, 0, 10],
    ]);
    expect(sink.syncs).toBe(3);
  });

  for (const what of ['sync', 'write'] as const) {
    it(`fails every waiter and every later call after a failed ${what}`, async () => {
      const sink = new ControllableSink();
      const { group } = commit(sink);
      await group.waitFor(group.enqueue(frame(0)).lsn);
      if (what === 'sync') sink.failNextSync(new Error('EIO: disk gone'));
      else sink.failNextWrite(new Error('ENOSPC: disk full'));
      const waiting = [1, 2, 3].map((n) => group.waitFor(group.enqueue(frame(n)).lsn));
      for (const promise of waiting) {
        await expect(promise).rejects.toMatchObject({ code: 'CHATSIM_ERR_STORE_UNAVAILABLE' });
      }
      expect(group.failed?.message).toMatch(what === 'sync' ? /EIO: disk gone/ : /ENOSPC: disk full/);
      expect(() => group.enqueue(frame(4))).toThrow(/log store write failed/);
      await expect(group.waitFor(1)).rejects.toMatchObject({ code: 'CHATSIM_ERR_STORE_UNAVAILABLE' });
    });
  }
});
