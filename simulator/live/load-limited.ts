// Whether a live run's latencies measure the generators as much as the server (issue #6: "a run whose
// generators passed ~85% of their cores says in its verdict that its latencies are load-limited").
// A generator can be load-limited two ways: busy (its CPU near a whole core), or starved (the box's
// cores taken by others: its CPU share stays low, but its event loop waits seconds for a core). Either
// way a send goes out late and its ack is read late, and both count in the latency from the scheduled
// time. The 100,000-connection run had generators at 18% of a core on average with loops stalled 27 s.
// A third way: the box's cores are oversubscribed (the run's own node, driver and generators, or other
// work beside them), so every process of the run, the server's too, waits for a core in turns without
// any one of them stalling for seconds. Linux says how long (/proc/pressure/cpu, "some": the share of
// time at least one runnable task waited for a CPU); live large-group at load 5-8 had its node "busy"
// 65-98% of its active phase on half a core of CPU (docs/benchmarks.md, live10).

import { readFileSync } from 'node:fs';
import { liveLimits } from './limits.ts';

/** Why the run's latencies are load-limited, or null when no generator was busy or starved. */
export function loadLimitedBy(
  cpuShareMax: number,
  loopDelayMsMax: number,
  cpuPressure: number | null = null,
): string | null {
  const reasons: string[] = [];
  if (cpuShareMax > liveLimits.generatorCpuLoadLimited)
    reasons.push(`a generator used ${Math.round(cpuShareMax * 100)}% of its core`);
  if (loopDelayMsMax > liveLimits.generatorStallLoadLimitedMs)
    reasons.push(`a generator's event loop stalled ${(loopDelayMsMax / 1000).toFixed(1)} s`);
  if (cpuPressure !== null && cpuPressure > liveLimits.cpuPressureLoadLimited)
    reasons.push(
      `tasks waited for a CPU ${Math.round(cpuPressure * 100)}% of the run (/proc/pressure/cpu): the box's cores were oversubscribed`,
    );
  return reasons.length === 0 ? null : reasons.join('; ');
}

/** The "some" line of /proc/pressure/cpu: microseconds in which a runnable task waited for a CPU. */
export function cpuPressureTotalUs(text: string): number | null {
  const match = /^some .*\btotal=(\d+)/m.exec(text);
  return match ? Number(match[1]) : null;
}

/** Reads the box's CPU pressure counter; null where the kernel has no PSI (not Linux, or turned off). */
export function readCpuPressureUs(): number | null {
  try {
    return cpuPressureTotalUs(readFileSync('/proc/pressure/cpu', 'utf8'));
  } catch {
    return null;
  }
}

/** The share of `wallMs` in which a task waited for a CPU, from two counter readings (or null). */
export function cpuPressureShare(fromUs: number | null, toUs: number | null, wallMs: number): number | null {
  if (fromUs === null || toUs === null || !(wallMs > 0)) return null;
  return Math.min(1, Math.max(0, (toUs - fromUs) / (wallMs * 1000)));
}
