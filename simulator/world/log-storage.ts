// Storage on the real log store (reference-server/store/log-store.ts) over a simulated disk: the same
// segments, CRC framing, group commit, checkpoints and recovery the live server runs, in virtual time.
// Embedded (one node): the store lives in the node's process, so a node crash is a machine crash (the
// disk loses or tears unsynced writes) and the restart runs the real recovery before the node serves.
// Shared: the store is its own process that faults crash and restart. The store's promise reactions
// run between agenda events (agenda.ts), so a run stays a pure function of its seed.

import type { StoreOp } from '../../reference-server/core/effects.ts';
import type { Input, StoreOutcome } from '../../reference-server/core/inputs.ts';
import type { ConvId, Message } from '../../reference-server/protocol/frames.ts';
import { runStoreOp } from '../../reference-server/runtime/store-executor.ts';
import { checkpointFileName } from '../../reference-server/store/checkpoint.ts';
import type { FileSystem } from '../../reference-server/store/file-system.ts';
import { defaultStoreLimits } from '../../reference-server/store/limits.ts';
import { LogStore, type LogStoreOptions } from '../../reference-server/store/log-store.ts';
import type {
  ConversationRecord,
  CreateRequest,
  MessageStore,
} from '../../reference-server/store/message-store.ts';
import { LogCorruptError } from '../../reference-server/store/store-errors.ts';
import { StoreState, type StoreStateView } from '../../reference-server/store/store-state.ts';
import type { HistoryEvent, ReplayCheck } from '../history.ts';
import { Agenda, EventKind } from './agenda.ts';
import type { Network, NetworkConfig } from './network.ts';
import type { SimDisk } from './sim-disk.ts';
import type { FinalStore, StorageService } from './storage.ts';
import { replayWholeLog, stateDifference, type WholeReplay } from './store-replay.ts';

export const simDataDir = '/sim/data';

export type LogStorageOptions = {
  agenda: Agenda;
  network: Network;
  config: NetworkConfig;
  mode: 'embedded' | 'shared';
  disk: SimDisk;
  record(event: HistoryEvent): void;
  /** How each incarnation of the store is built (limits, known-bug policies). */
  storeOptions: Omit<LogStoreOptions, 'dir' | 'fs'>;
  /** Known-bug wrappers around the store (the live server's buggy-store.ts). */
  wrap?: (store: MessageStore) => MessageStore;
  /** Builds each incarnation (default: the real LogStore), for tests that run a deliberately broken one. */
  newStore?: (options: LogStoreOptions) => LogStore;
  /** Reads per request of the final read. */
  readMessagesMax: number;
};

/** Who waits for an operation's outcome: a node's core (a `stored` input to that epoch), or the harness. */
type InFlight =
  | { node: number; epoch: number; id: number }
  | { node: number; answered: (outcome: StoreOutcome) => void };

/**
 * A fleet node that cannot read the shared store at start exits, and its supervisor starts it again
 * this much later (`serve --redis` refuses to start without its store).
 */
const startRetryMs = 1000;

export type LogStorageReport = LogStorage['stats'] & {
  disk: SimDisk['stats'];
  /** Why recoveries refused to open the log, if any did. */
  refusals: string[];
};

export class LogStorage implements StorageService {
  readonly engine = 'log';
  readonly disk: SimDisk;
  /** The running store's incarnation; null while it is down or recovering. */
  private store: LogStore | null = null;
  private wrapped: MessageStore | null = null;
  /** The running store's view of the disk (its process's open files). */
  private storeFs: FileSystem | null = null;
  /** A scrub's reads are in flight (outside `inFlight`). */
  private scrubbing = false;
  /** The last incarnation's decisions, for the harness while the store is down. */
  private lastDecisions: StoreStateView | null = null;
  /** Bumped by each crash: answers of an earlier incarnation are void. */
  private generation = 0;
  private recovering = false;
  /** A clean close of the last incarnation still writing (its flush and final checkpoint). */
  private closing: Promise<void> | null = null;
  /** The last recovery refused to open the log (see `refusals`): down until restarted. */
  private refused = false;
  private outage = false;
  private readonly setupConversations: CreateRequest[] = [];
  /** The agenda the store's work runs on: the world's, or a private one offstage. */
  private clock: Agenda;
  private readonly inFlight = new Map<number, InFlight>();
  private nextOperation = 0;
  /** Per conversation: the highest seq reported durable, so recovered records get reported once. */
  private readonly reportedSeq = new Map<ConvId, number>();
  /** Why recoveries refused to open the log (a corrupt log is refused, never served). */
  readonly refusals: string[] = [];
  /** What the harness did and learned: recoveries, damage it caused, what the store refused or set aside. */
  readonly stats = {
    recoveries: 0,
    recoveriesInterrupted: 0,
    truncatedBytes: 0,
    /** Recoveries that cut a torn tail with intact records after its unwritten sector (told from damage). */
    tailsCutBeforeIntact: 0,
    corruptReads: 0,
    /** Reads the store failed with an error other than a corrupt record (an I/O error of its own). */
    failedReads: 0,
    bitFlips: 0,
    checkpointsRejected: 0,
    /**
     * Checkpoints set aside as damaged that no fault damaged (no bit flipped in them): the store wrote
     * one its own recovery cannot read, so every start replays the whole log, and a lost flush meets no
     * checkpoint to cut under (74bbde3 seed 5's 3568 wrote an index entry past the lastSeq it captured).
     */
    checkpointsSetAsideUndamaged: 0,
    /** Clean stops: the store closed (flushed, checkpointed) as its node exited after a drain. */
    cleanStops: 0,
    /** Crashes a torn write (tornAt 'frame-length') made with the tail inside a frame's length field. */
    tornFrameLengths: 0,
    /**
     * The most files the serving store's process held open with no operation of the harness's in
     * flight (no read holding a segment): the store's bound on idle read handles plus the file it
     * writes (and a checkpoint being written), or a leak. -1: the store was never seen at rest.
     */
    openFilesAtRestMax: -1,
  };

  constructor(private readonly options: LogStorageOptions) {
    this.disk = options.disk;
    this.clock = options.agenda;
  }

  get decisions(): StoreStateView {
    const decisions = this.store?.decisions ?? this.lastDecisions;
    if (decisions === null) throw new Error('the log store was never opened');
    return decisions;
  }

  report(): LogStorageReport {
    return { ...this.stats, disk: { ...this.disk.stats }, refusals: [...this.refusals] };
  }

  /** Why the running store refuses everything (it failed a write or an fsync), or null. */
  get failure(): Error | null {
    return this.store?.failure ?? null;
  }

  noteBitFlip(where: { path: string; offset: number } | null): void {
    if (where !== null) this.stats.bitFlips++;
  }

  /** A torn-write fault crashes the log with its tail inside a frame's length field (see disk-torn-write). */
  noteTornFrameLength(): void {
    this.stats.tornFrameLengths++;
  }

  /** Whether the store is up and serving. */
  get up(): boolean {
    return this.store !== null;
  }

  get isRecovering(): boolean {
    return this.recovering;
  }

  /** Down because its last recovery refused to open the log (an I/O error, or a corrupt log). */
  get isRefused(): boolean {
    return this.refused;
  }

  createAtSetup(request: CreateRequest): void {
    this.setupConversations.push(request);
  }

  /** Formats the disk with the setup's conversations, on a private agenda: the run starts at time 0. */
  async open(): Promise<void> {
    await this.offstage(async (agenda) => {
      let opened = false;
      this.recover(() => {
        opened = true;
      });
      await agenda.runUntilDone(() => opened || !this.recovering);
      if (!opened) throw new Error('the log store did not open on a fresh simulated disk');
      let created = 0;
      for (const request of this.setupConversations) {
        agenda.markAsync();
        void this.wrapped!.createConversation(request).then(() => created++);
      }
      await agenda.runUntilDone(() => created === this.setupConversations.length);
      // A checkpoint the creates started finishes here, on this agenda: its disk work would otherwise
      // wait on an agenda nobody runs, and the store would never checkpoint (or close) again.
      let idle = false;
      agenda.markAsync();
      void this.store!.whenCheckpointed().then(() => {
        idle = true;
      });
      await agenda.runUntilDone(() => idle);
    });
  }

  /**
   * The operator's first restart of a new server, on the setup's private agenda (no run time): the store
   * closes cleanly (flushed, its final checkpoint written), the machine powers off, `lose` takes what
   * the drive's volatile cache held (or nothing: null), and the store starts again. If it refuses, the
   * backup is restored and it starts once more; one that started on the damaged log keeps it. Says
   * whether the loss was made and whether the store refused.
   */
  async restartAtProvisioning(
    lose: (disk: SimDisk) => { restore(): void } | null,
  ): Promise<{ lost: boolean; refused: boolean }> {
    if (this.options.mode !== 'embedded')
      throw new Error('a restart at provisioning needs the embedded store (its node closes it)');
    return this.offstage(async (agenda) => {
      let closed = false;
      this.nodeStopped();
      this.afterClose(() => {
        closed = true;
      });
      await agenda.runUntilDone(() => closed);
      // Closed cleanly, every byte and entry synced: the power-off loses only what `lose` takes.
      const lost = lose(this.disk);
      const start = async (): Promise<boolean> => {
        let opened = false;
        this.recover(() => {
          opened = true;
        });
        await agenda.runUntilDone(() => opened || !this.recovering);
        return opened;
      };
      const refused = !(await start());
      if (refused && lost !== null) {
        lost.restore();
        await start();
      }
      return { lost: lost !== null, refused };
    });
  }

  /** Runs `work` with the disk on a private agenda (not part of the run's trace or its time). */
  private async offstage<T>(work: (agenda: Agenda) => Promise<T>): Promise<T> {
    const world = this.options.agenda;
    const agenda = new Agenda((event) => (event.data as () => void)());
    this.clock = agenda;
    this.disk.useClock(agenda);
    try {
      return await work(agenda);
    } finally {
      this.clock = world;
      this.disk.useClock(world);
    }
  }

  submit(nodeIndex: number, epoch: number, id: number, op: StoreOp): void {
    this.send({ node: nodeIndex, epoch, id }, op);
  }

  /** The request travels the node's link to the store. */
  private send(pending: InFlight, op: StoreOp): void {
    const now = this.options.agenda.now;
    if (this.options.network.storeRequestRefused(pending.node)) {
      this.deliver(pending, { status: 'unavailable' }, now);
      return;
    }
    const arrival = this.options.network.storeArrival(pending.node, 'up', now);
    if (arrival > now) this.options.agenda.at(arrival, () => this.arrive(pending, op));
    else this.arrive(pending, op);
  }

  /** The request reached the store (at once, unless the node's link to it is slowed). */
  private arrive(pending: InFlight, op: StoreOp): void {
    const { storeLatencyMs, storeTimeoutMs } = this.options.config;
    if (!this.options.network.storeRequestArrives(pending.node)) {
      // Nothing comes back: the node's own timer answers, not a message on the link, so it does not
      // hold up the answers behind it on a slowed link (as one late answer would on one TCP stream).
      this.deliver(pending, { status: 'unavailable' }, this.options.agenda.now + storeTimeoutMs);
      return;
    }
    const store = this.wrapped;
    if (store === null || this.outage) {
      // Refused at once: the store's process is down (connection refused) or failing.
      this.answer(pending, { status: 'unavailable' }, 2 * storeLatencyMs);
      return;
    }
    const generation = this.generation;
    const operation = this.nextOperation++;
    this.inFlight.set(operation, pending);
    this.options.agenda.markAsync();
    let outcome: Promise<StoreOutcome>;
    try {
      outcome = runStoreOp(store, op);
    } catch (error) {
      outcome = Promise.reject(error);
    }
    outcome.then(
      (result) => {
        if (generation !== this.generation) return;
        if (op.kind === 'append' && result.status === 'ok' && 'duplicate' in result && !result.duplicate) {
          // A literal in the spread's field order ({ ...request, seq, ts }): the spread copied the
          // request key by key for every message made durable.
          const { conv, from, cmid, body } = op.request;
          this.reportDurable({ conv, from, cmid, body, ts: result.ts, seq: result.seq });
        }
        if (this.inFlight.delete(operation)) this.answer(pending, result, 2 * storeLatencyMs);
        this.noteAtRest();
      },
      (error: unknown) => {
        if (generation !== this.generation) return;
        if (error instanceof LogCorruptError) this.stats.corruptReads++;
        if (this.inFlight.delete(operation))
          this.answer(pending, { status: 'unavailable' }, 2 * storeLatencyMs);
        this.noteAtRest();
      },
    );
  }

  flushed(): void {
    throw new Error('the log store has no flush event: its group commit runs on the simulated disk');
  }

  /** Every operation fails (`unavailable`) while on; what is in flight is answered so at once. */
  setOutage(on: boolean): void {
    this.outage = on;
    if (on) this.failInFlight();
  }

  nodeCrashed(): void {
    if (this.options.mode === 'embedded') this.crash();
  }

  /** An embedded store closes with its node's clean exit: flushed, a final checkpoint, nothing lost. */
  nodeStopped(): void {
    if (this.options.mode !== 'embedded') return;
    const store = this.store;
    this.generation++;
    this.recovering = false;
    this.failInFlight();
    if (store === null) return;
    this.stats.cleanStops++;
    this.lastDecisions = store.decisions;
    this.store = null;
    this.wrapped = null;
    this.clock.markAsync();
    const closing: Promise<void> = store
      .close()
      .catch(() => undefined)
      .then(() => {
        if (this.closing === closing) this.closing = null;
      });
    this.closing = closing;
  }

  /** Runs `work` once the last clean close has finished writing (at once when none is under way). */
  afterClose(work: () => void): void {
    const closing = this.closing;
    if (closing === null) return work();
    void closing.then(() => {
      this.clock.markAsync();
      this.afterClose(work);
    });
  }

  nodeStarting(
    nodeIndex: number,
    ready: (records: readonly ConversationRecord[]) => void,
    abandoned: () => boolean,
  ): void {
    if (this.options.mode === 'shared') {
      this.readAtStart(nodeIndex, ready, abandoned);
      return;
    }
    this.recover(ready);
  }

  /**
   * A fleet node starting on the shared store reads every record over its own link, and the store
   * answers once what it reports is durable (LogStore.conversations), as `serve --redis` reads Redis:
   * never the store's in-memory decisions, which a store crash may still take back. A store down or
   * out of reach fails the start; the supervisor tries again `startRetryMs` later.
   */
  private readAtStart(
    nodeIndex: number,
    ready: (records: readonly ConversationRecord[]) => void,
    abandoned: () => boolean,
  ): void {
    if (abandoned()) return;
    this.send(
      {
        node: nodeIndex,
        answered: (outcome) => {
          if (abandoned()) return;
          if (outcome.status === 'ok' && 'records' in outcome) ready(outcome.records);
          else
            this.options.agenda.at(this.options.agenda.now + startRetryMs, () =>
              this.readAtStart(nodeIndex, ready, abandoned),
            );
        },
      },
      { kind: 'records' },
    );
  }

  /** The store's machine loses power: unsynced writes are lost or torn (the seed decides). */
  crash(): void {
    if (this.recovering) this.stats.recoveriesInterrupted++;
    this.generation++;
    this.recovering = false;
    if (this.store !== null) this.lastDecisions = this.store.decisions;
    this.store = null;
    this.wrapped = null;
    // A close under way never finishes: the disk's operations of before the crash never complete.
    this.closing = null;
    this.disk.crash();
    // Nodes of a shared store see their connections to it reset; an embedded store's node died with it.
    this.failInFlight();
  }

  /** A new incarnation of the store runs the real recovery; `ready` runs once it serves. */
  recover(ready: (records: readonly ConversationRecord[]) => void): void {
    const closing = this.closing;
    if (closing !== null) {
      // The files are still being closed by the last incarnation: open them once it is done.
      void closing.then(() => {
        this.clock.markAsync();
        this.recover(ready);
      });
      return;
    }
    if (this.store !== null || this.recovering) {
      if (this.store !== null) ready(this.store.decisions.records());
      return;
    }
    const generation = ++this.generation;
    this.recovering = true;
    this.refused = false;
    const fs = this.disk.session();
    const storeOptions = { ...this.options.storeOptions, dir: simDataDir, fs };
    const store = this.options.newStore?.(storeOptions) ?? new LogStore(storeOptions);
    this.clock.markAsync();
    store.open().then(
      async (records) => {
        if (generation !== this.generation) return;
        this.stats.recoveries++;
        this.stats.truncatedBytes += store.truncatedBytes;
        if (store.cutBeforeIntact) this.stats.tailsCutBeforeIntact++;
        if (store.checkpointRejected !== null) {
          this.stats.checkpointsRejected++;
          if (!this.disk.flippedAt(`${simDataDir}/${checkpointFileName}`))
            this.stats.checkpointsSetAsideUndamaged++;
        }
        await this.reportRecovered(store).catch((error: unknown) => {
          if (error instanceof LogCorruptError) this.stats.corruptReads++;
          else this.stats.failedReads++;
        });
        if (generation !== this.generation) return;
        this.recovering = false;
        this.store = store;
        this.storeFs = fs;
        this.wrapped = this.options.wrap?.(store) ?? store;
        this.lastDecisions = store.decisions;
        ready(records);
      },
      (error: unknown) => {
        if (generation !== this.generation) return;
        // A log recovery refuses (LogCorruptError, or an I/O error as it replays or cuts a torn
        // tail): the store stays down and says why, until its supervisor restarts it.
        this.recovering = false;
        this.refused = true;
        this.refusals.push(error instanceof Error ? error.message : String(error));
      },
    );
  }

  /**
   * An operator's verify job (a scrub), run before a backup is restored over damage: every message
   * read back alone through the running store's own read path, in the run's time, each one it serves
   * reported as durable (the store's claim of what lies at that seq, which agreement and idempotency
   * judge against everything else the run saw). One seq a read, so a record the store refuses (corrupt,
   * as it should) hides none around it. `done` runs once every seq was read, or at once when the store
   * is not serving.
   */
  scrub(finished: () => void): void {
    const store = this.wrapped;
    if (store === null) return finished();
    this.scrubbing = true;
    const done = (): void => {
      this.scrubbing = false;
      finished();
    };
    const generation = this.generation;
    const heads = this.decisions.records().map((record) => ({ conv: record.id, lastSeq: record.lastSeq }));
    const agenda = this.options.agenda;
    const read = (index: number, seq: number): void => {
      const head = heads[index];
      if (head === undefined || generation !== this.generation) return done();
      if (seq > head.lastSeq) return read(index + 1, 1);
      agenda.markAsync();
      store.read({ conv: head.conv, after: seq - 1, limit: 1 }).then(
        (result) => {
          if (generation !== this.generation) return done();
          if (result.status === 'ok') for (const message of result.messages) this.reportDurable(message);
          read(index, seq + 1);
        },
        (error: unknown) => {
          if (generation !== this.generation) return done();
          if (error instanceof LogCorruptError) this.stats.corruptReads++;
          read(index, seq + 1);
        },
      );
    };
    read(0, 1);
  }

  /** Samples the serving store's open files when nothing the harness asked of it is in flight. */
  private noteAtRest(): void {
    if (this.inFlight.size > 0 || this.scrubbing || this.store === null || this.storeFs === null) return;
    const open = this.disk.openFilesOf(this.storeFs);
    if (open > this.stats.openFilesAtRestMax) this.stats.openFilesAtRestMax = open;
  }

  /** Crash, recover, read everything back (offstage): what survives is what the checkers judge. */
  async finalRead(): Promise<FinalStore> {
    return this.offstage(async (agenda) => {
      this.crash();
      let ready = false;
      this.recover(() => {
        ready = true;
      });
      await agenda.runUntilDone(() => ready || !this.recovering);
      const store = this.store;
      if (store === null)
        return {
          state: this.decisions,
          messageAt: () => undefined,
          lastSeq: () => 0,
          // A store that does not open for the final read is no store to judge: gap-free-store says so.
          replayCheck: this.refusedUnlessDamaged(
            `the store refused to recover for the final read: ${this.refusals.at(-1) ?? 'its recovery never finished'}`,
            'the final recovery refused',
          ),
        };
      const messages = new Map<ConvId, Message[]>();
      for (const record of store.decisions.records())
        messages.set(record.id, await this.readAll(agenda, store, record.id, record.lastSeq));
      return {
        state: store.decisions,
        messageAt: (conv, seq) => messages.get(conv)?.[seq - 1],
        lastSeq: (conv) => store.decisions.lastSeq(conv) ?? 0,
        replayCheck: await this.replayCheck(agenda, store),
      };
    });
  }

  /** The recovered state against a replay of every segment, the checkpoint set aside (offstage). */
  private async replayCheck(agenda: Agenda, store: LogStore): Promise<ReplayCheck> {
    const recovered = store.decisions;
    if (!(recovered instanceof StoreState))
      throw new Error('the log store keeps its decisions in a StoreState');
    const { storeOptions } = this.options;
    const limits = { ...defaultStoreLimits, ...storeOptions.limits };
    let replay: WholeReplay | null = null;
    agenda.markAsync();
    void replayWholeLog(simDataDir, limits, this.disk.session(), storeOptions.newState).then((done) => {
      replay = done;
    });
    await agenda.runUntilDone(() => replay !== null);
    const done = replay as WholeReplay | null;
    if (done === null) throw new Error('the replay of the whole log never finished');
    if ('refused' in done)
      return this.refusedUnlessDamaged(
        `the store recovered, but its whole log does not replay: ${done.refused}`,
        `the replay refused: ${done.refused}`,
        'diverged',
      );
    const difference = stateDifference(recovered, done.state);
    return difference === null
      ? { outcome: 'agreed', details: `${recovered.heads().length} conversations` }
      : { outcome: 'diverged', details: difference };
  }

  /**
   * A log that would not open or replay: excused when the run damaged synced bytes (a bit flip, a
   * misdirected write: a correct store refuses such a log rather than serve it), else `outcome`.
   */
  private refusedUnlessDamaged(
    details: string,
    excused: string,
    outcome: 'diverged' | 'refused' = 'refused',
  ): ReplayCheck {
    const { bitFlips, misdirectedWrites } = this.disk.stats;
    return bitFlips + misdirectedWrites > 0
      ? { outcome: 'excused', details: `the run damaged synced bytes, and ${excused}` }
      : { outcome, details };
  }

  /** Seqs 1..lastSeq of a conversation; stops at a record the store refuses (corrupt). */
  private async readAll(agenda: Agenda, store: LogStore, conv: ConvId, lastSeq: number): Promise<Message[]> {
    const out: Message[] = [];
    while (out.length < lastSeq) {
      let batch: Message[] | null = null;
      agenda.markAsync();
      store.read({ conv, after: out.length, limit: this.options.readMessagesMax }).then(
        (result) => {
          batch = result.status === 'ok' ? result.messages : [];
        },
        (error: unknown) => {
          // A read the store fails (corrupt, or an I/O error of its own: an index into no file) serves
          // nothing from there on: what it owes after is missing from the final read (durable-ack).
          if (error instanceof LogCorruptError) this.stats.corruptReads++;
          else this.stats.failedReads++;
          batch = [];
        },
      );
      await agenda.runUntilDone(() => batch !== null);
      const got = batch as Message[] | null;
      if (got === null || got.length === 0) return out;
      out.push(...got);
    }
    return out;
  }

  /** Records that a recovery found beyond what was reported durable (unsynced writes a crash kept). */
  private async reportRecovered(store: LogStore): Promise<void> {
    for (const record of store.decisions.records()) {
      for (let reported = this.reportedSeq.get(record.id) ?? 0; reported < record.lastSeq; ) {
        const result = await store.read({
          conv: record.id,
          after: reported,
          limit: record.lastSeq - reported,
        });
        if (result.status !== 'ok' || result.messages.length === 0) break;
        for (const message of result.messages) this.reportDurable(message);
        reported = this.reportedSeq.get(record.id)!;
      }
    }
  }

  private reportDurable(message: Message): void {
    this.reportedSeq.set(message.conv, Math.max(this.reportedSeq.get(message.conv) ?? 0, message.seq));
    this.options.record({ k: 'durable', at: this.options.agenda.now, message });
  }

  private failInFlight(): void {
    const inFlight = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const pending of inFlight)
      this.answer(pending, { status: 'unavailable' }, 2 * this.options.config.storeLatencyMs);
  }

  private answer(pending: InFlight, outcome: StoreOutcome, delayMs: number): void {
    if (!this.options.network.storeReplyArrives(pending.node)) {
      // Carried out, its reply lost on the way back: the node's own timer answers.
      this.deliver(
        pending,
        { status: 'unavailable' },
        this.options.agenda.now + this.options.config.storeTimeoutMs,
      );
      return;
    }
    this.deliver(
      pending,
      outcome,
      this.options.network.storeArrival(pending.node, 'down', this.options.agenda.now + delayMs),
    );
  }

  private deliver(pending: InFlight, outcome: StoreOutcome, at: number): void {
    if ('answered' in pending) {
      this.options.agenda.at(at, () => pending.answered(outcome));
      return;
    }
    const input: Input = { type: 'stored', id: pending.id, outcome };
    this.options.agenda.schedule(at, EventKind.nodeInput, pending.node, pending.epoch, input);
  }
}
