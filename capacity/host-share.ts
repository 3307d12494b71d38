// What the processes beside the nodes spent during a calibration (its load generators, the driver
// with its checkers, the fleet's Redis), fitted over the runs as cores spent whatever the load plus CPU
// per message sent, and recorded with the box's cores in the cost model (`host`). A simulated fleet
// then shares those cores with them (simulator/world/host-cpu.ts): three nodes, a Redis, a generator
// and a driver on 2 cores broke near 3,200-4,000 msgs/s here while a model with a core per node
// predicted no knee below 5,000 (docs/benchmarks.md).

import type { ProcessFigures } from '../simulator/live/process-sampler.ts';
import type { HostShare } from '../simulator/world/cost-model.ts';
import { solve } from './fit-cost-model.ts';

/** One calibration run as the others saw it: their CPU, the run's wall time, the messages sent. */
export type OthersRun = { cpuUs: number; wallMs: number; sends: number };

/**
 * The CPU of a run's processes other than the nodes: generators and services from /proc (started
 * for the run, so their CPU is the run's), the driver's from `driverCpuUs` (it lives across runs).
 * Null when nothing was sampled (no /proc): the host cannot be told.
 */
export function othersCpuUs(processes: readonly ProcessFigures[], driverCpuUs: number): number | null {
  const others = processes.filter((p) => p.kind === 'generator' || p.kind === 'service');
  if (others.length === 0) return null;
  return others.reduce((sum, p) => sum + p.cpuMs * 1000, driverCpuUs);
}

/** Names the others of a run's processes, as the model records them ('driver, 1 generator, redis'). */
export function othersNames(processes: readonly ProcessFigures[]): string {
  const generators = processes.filter((p) => p.kind === 'generator').length;
  const services = processes.filter((p) => p.kind === 'service').map((p) => p.name);
  return ['driver (checkers)', `${generators} generator${generators === 1 ? '' : 's'}`, ...services].join(
    ', ',
  );
}

/**
 * Least squares of `cpu = fixed × wall + perMessage × sends` over the runs (as the node's own CPU is
 * fitted, fit-cost-model.ts). A fit that is not physical keeps the one term that is: a negative fixed
 * part puts all of the CPU on the messages, a negative cost per message all of it on the wall time.
 */
export function fitHostShare(runs: readonly OthersRun[], cores: number, others: string): HostShare {
  const usable = runs.filter((r) => r.wallMs > 0 && r.cpuUs >= 0);
  if (usable.length === 0) throw new Error('fitHostShare: no run to fit');
  const cpu = usable.reduce((a, r) => a + r.cpuUs, 0);
  const wallUs = usable.reduce((a, r) => a + r.wallMs * 1000, 0);
  const sends = usable.reduce((a, r) => a + r.sends, 0);
  const allOnMessages = (): HostShare => ({
    cores,
    othersFixedCores: 0,
    othersUsPerMessage: round(sends > 0 ? cpu / sends : 0),
    others,
  });
  if (usable.length < 2) return allOnMessages();
  const rows = usable.map((r) => [r.wallMs * 1000, r.sends]);
  const normal = [0, 1].map((i) => [0, 1].map((j) => rows.reduce((a, row) => a + row[i]! * row[j]!, 0)));
  const vector = [0, 1].map((i) => usable.reduce((a, r, k) => a + rows[k]![i]! * r.cpuUs, 0));
  const [fixed, perMessage] = solve(normal, vector) as [number, number];
  if (fixed < 0 || !Number.isFinite(fixed)) return allOnMessages();
  if (perMessage < 0 || !Number.isFinite(perMessage))
    return { cores, othersFixedCores: round(cpu / wallUs), othersUsPerMessage: 0, others };
  return { cores, othersFixedCores: round(fixed), othersUsPerMessage: round(perMessage), others };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
