// A fleet node that (re)starts on the shared log reads what the store made durable, over its own link,
// as `serve --redis` reads Redis at start: not the store's in-memory decisions, which a crash of the
// store may still take back. A store down or out of reach fails the start until it is back.

import { describe, expect, it } from 'vitest';
import type { Input } from '../../reference-server/core/inputs.ts';
import type { ConversationRecord, CursorRequest } from '../../reference-server/store/message-store.ts';
import { StoreState } from '../../reference-server/store/store-state.ts';
import { Prng } from '../kernel/prng.ts';
import { Agenda, EventKind, type SimEvent } from './agenda.ts';
import { LogStorage } from './log-storage.ts';
import { Network, type NetworkConfig } from './network.ts';
import { SimDisk } from './sim-disk.ts';
import type { SimNode } from './sim-node.ts';

const config: NetworkConfig = {
  latencyMs: 5,
  jitterMs: 0,
  storeLatencyMs: 1,
  busLatencyMs: 1,
  fsyncMs: 4,
  connectTimeoutMs: 3000,
  storeTimeoutMs: 2000,
  deadDetectMs: 20_000,
};

async function sharedLog(newState?: () => StoreState) {
  const answers: { node: number; at: number; input: Input }[] = [];
  const agenda: Agenda = new Agenda((event: SimEvent) => {
    if (event.kind === EventKind.nodeInput)
      answers.push({ node: event.target, at: event.at, input: event.data as Input });
    else (event.data as () => void)();
  });
  const nodes = [0, 1].map((index) => ({ index, up: true, epoch: 1 }) as SimNode);
  const network = new Network(agenda, nodes, config, nodes.length);
  const disk = new SimDisk({ clock: agenda, rng: new Prng(3), fsyncMs: config.fsyncMs, ioMs: 0.02 });
  const storage = new LogStorage({
    agenda,
    network,
    config,
    mode: 'shared',
    disk,
    record: () => {},
    storeOptions: newState === undefined ? {} : { newState },
    readMessagesMax: 500,
  });
  storage.createAtSetup({ id: 'c', kind: 'direct', members: ['a', 'b'] });
  await storage.open();
  const started: { at: number; records: readonly ConversationRecord[] }[] = [];
  const start = (node: number) =>
    storage.nodeStarting(
      node,
      (records) => started.push({ at: agenda.now, records }),
      () => false,
    );
  const append = (cmid: string) =>
    storage.submit(0, 1, 1, { kind: 'append', request: { conv: 'c', from: 'a', cmid, body: cmid, ts: 0 } });
  return { agenda, network, disk, storage, answers, started, start, append };
}

const lastSeq = (records: readonly ConversationRecord[]) => records.find((r) => r.id === 'c')?.lastSeq;

describe('a node starting on the shared log', () => {
  it('does not load an append the store decided but had not synced when it crashed', async () => {
    const w = await sharedLog();
    w.append('m1');
    w.start(1);
    // The store's machine dies before the append's fsync: the decision dies with it.
    w.storage.crash();
    w.storage.recover(() => {});
    await w.agenda.runUntil(10_000);
    expect(w.started).toHaveLength(1);
    expect(lastSeq(w.started[0]!.records)).toBe(0);
    expect(w.storage.decisions.lastSeq('c')).toBe(0);
    // The writer was told `unavailable`, never acked.
    expect(w.answers.map((a) => a.input)).toMatchObject([
      { type: 'stored', outcome: { status: 'unavailable' } },
    ]);
  });

  it('hears what is durable, once it is, over its own link', async () => {
    const w = await sharedLog();
    w.append('m1');
    w.start(1);
    expect(w.started).toEqual([]);
    await w.agenda.runUntil(1000);
    expect(w.started).toHaveLength(1);
    expect(lastSeq(w.started[0]!.records)).toBe(1);
    expect(w.started[0]!.at).toBeGreaterThanOrEqual(config.fsyncMs + 2 * config.storeLatencyMs);
  });

  it('tries again while it is cut from the store, and starts once it is back', async () => {
    const w = await sharedLog();
    w.network.cutFromStore(1);
    w.start(1);
    w.agenda.at(5000, () => w.network.reconnectToStore(1));
    await w.agenda.runUntil(20_000);
    expect(w.started).toHaveLength(1);
    expect(w.started[0]!.at).toBeGreaterThan(5000);
    expect(lastSeq(w.started[0]!.records)).toBe(0);
  });

  it('gives up when the process it starts for died', async () => {
    const w = await sharedLog();
    w.network.cutFromStore(1);
    let dead = false;
    const ready: ConversationRecord[][] = [];
    w.storage.nodeStarting(
      1,
      (records) => ready.push([...records]),
      () => dead,
    );
    w.agenda.at(2500, () => {
      dead = true;
    });
    w.agenda.at(5000, () => w.network.reconnectToStore(1));
    expect(await w.agenda.runUntil(60_000)).toBe(false);
    expect(ready).toEqual([]);
  });

  it("answers a request the link lost by the node's timer, holding up no later answer on a slowed link", async () => {
    const w = await sharedLog();
    const rng = new Prng(5);
    w.network.setStoreLatency([0], 100, 0, rng);
    w.network.setStoreLoss([0], 1, rng);
    const submit = (id: number, cmid: string) =>
      w.storage.submit(0, 1, id, {
        kind: 'append',
        request: { conv: 'c', from: 'a', cmid, body: cmid, ts: 0 },
      });
    submit(1, 'lost');
    w.agenda.at(150, () => {
      w.network.setStoreLoss([0], 0, rng);
      submit(2, 'kept');
    });
    await w.agenda.runUntil(10_000);
    const answered = (id: number) => w.answers.find((a) => a.input.type === 'stored' && a.input.id === id);
    // The lost one: `unavailable` when the node's store timeout runs out (it reached the link at 100 ms).
    expect(answered(1)).toMatchObject({ at: 2100, input: { outcome: { status: 'unavailable' } } });
    // The next one goes up and back over the slowed link (100 ms each way), not behind that timeout.
    expect(answered(2)!.input).toMatchObject({ outcome: { status: 'ok' } });
    expect(answered(2)!.at).toBeLessThan(1000);
  });
});

describe('the final read', () => {
  /**
   * A writer bug (mutant 3332's class): the first incarnation logs a cursor record that moved nothing,
   * which no recovery applies; later incarnations (the recoveries) decide as the real store does.
   */
  const writerBug = (): (() => StoreState) => {
    let incarnations = 0;
    class LogsNonMoves extends StoreState {
      private readonly live = incarnations++ === 0;
      override advanceCursor(request: CursorRequest) {
        const out = super.advanceCursor(request);
        return this.live && out.status === 'ok' ? { ...out, moved: true } : out;
      }
    }
    return () => new LogsNonMoves();
  };

  it('says the store refused to recover, unless the run damaged synced bytes', async () => {
    const w = await sharedLog(writerBug());
    w.storage.submit(0, 1, 1, { kind: 'cursor', request: { conv: 'c', user: 'a', kind: 'read', seq: 0 } });
    await w.agenda.runUntil(1_000);
    const final = await w.storage.finalRead();
    expect(final.replayCheck).toEqual({
      outcome: 'refused',
      details: expect.stringMatching(/^the store refused to recover for the final read: .*does not apply/),
    });
    const clean = await sharedLog();
    clean.storage.submit(0, 1, 1, {
      kind: 'cursor',
      request: { conv: 'c', user: 'a', kind: 'read', seq: 0 },
    });
    await clean.agenda.runUntil(1_000);
    expect((await clean.storage.finalRead()).replayCheck?.outcome).toBe('agreed');
    const damaged = await sharedLog(writerBug());
    damaged.storage.submit(0, 1, 1, {
      kind: 'cursor',
      request: { conv: 'c', user: 'a', kind: 'read', seq: 0 },
    });
    await damaged.agenda.runUntil(1_000);
    damaged.disk.stats.bitFlips++;
    expect((await damaged.storage.finalRead()).replayCheck).toMatchObject({
      outcome: 'excused',
      details: expect.stringMatching(/^the run damaged synced bytes, and the final recovery refused/),
    });
  });
});
