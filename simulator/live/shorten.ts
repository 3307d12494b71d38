// A scenario made shorter for the live gate and the tests: the faults phase scaled to `faultsMs`,
// every fault's start and duration scaled with it (so the timeline keeps its shape), warm-up and
// heal capped; fewer clients shrink large groups with them (scale-clients.ts). The settle window (liveness) is kept: real servers need real time to converge.

import type { Scenario } from '../../scenarios/scenario.ts';
import { scaleClients } from '../scale-clients.ts';

export type Shortening = { faultsMs: number; warmupMs?: number; healMs?: number; clients?: number };

export function shortenScenario(scenario: Scenario, to: Shortening): Scenario {
  const factor = scenario.phases.faultsMs === 0 ? 1 : to.faultsMs / scenario.phases.faultsMs;
  const scale = (ms: number) => Math.max(1, Math.round(ms * factor));
  const scaled = scaleClients(
    scenario,
    Math.min(to.clients ?? scenario.clients.count, scenario.clients.count),
  );
  return {
    ...scaled,
    phases: {
      ...scenario.phases,
      warmupMs: Math.min(scenario.phases.warmupMs, to.warmupMs ?? 3000),
      faultsMs: to.faultsMs,
      healMs: Math.min(scenario.phases.healMs, to.healMs ?? 2000),
    },
    faults: scenario.faults.map((fault) => ({
      ...fault,
      atMs: scale(fault.atMs),
      ...(fault.durationMs === undefined ? {} : { durationMs: scale(fault.durationMs) }),
    })),
  };
}
