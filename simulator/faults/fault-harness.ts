// A small world for the fault tests: a short run of a few dozen clients with one fault, recording
// every history event and the fault's start and heal times. Tests assert on what clients and the
// store observably did (acks, displays, sessions, durable writes), never on the world's internals,
// so they hold however the world is built.

import type { FileSystem } from '../../reference-server/store/file-system.ts';
import { LogStore } from '../../reference-server/store/log-store.ts';
import { type FrameRead, readFrame } from '../../reference-server/store/record-codec.ts';
import { validateScenario } from '../../scenarios/scenario.ts';
import type { HistoryEvent } from '../history.ts';
import { type RunOptions, type RunSummary, runScenario } from '../run-scenario.ts';

export type FaultRun = {
  summary: RunSummary;
  events: HistoryEvent[];
  /** When the fault started and healed (virtual ms); heal is the start for faults that act once. */
  start: number;
  heal: number;
  of<K extends HistoryEvent['k']>(k: K, from?: number, to?: number): Extract<HistoryEvent, { k: K }>[];
};

/** Phases of the small world: 2 s warm-up, then the fault at the start of a 6 s faults phase. */
export const smallPhases = { warmupMs: 2000, faultsMs: 6000, healMs: 1000, settleMaxMs: 30_000 };

/**
 * Runs `fault` (null: no fault, the control) in a small world; `scenario` overrides the defaults
 * (40 clients, the steady workload, no SLO thresholds: the tests judge the fault's effect).
 */
/** A whole small run on a shared 2-core box: generous, never a wall-clock assertion. */
export const faultRunTimeoutMs = 600_000;

export async function runFault(
  fault: Record<string, unknown> | readonly Record<string, unknown>[] | null,
  scenario: Record<string, unknown> = {},
  seed = 1,
  /** Run options beyond the seed and recorder (a deliberately broken store, say). */
  options: Omit<RunOptions, 'seed' | 'recorder'> = {},
): Promise<FaultRun> {
  const value = {
    clients: { count: 40 },
    phases: smallPhases,
    thresholds: { ackLatency: [], failedSends: [] },
    ...scenario,
    faults: fault === null ? [] : Array.isArray(fault) ? fault : [fault],
  };
  const events: HistoryEvent[] = [];
  const summary = await runScenario(validateScenario(value, 'fault-test.json', 'fault-test'), {
    ...options,
    seed,
    recorder: { observe: (event) => events.push(event), tick: () => {} },
  });
  const windows = events.filter((e): e is Extract<HistoryEvent, { k: 'fault' }> => e.k === 'fault');
  const first = windows.find((w) => w.phase === 'start');
  const start = first?.at ?? Number.NaN;
  // The fault's own heal (a fault may note steps of its own, e.g. each node's drain-restart).
  const heal = windows.find((w) => w.phase === 'heal' && w.type === first?.type)?.at ?? start;
  const run: FaultRun = {
    summary,
    events,
    start,
    heal,
    of: (k, from = Number.NEGATIVE_INFINITY, to = Number.POSITIVE_INFINITY) =>
      events.filter((e) => e.k === k && e.at >= from && e.at < to) as never,
  };
  return run;
}

/** The verdicts that failed, as `property: details`, for an assertion that shows why. */
/** A fleet of three nodes on a shared store, busy enough that every node's store link carries traffic. */
export const sharedStoreFleet = {
  topology: { nodes: 3 },
  clients: { count: 60 },
  workload: { ratePer1kClients: 1500 },
};

/** Ack latency (from the send) of the sends made in [from, to) that were acked. */
export function ackLatencies(run: FaultRun, from: number, to: number): number[] {
  const acked = new Map(run.of('ack').map((e) => [`${e.device}/${e.cmid}`, e.at]));
  return run
    .of('send', from, to)
    .map((send) => (acked.get(`${send.device}/${send.cmid}`) ?? Number.NaN) - send.at)
    .filter((ms) => !Number.isNaN(ms));
}

export function failedVerdicts(run: FaultRun): string[] {
  return run.summary.verdicts
    .filter((v) => v.verdict === 'fail' || v.verdict === 'unknown')
    .map((v) => `${v.property}: ${v.details}`);
}

export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/**
 * Sends never acked, as `device cmid` keys, but not those a leaver abandoned: leavers leave at settle
 * (reason `client`) with their outbox, and a client that backs off after a fault may not have retried
 * by then.
 */
export function unackedSends(run: FaultRun): Extract<HistoryEvent, { k: 'send' }>[] {
  const key = (e: { device: string; cmid: string }) => `${e.device}\u0000${e.cmid}`;
  const acked = new Set(run.of('ack').map(key));
  const left = leavers(run);
  return run.of('send').filter((e) => !acked.has(key(e)) && !left.has(e.user));
}

/**
 * The users who left at settle for good (the workload's leavers leave as whole users; a device that
 * was offline then has no session-lost of its own, so this is per user).
 */
export function leavers(run: FaultRun): Set<string> {
  return new Set(
    run
      .of('session-lost')
      .filter((e) => e.reason === 'client')
      .map((e) => e.user),
  );
}

/**
 * Run options for a deliberately broken log store: its recovery reads each segment file through
 * `visit`, called with each whole frame at its start (in order, on a copy it may change in place) and
 * then with the tail past the last one (`frame` null); a visit may throw, as a recovery that failed.
 */
export function recoveryReadingSegments(
  visit: (data: Buffer, offset: number, frame: Extract<FrameRead, { ok: true }> | null) => void,
): Pick<RunOptions, 'logStore'> {
  const wrap = (fs: FileSystem): FileSystem => ({
    ...fs,
    readFile: async (path) => {
      const read = await fs.readFile(path);
      if (read === null || !path.endsWith('.seg')) return read;
      const data = Buffer.from(read);
      let offset = 0;
      for (
        let frame = readFrame(data, 0, data.length);
        frame.ok;
        frame = readFrame(data, offset, data.length)
      ) {
        visit(data, offset, frame);
        offset = frame.end;
      }
      visit(data, offset, null);
      return data;
    },
  });
  return {
    logStore: (options) => new LogStore({ ...options, policies: { ...options.policies, recoveryFs: wrap } }),
  };
}
