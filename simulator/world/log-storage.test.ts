// A fleet node that (re)starts on the shared log reads what the store made durable, over its own link,
// as `serve --redis` reads Redis at start: not the store's in-memory decisions, which a crash of the
// store may still take back. A store down or out of reach fails the start until it is back.
//
// The operator's verify job (LogStorage.scrub) reads every message back through the store before a
// backup is restored over a misdirected write: a correct store refuses the record that landed, so the
// scrub reports nothing false at that seq; a store that served whatever record its index points at is
// caught reporting another message's cmid and body there, which agreement then judges.

import { describe, expect, it } from 'vitest';
import type { Input } from '../../reference-server/core/inputs.ts';
import type {
  ConversationRecord,
  CursorRequest,
  MessageStore,
} from '../../reference-server/store/message-store.ts';
import { decodeRecord, readFrame } from '../../reference-server/store/record-codec.ts';
import { LogCorruptError } from '../../reference-server/store/store-errors.ts';
import { StoreState } from '../../reference-server/store/store-state.ts';
import type { HistoryEvent } from '../history.ts';
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

type LogWorldOptions = {
  mode?: 'shared' | 'embedded';
  newState?: () => StoreState;
  /** No tail cache: every read goes to the segment. */
  uncached?: boolean;
  wrap?: (disk: SimDisk) => (store: MessageStore) => MessageStore;
};

async function sharedLog(newState?: () => StoreState) {
  return logWorld(newState === undefined ? {} : { newState });
}

async function logWorld(options: LogWorldOptions) {
  const answers: { node: number; at: number; input: Input }[] = [];
  const events: HistoryEvent[] = [];
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
    mode: options.mode ?? 'shared',
    disk,
    record: (event) => events.push(event),
    storeOptions: {
      ...(options.newState === undefined ? {} : { newState: options.newState }),
      ...(options.uncached ? { limits: { tailCacheMessagesPerConv: 0 } } : {}),
    },
    ...(options.wrap === undefined ? {} : { wrap: options.wrap(disk) }),
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
  return { agenda, network, disk, storage, answers, events, started, start, append };
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

/**
 * A deviant store: where the real one refuses a record that is not the seq its index expects there,
 * this one serves the record that lies at that place (the check of log-store.ts's read removed).
 */
function servesWhatLiesThere(disk: SimDisk) {
  return (store: MessageStore): MessageStore =>
    new Proxy(store, {
      get(target, key, receiver) {
        if (key !== 'read') return Reflect.get(target, key, receiver);
        return async (request: Parameters<MessageStore['read']>[0]) => {
          try {
            return await target.read(request);
          } catch (error) {
            if (!(error instanceof LogCorruptError)) throw error;
            const file = disk.syncedFiles((path) => path === error.file)[0]!;
            const frame = readFrame(file.bytes, error.offset, file.bytes.length);
            const record = frame.ok ? decodeRecord(frame.payload) : null;
            if (record?.t !== 'append') throw error;
            const { from, cmid, body, ts } = record;
            const seq = request.after + 1;
            return {
              status: 'ok',
              messages: [{ conv: request.conv, seq, from, cmid, body, ts }],
              lastSeq: 3,
            };
          }
        };
      },
    });
}

async function misdirected(deviant: boolean) {
  const { agenda, disk, storage, events, append } = await logWorld({
    mode: 'embedded',
    uncached: true,
    ...(deviant ? { wrap: servesWhatLiesThere } : {}),
  });
  for (const cmid of ['m1', 'm2', 'm3']) append(cmid);
  await agenda.runUntil(1000);
  // m3's whole frame lands over m1's (the records are the same size).
  const [segment] = disk.syncedFiles((path) => path.endsWith('.seg'));
  const places: { offset: number; end: number; cmid: string }[] = [];
  for (let offset = 0; offset < segment!.bytes.length; ) {
    const frame = readFrame(segment!.bytes, offset, segment!.bytes.length);
    if (!frame.ok) break;
    const record = decodeRecord(frame.payload);
    if (record?.t === 'append') places.push({ offset, end: frame.end, cmid: record.cmid });
    offset = frame.end;
  }
  const [m1, , m3] = places;
  expect(
    disk.landMisdirected(segment!.path, m1!.offset, segment!.bytes.subarray(m3!.offset, m3!.end)),
  ).not.toBeNull();
  events.length = 0;
  let done = false;
  storage.scrub(() => {
    done = true;
  });
  await agenda.runUntil(2000);
  expect(done).toBe(true);
  const scrubbed = events.flatMap((e) => (e.k === 'durable' ? [`${e.message.seq}:${e.message.cmid}`] : []));
  return { scrubbed, corruptReads: storage.stats.corruptReads };
}

describe('the scrub before a backup is restored over a misdirected write', () => {
  it('reads every seq back alone: the real store refuses the record that landed and serves the rest', async () => {
    expect(await misdirected(false)).toEqual({ scrubbed: ['2:m2', '3:m3'], corruptReads: 1 });
  });

  it("reports what a store that serves whatever lies there claims: m3's record as seq 1", async () => {
    expect((await misdirected(true)).scrubbed).toEqual(['1:m3', '2:m2', '3:m3']);
  });
});
