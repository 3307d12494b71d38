// Whether a live run's latencies measure the generators as much as the server (issue #6: "a run whose
// generators passed ~85% of their cores says in its verdict that its latencies are load-limited").
// A generator can be load-limited two ways: busy (its CPU near a whole core), or starved (the box's
// cores taken by others: its CPU share stays low, but its event loop waits seconds for a core). Either
// way a send goes out late and its ack is read late, and both count in the latency from the scheduled
// time. The 100,000-connection run had generators at 18% of a core on average with loops stalled 27 s.

import { liveLimits } from './limits.ts';

/** Why the run's latencies are load-limited, or null when no generator was busy or starved. */
export function loadLimitedBy(cpuShareMax: number, loopDelayMsMax: number): string | null {
  const reasons: string[] = [];
  if (cpuShareMax > liveLimits.generatorCpuLoadLimited)
    reasons.push(`a generator used ${Math.round(cpuShareMax * 100)}% of its core`);
  if (loopDelayMsMax > liveLimits.generatorStallLoadLimitedMs)
    reasons.push(`a generator's event loop stalled ${(loopDelayMsMax / 1000).toFixed(1)} s`);
  return reasons.length === 0 ? null : reasons.join('; ');
}
