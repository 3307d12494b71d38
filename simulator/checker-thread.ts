// The scenario's standard checkers on a second thread, so a big run's judging shares the machine's
// second core with the world instead of taking turns with it. The history goes over in batches
// (history-batch.ts), in
// the order it was recorded, and the checkers on the other side observe it in that order, one event
// at a time, exactly as they would in-process: their verdicts depend on the stream, never on when a
// batch arrived, so the trace hash (which folds the verdicts in at the end) is the same either way.
// A full pipe blocks the world (a bounded number of batches in flight), so a slow checker thread
// costs time, never memory. At the end the final state goes over as plain data (the store's
// messages, who is online), and the verdicts come back. The run's meters (run-meters.ts: the SLO
// metrics and the harness metrics recorder) observe the same history on the thread, the recorder's
// samples taken at the clock ticks that cross between the events, and come back with the verdicts.

import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { RecorderCrossing, RecorderState } from '../metrics/run-recorder.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import type { StandardCheckerOptions } from './checkers/index.ts';
import { checkerThreadLimits } from './checkers/limits.ts';
import { type ClientsCrossing, encodeClients, type FinalClients } from './final-clients.ts';
import type { CheckResult, DeviceRef, FinalState, HistoryEvent, ReplayCheck } from './history.ts';
import { type HistoryBatch, HistoryBatchWriter } from './history-batch.ts';
import { MemoryLimitReached } from './memory-watch.ts';
import type { CheckerThreadPerf } from './run-meter.ts';
import type { MeterSources } from './run-meters.ts';
import {
  encodeStored,
  type StoredColumns,
  type StoredPart,
  type StoredSource,
  storedTransfer,
} from './stored-columns.ts';

/**
 * What the thread builds its checkers from: the scenario and the very options the run would judge with
 * in-process (scenario-checkers.ts, with the simulator's own bounds), so a run judges alike either way.
 */
export type CheckerThreadSetup = Omit<StandardCheckerOptions, 'ids'> & {
  scenario: Scenario;
  /** The run's meters kept on the thread: repeated pushes measured or not, the recorder's crossing if any. */
  meters: { repeatedPushes: boolean; recorder?: RecorderCrossing };
};

/** A FinalState as data: what crosses to the checker thread at the end of a run. */
export type FinalSnapshot = {
  at: number;
  /** Who took part to the end and who is online, by client number (final-clients.ts). */
  clients: FinalClients;
  conversations: string[];
  /** Every conversation the store holds, and the store's final read, encoded part by part as it crosses. */
  stored: { convs: readonly string[]; store: StoredSource };
  settledAt: number | null;
  storeReplay?: ReplayCheck;
};

/** Shared counters: batches the thread has judged, violations so far, and a failure flag. */
const doneSlot = 0;
const violationsSlot = 1;
const failedSlot = 2;

export type ThreadMessage =
  | { type: 'batch'; batch: HistoryBatch }
  /**
   * The final state's clients, first of the final crossing: the thread decodes them while this side
   * encodes the store's parts.
   */
  | { type: 'clients'; clients: ClientsCrossing }
  /** Part of the final store content as columns (stored-columns.ts), ahead of the `finish` that carries the rest. */
  | { type: 'stored'; stored: StoredPart }
  | { type: 'finish'; final: FinalCrossing };

/** The rest of the final snapshot as it crosses: its store content the last part of columns. */
export type FinalCrossing = Omit<FinalSnapshot, 'stored' | 'clients'> & { stored: StoredPart };

export type ThreadReply =
  | { type: 'verdicts'; verdicts: CheckResult[]; perf: CheckerThreadPerf; measured: ThreadMeasured }
  | { type: 'error'; message: string };

/** The meters' figures from the thread: the SLO metrics, and the recorder's state when it crossed. */
export type ThreadMeasured = { sources: MeterSources; recorder?: RecorderState };

export class CheckerThread {
  private readonly worker: Worker;
  private readonly counters: Int32Array;
  private readonly writer = new HistoryBatchWriter(checkerThreadLimits.batchEvents);
  private sent = 0;
  private failure: string | null = null;
  private outOfMemory: MemoryLimitReached | null = null;
  /** Wall time blocked in waitForRoom while the history went over (not the final crossing's). */
  private blockedMs = 0;

  /**
   * `storedPart`: conversations of the final store content per message (tests make it small).
   * `memory`: looked at while the world waits for the thread (memory-watch.ts); it throws to stop the run.
   */
  constructor(
    setup: CheckerThreadSetup,
    private readonly storedPart: number = checkerThreadLimits.storedConversationsPerMessage,
    private readonly memory?: { check(): void },
  ) {
    this.counters = new Int32Array(new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT));
    // The worker registers tsx itself: module hooks registered on this thread do not reach it (Node 20).
    const code = [
      '(async () => {',
      `  const { register } = await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))});`,
      '  register();',
      `  await import(${JSON.stringify(new URL('./checker-thread-worker.ts', import.meta.url).href)});`,
      '})();',
    ].join('\n');
    // A thread's heap is sized from V8's flags when the thread starts, and `--max-semi-space-size` beats
    // a worker's resourceLimits: the flag is set for the threads started from here on (the world's heap,
    // started already, keeps the launcher's).
    setFlagsFromString(`--max-semi-space-size=${checkerThreadLimits.semiSpaceMb}`);
    this.worker = new Worker(code, { eval: true, workerData: { setup, counters: this.counters } });
    this.worker.on('message', (reply: ThreadReply) => {
      if (reply.type === 'error') this.failure = reply.message;
    });
    this.worker.on('error', (error: Error & { code?: string }) => {
      this.failure = error.message;
      // The thread's heap reached V8's limit: Node ended the thread, the process lives on to say so.
      if (error.code === 'ERR_WORKER_OUT_OF_MEMORY')
        this.outOfMemory = new MemoryLimitReached(
          `the checker thread's heap reached V8's limit (${error.message})`,
        );
    });
    // The thread must not keep a finished run's process alive; finish() waits for it explicitly.
    this.worker.unref();
  }

  /** One history event, with the recording client's device number when it has one (else -1). */
  observe(event: HistoryEvent, device: number): void {
    this.writer.add(event, device);
    this.took(true);
  }

  /**
   * The history's writer, for a `display` or `conv-frame` given by its fields (HistoryBatchWriter.display,
   * .convFrame): pass what it answered to `took`.
   */
  get history(): HistoryBatchWriter {
    return this.writer;
  }

  /** After the writer was given an event by its fields and `taken` it: a full batch goes over. Returns `taken`. */
  took(taken: boolean): boolean {
    if (taken && this.writer.count === checkerThreadLimits.batchEvents) this.flush();
    return taken;
  }

  /** The run's clock at this point of the history (the recorder's samples on the thread). */
  tick(nowMs: number, events: number): void {
    this.writer.tick(nowMs, events);
  }

  violationsSoFar(): number {
    return Atomics.load(this.counters, violationsSlot);
  }

  /**
   * Sends what is left, then the final state; resolves with every checker's verdict, in order, and the
   * thread's CPU time (null where the OS does not say) and peak heap.
   */
  async finish(
    snapshot: FinalSnapshot,
  ): Promise<{ verdicts: CheckResult[]; perf: CheckerThreadPerf; measured: ThreadMeasured }> {
    this.flush();
    const blockedMs = this.blockedMs;
    const finishStart = performance.now();
    this.worker.ref();
    try {
      return await new Promise((resolve, reject) => {
        this.worker.on('message', (reply: ThreadReply) => {
          if (reply.type === 'verdicts')
            resolve({
              verdicts: reply.verdicts,
              perf: { ...reply.perf, blockedMs, finishMs: performance.now() - finishStart },
              measured: reply.measured,
            });
          else reject(new Error(`checker thread failed: ${reply.message}`));
        });
        this.worker.on('error', (error) =>
          reject(this.outOfMemory ?? new Error(`checker thread failed: ${error.message}`)),
        );
        this.worker.on('exit', (code) =>
          reject(this.outOfMemory ?? new Error(`checker thread exited (code ${code}) before its verdicts`)),
        );
        // Clients by the numbers their history crossed with (flushed above: every name is told).
        const clients = encodeClients(snapshot.clients, (n, user, device) =>
          this.writer.told(n, user, device),
        );
        this.worker.postMessage({ type: 'clients', clients } satisfies ThreadMessage, [
          clients.devices.buffer as ArrayBuffer,
          clients.online.buffer as ArrayBuffer,
        ]);
        this.sent++;
        // The store's content in parts of columns: each part's serialized copy is dropped once it is posted.
        const { convs, store } = snapshot.stored;
        const part = this.storedPart;
        const last = Math.max(0, convs.length - part);
        for (let start = 0; start < last; start += part) {
          const columns = encodeStored(convs.slice(start, Math.min(start + part, last)), store);
          this.worker.postMessage(
            { type: 'stored', stored: columns } satisfies ThreadMessage,
            storedTransfer(columns),
          );
          this.sent++;
          // Two messages at a time (the clients or a part being read, the next part): parts queued for
          // the thread would hold their copies all at once again.
          this.waitForRoom(2);
        }
        const columns = encodeStored(convs.slice(last), store);
        const { at, conversations, settledAt, storeReplay } = snapshot;
        this.worker.postMessage(
          {
            type: 'finish',
            final: { at, conversations, settledAt, ...(storeReplay ? { storeReplay } : {}), stored: columns },
          } satisfies ThreadMessage,
          storedTransfer(columns),
        );
      });
    } finally {
      await this.worker.terminate();
    }
  }

  /** Stops the thread without verdicts (the run failed on this side). */
  async stop(): Promise<void> {
    await this.worker.terminate();
  }

  private flush(): void {
    if (this.writer.count === 0) return;
    const { batch, transfer } = this.writer.take();
    this.worker.postMessage({ type: 'batch', batch } satisfies ThreadMessage, transfer);
    this.sent++;
    this.waitForRoom(checkerThreadLimits.batchesInFlightMax);
  }

  /** Blocks while more than `inFlightMax` messages are in flight: a slow thread slows the world, never fills memory. */
  private waitForRoom(inFlightMax: number): void {
    let quietMs = 0;
    let since = -1;
    for (;;) {
      if (this.outOfMemory !== null) throw this.outOfMemory;
      this.memory?.check();
      if (Atomics.load(this.counters, failedSlot) !== 0 || this.failure !== null)
        throw new Error(`checker thread failed: ${this.failure ?? 'see its error above'}`);
      const done = Atomics.load(this.counters, doneSlot);
      if (this.sent - done <= inFlightMax) {
        if (since >= 0) this.blockedMs += performance.now() - since;
        return;
      }
      if (since < 0) since = performance.now();
      const woke = Atomics.wait(this.counters, doneSlot, done, checkerThreadLimits.waitSliceMs);
      quietMs = woke === 'timed-out' ? quietMs + checkerThreadLimits.waitSliceMs : 0;
      // A thread that died (out of memory, say) cannot say so while this thread is blocked here.
      if (quietMs >= checkerThreadLimits.silenceMaxMs)
        throw new Error(
          `checker thread judged nothing for ${checkerThreadLimits.silenceMaxMs / 1000} s with ${this.sent - done} batches waiting`,
        );
    }
  }
}

/** The worker's side of the counters (checker-thread-worker.ts). */
export function batchJudged(counters: Int32Array, violations: number): void {
  Atomics.store(counters, violationsSlot, violations);
  Atomics.add(counters, doneSlot, 1);
  Atomics.notify(counters, doneSlot);
}

export function threadFailed(counters: Int32Array): void {
  Atomics.store(counters, failedSlot, 1);
  Atomics.notify(counters, doneSlot);
}

/** The snapshot back as the FinalState the checkers read, its store content from the parts that came. */
export function finalFromSnapshot(
  snapshot: Pick<FinalSnapshot, 'at' | 'conversations' | 'settledAt' | 'storeReplay'>,
  clients: { devices: DeviceRef[]; online: ReadonlySet<string> },
  stored: StoredColumns,
): FinalState {
  const { online } = clients;
  return {
    at: snapshot.at,
    devices: clients.devices,
    conversations: () => snapshot.conversations,
    storedMessage: (conv, seq) => stored.message(conv, seq),
    storedLastSeq: (conv) => stored.lastSeq(conv),
    storedDigest: (conv, seq) => stored.digest(conv, seq),
    online: (user) => online.has(user),
    settledAt: snapshot.settledAt,
    ...(snapshot.storeReplay ? { storeReplay: snapshot.storeReplay } : {}),
  };
}
