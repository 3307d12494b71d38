// The checkers on a second thread judge exactly as they do in-process: the same verdicts, details and
// witnesses, so the same trace hash, for a passing run and for a run with a deliberate bug; the final
// state crosses as data without losing what a broken store holds past its lastSeq; and a thread that
// cannot judge fails the run instead of passing it.

import { describe, expect, it } from 'vitest';
import { phaseNames } from '../metrics/harness-families.ts';
import { RunRecorder } from '../metrics/run-recorder.ts';
import { scenarioRecorder } from '../metrics/scenario-recorder.ts';
import type { Message } from '../reference-server/protocol/frames.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { CheckerThread, finalFromSnapshot } from './checker-thread.ts';
import type { HistoryEvent } from './history.ts';
import { runScenario } from './run-scenario.ts';
import { encodeStored, StoredColumns } from './stored-columns.ts';

/** A final state's clients when there are none. */
const noClients = () => ({ devices: new Int32Array(0), online: new Int32Array(0), names: [] });

/** A thread that keeps no recorder and measures no repeated pushes. */
const noMeters = { repeatedPushes: false };

/** A recorder that counts the events it observed itself (on this thread). */
class CountingRecorder extends RunRecorder {
  observed = 0;
  override observe(event: HistoryEvent): void {
    this.observed++;
    super.observe(event);
  }
}

/** A recorder's numbers and samples, the CPU series left out (the process's, not the run's). */
function recorded(recorder: RunRecorder) {
  const cpu = recorder.layout.families.find((f) => f.name === 'chatsim_harness_cpu_seconds')!;
  const cpuSlots = new Set(Array.from({ length: cpu.width * phaseNames.length }, (_, i) => cpu.offset + i));
  const numbers = (values: Float64Array) => [...values].filter((_, i) => !cpuSlots.has(i));
  return {
    values: numbers(recorder.values),
    snapshots: recorder.snapshots.map((s) => ({ at: s.at, phase: s.phase, values: numbers(s.values) })),
    faults: recorder.faults,
    phase: recorder.phaseName,
    phases: phaseNames.map((phase) => recorder.phaseStart(phase)),
    nowMs: recorder.nowMs,
  };
}

/** Whole simulations on a shared 2-core box: generous, never a wall-clock assertion. */
const simTimeoutMs = 300_000;

describe('checker thread', () => {
  it(
    'a run judged on the thread has the verdicts and trace hash of the same run judged in-process',
    async () => {
      const scenario = loadScenario('partition');
      // The metrics recorder observes on the world's thread in-process, on the checker thread beside it.
      const recorderOf = () => new CountingRecorder(scenarioRecorder(scenario, 'r').options);
      const inlineRecorder = recorderOf();
      const threadedRecorder = recorderOf();
      const inline = await runScenario(scenario, { seed: 3, clients: 80, recorder: inlineRecorder });
      const threaded = await runScenario(scenario, {
        seed: 3,
        clients: 80,
        checkerThread: true,
        recorder: threadedRecorder,
      });
      expect(inline.perf?.checkerThread).toBe(false);
      expect(threaded.perf?.checkerThread).toBe(true);
      expect(threaded.perf?.checkerThreadCpuMs).toBeGreaterThan(0);
      expect(threaded.perf?.checkerThreadHeapPeakBytes).toBeGreaterThan(0);
      expect(inline.perf?.checkerThreadHeapPeakBytes).toBeNull();
      expect(threaded.perf?.checkerThreadHeapCommittedPeakBytes).toBeGreaterThanOrEqual(
        threaded.perf!.checkerThreadHeapPeakBytes!,
      );
      expect(inline.perf?.checkerThreadHeapCommittedPeakBytes).toBeNull();
      // Measured from the final clients' arrival: 0 is possible at 80 clients (10 ms ticks), null is not.
      expect(threaded.perf?.checkerThreadFinishCpuMs).toBeGreaterThanOrEqual(0);
      expect(inline.perf?.checkerThreadFinishCpuMs).toBeNull();
      // Each checker's final judgement by property, every judged one named, and the finish's GC.
      const byChecker = threaded.perf?.checkerThreadFinishCpuByCheckerMs ?? {};
      const properties = new Set(threaded.verdicts.map((v) => v.property));
      for (const property of Object.keys(byChecker)) expect(properties).toContain(property);
      expect(Object.keys(byChecker)).toEqual(expect.arrayContaining(['agreement', 'no-loss', 'durable-ack']));
      for (const cpuMs of Object.values(byChecker)) expect(cpuMs).toBeGreaterThanOrEqual(0);
      expect(threaded.perf?.checkerThreadFinishGcMs).toBeGreaterThanOrEqual(0);
      // The thread's own collections over the run (a young generation fills at 80 clients too).
      expect(threaded.perf?.checkerThreadGcCount).toBeGreaterThan(0);
      expect(threaded.perf?.checkerThreadGcMs).toBeGreaterThanOrEqual(
        threaded.perf!.checkerThreadFinishGcMs!,
      );
      expect(inline.perf?.checkerThreadGcCount).toBeNull();
      expect(inline.perf?.checkerThreadGcMs).toBeNull();
      expect(inline.perf?.checkerThreadFinishCpuByCheckerMs).toBeNull();
      expect(inline.perf?.checkerThreadFinishGcMs).toBeNull();
      expect(threaded.verdicts).toEqual(inline.verdicts);
      expect(threaded.traceHash).toBe(inline.traceHash);
      expect(threaded.exitCode).toBe(inline.exitCode);
      expect(inline.verdicts.filter((v) => v.verdict === 'pass').length).toBeGreaterThan(5);
      // The SLO metrics measured on the thread (failed sends among them) judge as they do in-process.
      expect(threaded.slo).toEqual(inline.slo);
      expect(inline.slo.some((s) => s.name.startsWith('failedSends'))).toBe(true);
      // The recorder: the world's thread observed nothing of the history, the copy on the checker
      // thread all of it, and the run ends with the same numbers and samples either way.
      expect(inlineRecorder.observed).toBeGreaterThan(1000);
      expect(threadedRecorder.observed).toBe(0);
      for (const [recorder, run] of [
        [inlineRecorder, inline],
        [threadedRecorder, threaded],
      ] as const)
        recorder.finish(run.verdicts, run.virtualMs, run.events);
      expect(recorded(threadedRecorder)).toEqual(recorded(inlineRecorder));
      expect(threadedRecorder.snapshots.length).toBeGreaterThan(10);
      expect(threadedRecorder.total('displays')).toBeGreaterThan(1000);
      expect(threadedRecorder.total('sessions')).toBeGreaterThan(80);
    },
    simTimeoutMs,
  );

  it(
    'a violation found on the thread comes back with its witness',
    async () => {
      const scenario = loadScenario('steady');
      const options = { seed: 1, clients: 60, bugs: ['dropped-pushes' as const] };
      const inline = await runScenario(scenario, options);
      const threaded = await runScenario(scenario, { ...options, checkerThread: true });
      const noLoss = threaded.verdicts.find((v) => v.property === 'no-loss')!;
      expect(noLoss.verdict).toBe('fail');
      expect(noLoss.witness.length).toBeGreaterThan(0);
      expect(threaded.verdicts).toEqual(inline.verdicts);
      expect(threaded.traceHash).toBe(inline.traceHash);
      expect(threaded.exitCode).toBe(1);
    },
    simTimeoutMs,
  );

  it('the final state crosses as data: messages past lastSeq kept, unknown conversations empty', () => {
    const message = (conv: string, seq: number): Message =>
      ({ conv, seq, from: 'u1', cmid: `c${seq}`, body: `b${seq}`, ts: seq }) as unknown as Message;
    const held = new Map([
      ['d1-2', [message('d1-2', 1), message('d1-2', 2), message('d1-2', 3)]],
      ['g1', [] as Message[]],
    ]);
    const store = {
      // The store says lastSeq 2 but still answers seq 3 (a broken store): the columns keep it.
      lastSeq: (conv: string) => (conv === 'd1-2' ? 2 : 0),
      messageAt: (conv: string, seq: number) => held.get(conv)?.[seq - 1],
    };
    const columns = new StoredColumns();
    columns.add(structuredClone(encodeStored(['d1-2', 'g1'], store)));
    const final = finalFromSnapshot(
      { at: 10, conversations: ['d1-2', 'g1'], settledAt: 9 },
      { devices: [{ user: 'u1', device: 'u1-d1' }], online: new Set(['u1']) },
      columns,
    );
    expect(final.storedLastSeq('d1-2')).toBe(2);
    expect(final.storedMessage('d1-2', 3)).toEqual(message('d1-2', 3));
    expect(final.storedMessage('d1-2', 4)).toBeUndefined();
    expect(final.storedLastSeq('g1')).toBe(0);
    expect(final.storedLastSeq('nowhere')).toBe(0);
    expect(final.storedMessage('nowhere', 1)).toBeUndefined();
    expect([...final.conversations()]).toEqual(['d1-2', 'g1']);
    expect(final.online('u1')).toBe(true);
    expect(final.online('u2')).toBe(false);
    expect(final.settledAt).toBe(9);
  });

  it(
    'the store content crosses in parts, every part judged: gaps in the first and the last part are found',
    async () => {
      const scenario = loadScenario('steady');
      const convs = Array.from({ length: 10 }, (_, i) => `g${i}`);
      const message = (conv: string, seq: number): Message =>
        ({ conv, seq, from: 'u1', cmid: `c${seq}`, body: 'b', ts: seq }) as unknown as Message;
      // g0 (the first part) and g9 (the part the finish carries) lack seq 1 of 2: gaps in the store.
      const gapped = (conv: string) => conv === 'g0' || conv === 'g9';
      const stored = {
        convs,
        store: {
          lastSeq: (conv: string) => (gapped(conv) ? 2 : 1),
          messageAt: (conv: string, seq: number) =>
            seq === (gapped(conv) ? 2 : 1) ? message(conv, seq) : undefined,
        },
      };
      const snapshot = { at: 10, clients: noClients(), conversations: convs, stored, settledAt: 9 };
      // Parts of 3: g0 goes in the first `stored` message, g9 with the finish.
      const thread = new CheckerThread(
        { scenario, graceMs: 1000, largeGroupThreshold: 256, judgeSilence: true, meters: noMeters },
        3,
      );
      const { verdicts } = await thread.finish(snapshot);
      const gapFree = verdicts.find((v) => v.property === 'gap-free-store')!;
      expect(gapFree.verdict).toBe('fail');
      const problems = JSON.stringify(gapFree.witness);
      expect(problems).toContain('g0: the store');
      expect(problems).toContain('g9: the store');
      expect(problems).not.toContain('g5: the store');
    },
    simTimeoutMs,
  );

  it('a thread that cannot build its checkers fails the run, never passes it', async () => {
    // No scenario: the thread throws while building its checkers.
    const thread = new CheckerThread({
      scenario: {} as never,
      graceMs: 1000,
      largeGroupThreshold: 256,
      judgeSilence: true,
      meters: noMeters,
    });
    const stored = { convs: [], store: { lastSeq: () => 0, messageAt: () => undefined } };
    const snapshot = { at: 0, clients: noClients(), conversations: [], stored, settledAt: 0 };
    await expect(thread.finish(snapshot)).rejects.toThrow(/checker thread/);
  });
});
