// `chatsim capacity <scenario> --calibrate`: measures what each kind of core step costs the live
// reference server. Each load step is an ordinary live run (no faults) against a fresh target of
// `serve --cost-meter` nodes (one on its log, or a fleet over Redis, where bus steps and publishes
// happen); the meter's sums of every node and run are added and fitted (fit-cost-model.ts)
// into a cost model the simulator runs with (scenarios/cost-model/). The model says how, when and
// where it was measured, and what the box's load was: costs measured on a busy box are slower.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { CostMeterReading } from '../reference-server/runtime/cost-meter.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import type { LiveFleet } from '../simulator/live/fleet.ts';
import type { RunSummary } from '../simulator/run-scenario.ts';
import type { HostShare } from '../simulator/world/cost-model.ts';
import { stepScenario } from './capacity-sweep.ts';
import { addReadings, type CostFit, cpuRun, fitCostModel } from './fit-cost-model.ts';
import { fitHostShare, type OthersRun, othersCpuUs, othersNames } from './host-share.ts';

export type CalibrateOptions = {
  seed: number;
  clients: number;
  /** msgs/s of each calibration run (different loads give the fit different mixes of fan-out). */
  rates: number[];
  stepMs: number;
  name: string;
  /** The command line that made the model, recorded in it. */
  command: string;
  /** Nodes of the target (1: the embedded log; more: a fleet over Redis, each node metered). */
  nodes: number;
  /** A fresh target whose node(s) run `serve --cost-meter <meterFile>` (`{node}` in it: the node's number). */
  target: (meterFile: string) => Promise<{ fleet: LiveFleet; secret: string }>;
  run: (
    scenario: Scenario,
    options: { seed: number; clients: number; fleet: LiveFleet; secret: string },
  ) => Promise<RunSummary>;
  log?: (line: string) => void;
};

export type CalibrationRun = {
  offeredMsgsPerSec: number;
  ackedPerSec: number;
  exitCode: number;
  eluActiveShare: number;
  steps: number;
  /** The node's totals (every node's, added, on a fleet): what the CPU fit is made of. */
  cpuUs: number;
  /** What the processes beside the nodes spent (generators, driver, Redis), null if not sampled. */
  othersCpuUs: number | null;
  wallMs: number;
  meteredMs: number;
  spanUs: number;
  /** Every process's CPU over the box's cores during the run (/proc/stat), null where not readable. */
  boxBusyShare: number | null;
};

export type Calibration = CostFit & {
  runs: CalibrationRun[];
  loadAverage: number[];
  /**
   * Where the box runs out of CPU by the fits alone (with a host and a regression): its cores less the
   * others' fixed CPU and every node's, over what a message costs the nodes and the others together.
   */
  boxSaturationMsgsPerSec: number | null;
};

/** The box's CPU counters (/proc/stat's first line, in ticks): busy and total. Null off Linux. */
export function boxCpuTicks(stat?: string): { busy: number; total: number } | null {
  let text = stat;
  if (text === undefined)
    try {
      text = readFileSync('/proc/stat', 'utf8');
    } catch {
      return null;
    }
  const line = text.split('\n', 1)[0] ?? '';
  const fields = line.trim().split(/\s+/);
  if (fields[0] !== 'cpu') return null;
  // user nice system idle iowait irq softirq steal (guest time is counted within user already).
  const ticks = fields.slice(1, 9).map(Number);
  if (ticks.length < 5 || ticks.some((t) => !Number.isFinite(t))) return null;
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = ticks[3]! + ticks[4]!;
  return { busy: total - idle, total };
}

/** How busy the box was between two readings of boxCpuTicks (0..1), null if either is missing. */
export function boxBusyShareBetween(
  before: { busy: number; total: number } | null,
  after: { busy: number; total: number } | null,
): number | null {
  if (before === null || after === null || after.total <= before.total) return null;
  return (after.busy - before.busy) / (after.total - before.total);
}

/**
 * The box's saturation by the fits: cores − others' fixed − nodes × fixed, over (the nodes' CPU per
 * message + the others'). Null without a host or a regression.
 */
export function boxSaturation(fit: CostFit, nodes: number, host: HostShare | undefined): number | null {
  if (host === undefined || fit.cpuFit.method !== 'regression') return null;
  const left = host.cores - host.othersFixedCores - nodes * fit.cpuFit.measuredFixedCpuShare;
  const perMessageUs = fit.cpuFit.sendUs + host.othersUsPerMessage;
  if (!(left > 0) || !(perMessageUs > 0)) return null;
  return Math.round((left * 1e6) / perMessageUs);
}

export async function calibrate(scenario: Scenario, options: CalibrateOptions): Promise<Calibration> {
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'chatsim-calibrate-'));
  const readings: CostMeterReading[] = [];
  const runs: CalibrationRun[] = [];
  const othersRuns: OthersRun[] = [];
  let others = '';
  const loadAverage = loadavg();
  try {
    for (const [index, rate] of options.rates.entries()) {
      const meterFile = join(dir, `run-${index}-n{node}.json`);
      const stepped = stepScenario(scenario, options.clients, rate, options.stepMs);
      const { fleet, secret } = await options.target(meterFile);
      const driverCpu = process.cpuUsage();
      const boxBefore = boxCpuTicks();
      const summary = await options.run(stepped, {
        seed: options.seed + index,
        clients: options.clients,
        fleet,
        secret,
      });
      // Each node wrote its last reading when it drained (runLive stops the fleet before it returns).
      const perNode = Array.from(
        { length: options.nodes },
        (_, node) =>
          JSON.parse(readFileSync(meterFile.replace('{node}', String(node + 1)), 'utf8')) as CostMeterReading,
      );
      const reading = addReadings(perNode);
      readings.push(reading);
      const driverUsed = process.cpuUsage(driverCpu);
      const boxBusyShare = boxBusyShareBetween(boxBefore, boxCpuTicks());
      const processes = summary.live?.processes ?? [];
      const othersUs = othersCpuUs(processes, driverUsed.user + driverUsed.system);
      if (othersUs !== null) {
        othersRuns.push({ cpuUs: othersUs, wallMs: summary.wallMs, sends: cpuRun(reading).sends });
        others = othersNames(processes);
      }
      const { warmupMs, faultsMs, healMs } = stepped.phases;
      const run: CalibrationRun = {
        offeredMsgsPerSec: rate,
        ackedPerSec: summary.messages.acked / ((warmupMs + faultsMs + healMs) / 1000),
        exitCode: summary.exitCode,
        // Per node: the readings' windows add up across nodes as their busy times do.
        eluActiveShare: reading.meteredMs > 0 ? reading.eluActiveMs / reading.meteredMs : 0,
        steps: reading.steps.reduce((a, b) => a + b, 0),
        ...cpuRun(reading),
        othersCpuUs: othersUs,
        wallMs: summary.wallMs,
        boxBusyShare,
      };
      runs.push(run);
      log(
        `calibration run ${index + 1}/${options.rates.length}: ${rate} msgs/s offered, ${round(run.ackedPerSec)} acked/s, ${run.steps} steps metered, event loop busy ${Math.round(run.eluActiveShare * 100)}%, CPU ${Math.round(run.cpuUs / 10 / run.meteredMs)}% of a core over ${round(run.meteredMs / 1000)} s, spans ${Math.round(run.spanUs / 10 / run.meteredMs)}%${othersUs === null ? '' : `; beside the nodes ${others}: ${Math.round(othersUs / 10 / summary.wallMs)}% of a core over ${round(summary.wallMs / 1000)} s`}${boxBusyShare === null ? '' : `; the box ${Math.round(boxBusyShare * 100)}% busy`}, exit ${run.exitCode}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const cpu = cpus();
  const fit = fitCostModel(
    addReadings(readings),
    {
      name: options.name,
      command: options.command,
      date: new Date().toISOString(),
      machine: `${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown cpu'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average ${loadAverage.map((l) => l.toFixed(1)).join(' ')} at the start`,
      note: `${options.nodes === 1 ? 'one node, the log store on local disk' : `${options.nodes} nodes over one Redis (each metered; costs are per node)`}; ${scenario.name} at ${options.clients} clients, ${options.rates.join(', ')} msgs/s, ${options.stepMs / 1000} s each. Costs are CPU time per step: process CPU fitted over the runs as a fixed share of a core (fixedCpuShare, kept apart) plus a cost per message, the rest spread over the steps by their timed spans`,
    },
    // On a fleet a run's reading adds its nodes' wall times as it adds their CPU: the fixed share is per node.
    readings,
    runs.map((r) => r.boxBusyShare),
  );
  // Every run sampled the others (Linux): the model carries the box they shared with the nodes.
  const host =
    othersRuns.length === runs.length && runs.length > 0
      ? fitHostShare(othersRuns, cpu.length, others)
      : undefined;
  return {
    ...fit,
    model: host === undefined ? fit.model : { ...fit.model, host },
    runs,
    loadAverage,
    boxSaturationMsgsPerSec: boxSaturation(fit, options.nodes, host),
  };
}

/** The cost model file: the model, then what the calibration saw (for the reader; not used to cost). */
export function costModelFile(calibration: Calibration): string {
  const {
    model,
    runs,
    scale,
    cpuFit,
    cpuShareWhileBusy,
    steps,
    kinds,
    loadAverage,
    boxSaturationMsgsPerSec,
  } = calibration;
  return `${JSON.stringify(
    {
      $comment:
        'Written by chatsim capacity --calibrate (see measured.command): CPU time per core step of the reference server, µs, what a node with a core of its own spends; fixedCpuShare: the share of a core it spends whatever its load (fitted over the runs with a cost per message, calibration.cpuFit), which steps do not get. calibration.cpuShareWhileBusy is the share of a core the node got on the calibrating box (capacity --sim --cpu-share). Re-run it on your machine rather than editing by hand.',
      ...model,
      calibration: {
        steps,
        scale,
        cpuFit,
        cpuShareWhileBusy,
        boxSaturationMsgsPerSec,
        loadAverage,
        runs,
        kinds,
      },
    },
    null,
    2,
  )}\n`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
