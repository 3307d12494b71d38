// The checker thread's side of checker-thread.ts: builds the scenario's standard checkers as
// run-scenario would in-process, observes each batch's events in order (priming the id table with the
// recording client's device number first, as run-scenario's `record` does), and answers the final
// state with the verdicts. The run's meters (run-meters.ts) observe the same events and the clock's
// ticks between them, and their figures go back with the verdicts. Any exception is reported, never
// swallowed: a thread that could not judge leaves the run without verdicts, never with a pass.

import { GCProfiler } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { RunRecorder } from '../metrics/run-recorder.ts';
import {
  batchJudged,
  type CheckerThreadSetup,
  finalFromSnapshot,
  type ThreadMessage,
  type ThreadReply,
  threadFailed,
} from './checker-thread.ts';
import { CheckerFeed } from './checkers/checker-feed.ts';
import { IdTable } from './checkers/id-table.ts';
import { decodeClients } from './final-clients.ts';
import type { HistoryEvent } from './history.ts';
import { HistoryBatchReader } from './history-batch.ts';
import { gcMicrosOf, type HeapPeaks, heapPeaksOf, maxHeapPeaks, threadCpuMs } from './run-meter.ts';
import { RunMeters } from './run-meters.ts';
import { checkersViolations, scenarioCheckers } from './scenario-checkers.ts';
import { StoredColumns } from './stored-columns.ts';

const cpuStart = threadCpuMs();
// This thread's own heap (a second V8 heap in the process): its peak is part of the run's figures.
let gcProfiler = new GCProfiler();
gcProfiler.start();
/** The heap peaks of the run before its final state came (its GC profile is cut there: see `clients`). */
let runHeapPeaks: HeapPeaks = { usedBytes: 0, committedBytes: 0 };
/** The collections of the run before its final state came, and their pauses (µs). */
let runGc = { count: 0, micros: 0 };
const port = parentPort!;
const { setup, counters } = workerData as { setup: CheckerThreadSetup; counters: Int32Array };
const ids = new IdTable();
// Every option the run would judge with in-process (run-scenario's checker setup), whatever it holds.
const { scenario, meters: _meters, ...checkerOptions } = setup;
const checkers = scenarioCheckers(scenario, { ids, ...checkerOptions });
// Each checker gets the kinds of event it reads (checker-feed.ts), as in-process.
const feed = new CheckerFeed(checkers);
// The run's recorder, writing into the world's side's numbers (metrics/run-recorder.ts), and the SLO meters.
const crossing = setup.meters.recorder;
const recorder = crossing ? new RunRecorder(crossing.options, crossing.values) : undefined;
const meters = new RunMeters(setup.meters.repeatedPushes, recorder);
const tick = (nowMs: number, events: number): void => meters.tick(nowMs, events);

const reader = new HistoryBatchReader();
/** The final store content as it comes, in parts of columns (checker-thread.ts, stored-columns.ts). */
const stored = new StoredColumns();
/** The final state's clients, decoded as they come ahead of the store's parts. */
let clients: ReturnType<typeof decodeClients> | undefined;
/** The thread's CPU time when the final state began to come (its clients). */
let finalCpuStart: number | null = null;
const observe = (event: HistoryEvent, device: number): void => {
  if (device >= 0 && 'device' in event) ids.prime(event.user, event.device, device);
  feed.observe(event);
  meters.observe(event);
};

port.on('message', (message: ThreadMessage) => {
  try {
    if (message.type === 'batch') {
      reader.read(message.batch, observe, tick);
      batchJudged(counters, checkersViolations(checkers));
    } else if (message.type === 'clients') {
      finalCpuStart = threadCpuMs();
      // The final state's GC apart from the run's: a new profile from here to the verdicts.
      const runProfile = gcProfiler.stop();
      runHeapPeaks = heapPeaksOf(runProfile);
      runGc = { count: runProfile?.statistics.length ?? 0, micros: gcMicrosOf(runProfile) };
      gcProfiler = new GCProfiler();
      gcProfiler.start();
      clients = decodeClients(message.clients, reader);
      batchJudged(counters, checkersViolations(checkers));
    } else if (message.type === 'stored') {
      stored.add(message.stored);
      batchJudged(counters, checkersViolations(checkers));
    } else {
      stored.add(message.final.stored);
      if (clients === undefined) throw new Error("the final state's clients did not come before its finish");
      const final = finalFromSnapshot(message.final, clients, stored);
      const byChecker: Record<string, number> = {};
      const verdicts = checkers.map((checker) => {
        const before = threadCpuMs();
        const verdict = checker.finish(final);
        const after = threadCpuMs();
        if (before !== null && after !== null)
          byChecker[checker.property] = (byChecker[checker.property] ?? 0) + after - before;
        return verdict;
      });
      const cpuNow = threadCpuMs();
      const finishGc = gcProfiler.stop();
      const peaks = maxHeapPeaks(runHeapPeaks, heapPeaksOf(finishGc));
      port.postMessage({
        type: 'verdicts',
        verdicts,
        perf: {
          cpuMs: cpuStart === null ? null : (cpuNow ?? cpuStart) - cpuStart,
          finishCpuMs: finalCpuStart === null || cpuNow === null ? null : cpuNow - finalCpuStart,
          finishCpuByCheckerMs: cpuNow === null ? null : byChecker,
          finishGcMs: Math.round(gcMicrosOf(finishGc) / 1000),
          gcCount: runGc.count + (finishGc?.statistics.length ?? 0),
          gcMs: Math.round((runGc.micros + gcMicrosOf(finishGc)) / 1000),
          heapPeakBytes: peaks.usedBytes,
          heapCommittedPeakBytes: peaks.committedBytes,
        },
        measured: { sources: meters.sources(), ...(recorder ? { recorder: recorder.handOver() } : {}) },
      } satisfies ThreadReply);
    }
  } catch (error) {
    threadFailed(counters);
    port.postMessage({
      type: 'error',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    } satisfies ThreadReply);
  }
});
