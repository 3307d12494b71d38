// The final read's second recovery (store-replay.ts): the log store's start-up state must equal a
// replay of every segment with the checkpoint set aside. Each test fails if the comparison misses a
// difference, if the replay cannot see past the checkpoint, or if gap-free-store stops judging it.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultStoreLimits } from '../../reference-server/store/limits.ts';
import { LogStore } from '../../reference-server/store/log-store.ts';
import type { ConversationRecord } from '../../reference-server/store/message-store.ts';
import { nodeFileSystem } from '../../reference-server/store/node-file-system.ts';
import { segmentPath } from '../../reference-server/store/segment-file.ts';
import { StoreState } from '../../reference-server/store/store-state.ts';
import { loadScenario } from '../../scenarios/load-scenario.ts';
import { runScenario } from '../run-scenario.ts';
import { replayWholeLog, stateDifference } from './store-replay.ts';

/** A group of two with three messages and moved cursors. */
function smallState(): StoreState {
  const state = new StoreState();
  state.create({ id: 'g', kind: 'group', members: ['a', 'b'] });
  for (let i = 1; i <= 3; i++)
    state.append({ conv: 'g', from: 'a', cmid: `c${i}`, body: `m${i}`, ts: 10 * i });
  state.advanceCursor({ conv: 'g', user: 'b', kind: 'read', seq: 2 });
  return state;
}

describe('stateDifference', () => {
  it('finds none between two states built by the same decisions', () => {
    expect(stateDifference(smallState(), smallState())).toBeNull();
  });

  it('names a cursor, a span, an index entry or a conversation that differs', () => {
    const cursor = smallState();
    cursor.advanceCursor({ conv: 'g', user: 'b', kind: 'read', seq: 3 });
    expect(stateDifference(cursor, smallState())).toMatch(/^g: recovered .*"read":3/);

    const span = smallState();
    span.changeMembers({ conv: 'g', add: ['c'], remove: [] });
    expect(stateDifference(smallState(), span)).toMatch(/^g: recovered/);

    const index = new StoreState();
    const record = smallState().record('g')!;
    index.restoreConversation(record);
    index.restoreIndex('g', 1, [
      { from: 'a', cmid: 'c1', ts: 10 },
      { from: 'a', cmid: 'c2', ts: 20 },
      { from: 'a', cmid: 'c3', ts: 31 },
    ]);
    expect(stateDifference(index, smallState())).toMatch(/^g #3: recovered index .*"ts":31/);

    const more = smallState();
    more.create({ id: 'h', kind: 'group', members: ['a'] });
    expect(stateDifference(smallState(), more)).toMatch(
      /^h: in the log's replay but not in the recovered state/,
    );
    expect(stateDifference(more, smallState())).toMatch(/^h: in the recovered state but not/);
  });
});

describe('replayWholeLog', () => {
  let dir = '';
  afterEach(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  /** A log of two segments or more, with a checkpoint past the first; closed cleanly. */
  async function writtenLog(): Promise<{ records: ConversationRecord[] }> {
    dir = await mkdtemp(join(tmpdir(), 'store-replay-'));
    const store = new LogStore({ dir, segmentBytesMax: 4 * 1024, checkpointEveryRecords: 20 });
    await store.open();
    await store.createConversation({ id: 'g', kind: 'group', members: ['a', 'b'] });
    for (let i = 1; i <= 60; i++) {
      await store.append({
        conv: 'g',
        from: 'a',
        cmid: `c${i}`,
        body: `message ${i}`.padEnd(200, '.'),
        ts: i,
      });
      if (i === 30) await store.changeMembers({ conv: 'g', add: ['c'], remove: ['b'] });
    }
    await store.advanceCursor({ conv: 'g', user: 'a', kind: 'read', seq: 40 });
    await store.close();
    const reopened = new LogStore({ dir, segmentBytesMax: 4 * 1024, checkpointEveryRecords: 20 });
    const records = await reopened.open();
    expect(reopened.replayedRecords).toBeLessThan(60);
    await reopened.close();
    return { records };
  }

  it('replays every segment, not the checkpoint, to the state the store recovered', async () => {
    const { records } = await writtenLog();
    const replay = await replayWholeLog(dir, defaultStoreLimits, nodeFileSystem);
    if (!('state' in replay)) throw new Error(`refused: ${replay.refused}`);
    const recovered = new StoreState();
    for (const record of records) recovered.restoreConversation(record);
    expect(replay.state.record('g')).toEqual(recovered.record('g'));
    expect(replay.state.record('g')!.members.c).toEqual([{ from: 31, to: null }]);
  });

  it('says the log does not replay when a record before the checkpoint is damaged', async () => {
    await writtenLog();
    const first = segmentPath(dir, 1);
    const bytes = await readFile(first);
    bytes[100] = bytes[100]! ^ 0xff;
    await writeFile(first, bytes);
    const replay = await replayWholeLog(dir, defaultStoreLimits, nodeFileSystem);
    expect(replay).toEqual({ refused: expect.stringMatching(/CHATSIM_ERR_LOG_CORRUPT|segment|offset/) });
  });
});

/** Forgets every read cursor a checkpoint restores: start-up differs from the log, reads never show it. */
class ForgetfulRestoreStoreState extends StoreState {
  override restoreConversation(record: ConversationRecord): void {
    const cursors: ConversationRecord['cursors'] = Object.create(null);
    for (const [user, c] of Object.entries(record.cursors))
      cursors[user] = { delivered: c.delivered, read: 0 };
    super.restoreConversation({ ...record, cursors });
  }
}

describe('gap-free-store judges the recovery against the replay', () => {
  it('fails a run whose checkpoint restore forgets read cursors, and passes the real store', async () => {
    const run = (storeState?: () => StoreState) =>
      runScenario(loadScenario('churn'), { seed: 1, clients: 150, ...(storeState ? { storeState } : {}) });
    const broken = await run(() => new ForgetfulRestoreStoreState());
    const verdict = broken.verdicts.find((v) => v.property === 'gap-free-store')!;
    expect(verdict.verdict).toBe('fail');
    expect(JSON.stringify(verdict.witness)).toMatch(/replay of its whole log/);
    const real = await run();
    const passed = real.verdicts.find((v) => v.property === 'gap-free-store')!;
    expect(passed.verdict).toBe('pass');
    expect(passed.details).toMatch(/replay of the whole log: agreed/);
  }, 600_000);
});
