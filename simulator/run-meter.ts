// How fast and how big a run was: events per wall second and per CPU second, peak heap and RSS, and the
// share of the run spent in garbage collection. Measured from outside the simulation (process clocks,
// V8's GC profiler), so none of it can reach the trace hash; figures per CPU second hold up on a
// shared, loaded box where wall time does not.

import { readFileSync } from 'node:fs';
import { GCProfiler, getHeapStatistics } from 'node:v8';

export type RunPerf = {
  wallMs: number;
  /** User + system CPU time of the process during the run. */
  cpuMs: number;
  eventsPerSecond: number;
  eventsPerCpuSecond: number;
  /** Largest used V8 heap seen (before any collection, and at the end). */
  heapPeakBytes: number;
  /**
   * Largest heap V8 held from the OS (its spaces' committed size, the young generation's and the free
   * room in its pages included) around any collection, and at the end: what the heap puts in the RSS.
   */
  heapCommittedPeakBytes: number;
  /** The process's peak resident set size so far (the OS's own high-water mark). */
  rssPeakBytes: number;
  /**
   * Each phase's largest RSS as the memory watch sampled it (memory-watch.ts: about once a wall second,
   * and at each phase's end), in the run's order: setup, warmup, faults, heal, settle, then its end: the
   * final read, the crossing (the final state sent to the checker thread) and the judging (the wait for
   * the verdicts, or the checkers' final judgements in-process). Null when no watch looked.
   */
  rssByPhase: Record<string, number> | null;
  /** The phase of the largest of those samples: where the run peaks. Null when no watch looked. */
  rssPeakPhase: string | null;
  gcCount: number;
  gcMs: number;
  /** Time in GC pauses over the run's wall time: 0 ≤ gcShare < 1. */
  gcShare: number;
  /**
   * CPU time of the main thread alone (the world), where the OS says it (Linux's /proc): with the
   * checkers on their own thread, what bounds the wall time when a second core is free.
   */
  mainThreadCpuMs: number | null;
  /** Whether the checkers judged on a second thread (checker-thread.ts). */
  checkerThread: boolean;
  /** That thread's CPU time, where the OS says it: it bounds the wall time too. */
  checkerThreadCpuMs: number | null;
  /** That thread's own largest used V8 heap (a second heap, inside the process's RSS). */
  checkerThreadHeapPeakBytes: number | null;
  /** That thread's largest committed heap (see heapCommittedPeakBytes). */
  checkerThreadHeapCommittedPeakBytes: number | null;
  /** Wall time the world's thread stood blocked on a full pipe to that thread (it judged slower than the world ran). */
  checkerThreadBlockedMs: number | null;
  /** Wall time from the final snapshot's crossing to the verdicts (the world's thread waits for them). */
  checkerThreadFinishMs: number | null;
  /**
   * That thread's CPU time on the final state (its clients, the store's parts and every checker's final
   * judgement), where the OS says it: unlike the wait above, the box's load does not move it.
   */
  checkerThreadFinishCpuMs: number | null;
  /**
   * Of that CPU, each checker's final judgement (`finish`), by property, in the order they ran (10 ms
   * ticks): where the finish goes, without a probe.
   */
  checkerThreadFinishCpuByCheckerMs: Record<string, number> | null;
  /** That thread's GC pauses on the final state (from the clients' arrival to the verdicts). */
  checkerThreadFinishGcMs: number | null;
  /** That thread's collections over the whole run, and their pauses (its young generation is its own). */
  checkerThreadGcCount: number | null;
  checkerThreadGcMs: number | null;
};

/** What the checker thread measured of itself (checker-thread-worker.ts). */
export type CheckerThreadPerf = {
  cpuMs: number | null;
  heapPeakBytes: number;
  heapCommittedPeakBytes: number;
  /** CPU time on the final state (see RunPerf). */
  finishCpuMs: number | null;
  /** Each checker's `finish`, by property (see RunPerf). */
  finishCpuByCheckerMs: Record<string, number> | null;
  /** GC pauses on the final state (see RunPerf). */
  finishGcMs: number | null;
  /** Collections over the whole run, and their pauses (see RunPerf). */
  gcCount: number;
  gcMs: number;
  /** Measured on the world's side (checker-thread.ts): see RunPerf. */
  blockedMs?: number;
  finishMs?: number;
};

/** What the memory watch saw, phase by phase (memory-watch.ts). */
export type RssByPhase = { rssByPhase(): Record<string, number>; rssPeakPhase(): string | null };

export type RunMeter = {
  /** `thread`: undefined when the checkers judged in-process. `memory`: the run's watch, if it had one. */
  finish(events: number, thread?: CheckerThreadPerf, memory?: RssByPhase): RunPerf;
};

export function startRunMeter(): RunMeter {
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  const mainStart = threadCpuMs();
  const profiler = new GCProfiler();
  profiler.start();
  return {
    finish(events: number, thread?: CheckerThreadPerf, memory?: RssByPhase): RunPerf {
      const mainNow = threadCpuMs();
      const gc = profiler.stop();
      const wallMs = Math.max(performance.now() - wallStart, 0.001);
      const cpu = process.cpuUsage(cpuStart);
      const cpuMs = Math.max((cpu.user + cpu.system) / 1000, 0.001);
      const gcMs = gcMicrosOf(gc) / 1000;
      const heap = heapPeaksOf(gc);
      return {
        wallMs: Math.round(wallMs),
        cpuMs: Math.round(cpuMs),
        eventsPerSecond: Math.round(events / (wallMs / 1000)),
        eventsPerCpuSecond: Math.round(events / (cpuMs / 1000)),
        heapPeakBytes: heap.usedBytes,
        heapCommittedPeakBytes: heap.committedBytes,
        rssPeakBytes: process.resourceUsage().maxRSS * 1024,
        rssByPhase: memory?.rssByPhase() ?? null,
        rssPeakPhase: memory?.rssPeakPhase() ?? null,
        gcCount: gc?.statistics.length ?? 0,
        gcMs: Math.round(gcMs),
        gcShare: Math.min(gcMs / wallMs, 0.999),
        mainThreadCpuMs: mainNow === null || mainStart === null ? null : mainNow - mainStart,
        checkerThread: thread !== undefined,
        checkerThreadCpuMs: thread?.cpuMs ?? null,
        checkerThreadHeapPeakBytes: thread?.heapPeakBytes ?? null,
        checkerThreadHeapCommittedPeakBytes: thread?.heapCommittedPeakBytes ?? null,
        checkerThreadBlockedMs: thread?.blockedMs === undefined ? null : Math.round(thread.blockedMs),
        checkerThreadFinishMs: thread?.finishMs === undefined ? null : Math.round(thread.finishMs),
        checkerThreadFinishCpuMs: thread?.finishCpuMs ?? null,
        checkerThreadFinishCpuByCheckerMs: thread?.finishCpuByCheckerMs ?? null,
        checkerThreadFinishGcMs: thread?.finishGcMs ?? null,
        checkerThreadGcCount: thread?.gcCount ?? null,
        checkerThreadGcMs: thread?.gcMs ?? null,
      };
    },
  };
}

/** One line for people: `2.1 M events, 160 k events/s (210 k per CPU-s), heap peak 1.2 GiB, ...`. */
export function perfLine(events: number, perf: RunPerf): string {
  return `${events} events in ${(perf.wallMs / 1000).toFixed(1)} s wall, ${(perf.cpuMs / 1000).toFixed(1)} s CPU: ${perf.eventsPerSecond} events/s wall, ${perf.eventsPerCpuSecond} per CPU-s; peak heap ${gib(perf.heapPeakBytes)} (${gib(perf.heapCommittedPeakBytes)} committed), peak RSS ${gib(perf.rssPeakBytes)}${perf.rssPeakPhase === null ? '' : ` (sampled at its largest in the ${perf.rssPeakPhase}: ${gib(perf.rssByPhase![perf.rssPeakPhase]!)})`}; GC ${(perf.gcShare * 100).toFixed(1)}% of the run (${perf.gcCount} collections, ${(perf.gcMs / 1000).toFixed(1)} s)${perf.checkerThread ? `; checkers on a second thread${perf.mainThreadCpuMs === null || perf.checkerThreadCpuMs === null ? '' : ` (CPU: ${(perf.mainThreadCpuMs / 1000).toFixed(1)} s the world's thread, ${(perf.checkerThreadCpuMs / 1000).toFixed(1)} s the checkers')`}${perf.checkerThreadHeapPeakBytes === null ? '' : `, its peak heap ${gib(perf.checkerThreadHeapPeakBytes)}${perf.checkerThreadHeapCommittedPeakBytes === null ? '' : ` (${gib(perf.checkerThreadHeapCommittedPeakBytes)} committed)`}`}${perf.checkerThreadBlockedMs === null ? '' : `; the world blocked ${(perf.checkerThreadBlockedMs / 1000).toFixed(1)} s on it, and waited ${((perf.checkerThreadFinishMs ?? 0) / 1000).toFixed(1)} s for its verdicts${perf.checkerThreadFinishCpuMs === null ? '' : ` (${(perf.checkerThreadFinishCpuMs / 1000).toFixed(1)} s of its CPU)`}`}` : ''}`;
}

type GcProfile = ReturnType<GCProfiler['stop']>;

/** GC pauses in `gc`'s span, in microseconds. */
export function gcMicrosOf(gc: GcProfile): number {
  let micros = 0;
  for (const entry of gc?.statistics ?? []) micros += entry.cost;
  return micros;
}

export type HeapPeaks = { usedBytes: number; committedBytes: number };

/**
 * The largest used and committed heap of the calling thread's isolate: around any collection, and now.
 * Committed is what V8 holds from the OS (used, the free room in its pages, the young generation's
 * spaces): the used peak alone leaves a large part of the RSS unexplained.
 */
export function heapPeaksOf(gc: GcProfile): HeapPeaks {
  const now = getHeapStatistics();
  let usedBytes = now.used_heap_size;
  let committedBytes = now.total_heap_size;
  for (const entry of gc?.statistics ?? []) {
    usedBytes = Math.max(usedBytes, entry.beforeGC.heapStatistics.usedHeapSize);
    committedBytes = Math.max(
      committedBytes,
      entry.beforeGC.heapStatistics.totalHeapSize,
      entry.afterGC.heapStatistics.totalHeapSize,
    );
  }
  return { usedBytes, committedBytes };
}

/** The larger of two peaks, field by field. */
export function maxHeapPeaks(a: HeapPeaks, b: HeapPeaks): HeapPeaks {
  return {
    usedBytes: Math.max(a.usedBytes, b.usedBytes),
    committedBytes: Math.max(a.committedBytes, b.committedBytes),
  };
}

/** The calling thread's user + system time from /proc (clock ticks of 10 ms), or null off Linux. */
export function threadCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

function gib(bytes: number): string {
  return bytes >= 1024 ** 3
    ? `${(bytes / 1024 ** 3).toFixed(2)} GiB`
    : `${Math.round(bytes / 1024 ** 2)} MiB`;
}
