// How fast and how big a run was: events per wall second and per CPU second, peak heap and RSS, and the
// share of the run spent in garbage collection. Measured from outside the simulation (process clocks,
// V8's GC profiler), so none of it can reach the trace hash; figures per CPU second hold up on a
// shared, loaded box where wall time does not.

import { GCProfiler } from 'node:v8';

export type RunPerf = {
  wallMs: number;
  /** User + system CPU time of the process during the run. */
  cpuMs: number;
  eventsPerSecond: number;
  eventsPerCpuSecond: number;
  /** Largest used V8 heap seen (before any collection, and at the end). */
  heapPeakBytes: number;
  /** The process's peak resident set size so far (the OS's own high-water mark). */
  rssPeakBytes: number;
  gcCount: number;
  gcMs: number;
  /** Time in GC pauses over the run's wall time: 0 ≤ gcShare < 1. */
  gcShare: number;
};

export type RunMeter = { finish(events: number): RunPerf };

export function startRunMeter(): RunMeter {
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  const profiler = new GCProfiler();
  profiler.start();
  return {
    finish(events: number): RunPerf {
      const gc = profiler.stop();
      const wallMs = Math.max(performance.now() - wallStart, 0.001);
      const cpu = process.cpuUsage(cpuStart);
      const cpuMs = Math.max((cpu.user + cpu.system) / 1000, 0.001);
      let gcMicros = 0;
      let heapPeakBytes = process.memoryUsage().heapUsed;
      for (const entry of gc?.statistics ?? []) {
        gcMicros += entry.cost;
        heapPeakBytes = Math.max(heapPeakBytes, entry.beforeGC.heapStatistics.usedHeapSize);
      }
      const gcMs = gcMicros / 1000;
      return {
        wallMs: Math.round(wallMs),
        cpuMs: Math.round(cpuMs),
        eventsPerSecond: Math.round(events / (wallMs / 1000)),
        eventsPerCpuSecond: Math.round(events / (cpuMs / 1000)),
        heapPeakBytes,
        rssPeakBytes: process.resourceUsage().maxRSS * 1024,
        gcCount: gc?.statistics.length ?? 0,
        gcMs: Math.round(gcMs),
        gcShare: Math.min(gcMs / wallMs, 0.999),
      };
    },
  };
}

/** One line for people: `2.1 M events, 160 k events/s (210 k per CPU-s), heap peak 1.2 GiB, ...`. */
export function perfLine(events: number, perf: RunPerf): string {
  return `${events} events in ${(perf.wallMs / 1000).toFixed(1)} s wall, ${(perf.cpuMs / 1000).toFixed(1)} s CPU: ${perf.eventsPerSecond} events/s wall, ${perf.eventsPerCpuSecond} per CPU-s; peak heap ${gib(perf.heapPeakBytes)}, peak RSS ${gib(perf.rssPeakBytes)}; GC ${(perf.gcShare * 100).toFixed(1)}% of the run (${perf.gcCount} collections, ${(perf.gcMs / 1000).toFixed(1)} s)`;
}

function gib(bytes: number): string {
  return bytes >= 1024 ** 3
    ? `${(bytes / 1024 ** 3).toFixed(2)} GiB`
    : `${Math.round(bytes / 1024 ** 2)} MiB`;
}
