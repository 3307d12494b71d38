// Judges that a node told to drain stops once its connections are gone: protocol.md's `drain` says the
// node is shutting down, and a graceful stop (SIGTERM, a rolling restart's turn) that waits out its whole
// drain timeout with no client left holds a deploy up that long on every node (mutant 0 of the 3c0f288
// sample: a core that never reported `drained` was caught only by crash-restart's ack-latency SLO).
// What it expects comes from the harness: the drain's start (`drain-restart`), the sessions it saw
// open on that node then or opened after, each one's end as its device saw it (`session-lost`), and the
// node's stop (`node-stop`, or none by the run's end). A node whose sessions have all ended must stop
// within drainStopMs of the last end (or of the drain, when none was open): the store operations the
// node still waits for take milliseconds on a quiet store. A drain with a session the harness never saw
// end, or with another fault open (or a store, bus or disk fault healed shortly before), is not judged;
// a run that declared a rolling restart and judged no drain says so: unknown, not pass.

import type { Checker, CheckResult, FinalState, HistoryEventOf, HistoryKind } from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { WitnessList } from './witness-list.ts';

export const drainStopProperty = 'drain-stop';

/** How long after its last session ended (or its drain began) a draining node may take to stop. */
export const drainStopMs = 2000;
/**
 * How long before a drain a fault on anything but the node's own process may still hold up what the
 * node waits for (a store request sent while its store was away): such a drain is not judged.
 */
export const drainStopFaultLingerMs = 30_000;

/** The faults of the roll itself. */
const rollFaults: ReadonlySet<string> = new Set(['rolling-restart', 'drain-restart']);
/**
 * Faults that end with a fresh process: nothing of theirs is waited for after their heal. A torn write
 * crashes the store's machine and restarts it (by its heal at the latest).
 */
const processFaults: ReadonlySet<string> = new Set([
  'node-crash',
  'crash-during-recovery',
  'disk-torn-write',
]);

/** The kinds of event this checker reads (checker-feed.ts feeds it those only). */
const kinds = ['fault', 'session', 'session-lost', 'node-stop'] as const satisfies readonly HistoryKind[];

type Drain = {
  node: string;
  at: number;
  /** Devices (`user/device`) with a session on the node since the drain began, not yet ended. */
  open: Set<string>;
  /** When the last of its sessions ended (the drain's start if none). */
  lastEnd: number;
  /** A fault that may hold the drain up, if one was open during it or shortly before. */
  disturbed: string | null;
};

export function createDrainStopChecker(options: CheckerOptions = {}): Checker {
  const { limits } = resolveCheckerOptions(options);
  const witness = new WitnessList(limits.witnessCasesMax);
  /** The node of each device's open session. */
  const sessionNode = new Map<string, string>();
  /** Other faults open now, by type, with how many. */
  const open = new Map<string, number>();
  /** When a fault that may linger last healed. */
  let lingeringHealAt = Number.NEGATIVE_INFINITY;
  let lingeringType = '';
  const drains = new Map<string, Drain>();
  let declared = 0;
  let started = 0;
  let judged = 0;
  /** The longest a judged node took to stop after its last session ended. */
  let slowestMs = 0;
  const notJudged: string[] = [];

  const disturbance = (at: number): string | null => {
    for (const [type, count] of open) if (count > 0) return type;
    return at - lingeringHealAt <= drainStopFaultLingerMs ? lingeringType : null;
  };

  const judge = (drain: Drain, stopAt: number | null, killed: boolean, endAt: number): void => {
    drains.delete(drain.node);
    const at = stopAt ?? endAt;
    const skip = (why: string): void => {
      notJudged.push(`${drain.node}@${drain.at}: ${why}`);
    };
    if (drain.disturbed !== null) return skip(`${drain.disturbed} open or just healed`);
    if (drain.open.size > 0) return skip(`${drain.open.size} sessions never seen to end`);
    const waited = at - drain.lastEnd;
    if (waited <= drainStopMs) {
      if (stopAt === null) return skip('the run ended within the bound');
      judged++;
      slowestMs = Math.max(slowestMs, waited);
      return;
    }
    judged++;
    witness.add(stopAt === null ? 'drained node never stopped' : 'drained node stopped late', () => ({
      problem:
        `${drain.node} was told to drain at ${drain.at} and its last session ended at ${drain.lastEnd}, ` +
        (stopAt === null
          ? `yet it had not stopped by the run's end (${endAt}), ${Math.round(waited)} ms later`
          : `yet it stopped only at ${stopAt}, ${Math.round(waited)} ms later${killed ? ', killed when its drain ran out of time' : ''}`) +
        ` (at most ${drainStopMs} ms: with no client left, a draining node has nothing to wait for but its store)`,
      path: [
        { k: 'fault', at: drain.at, type: 'drain-restart', phase: 'start', nodes: [drain.node] },
        ...(stopAt === null ? [] : [{ k: 'node-stop', at: stopAt, node: drain.node, killed }]),
      ],
    }));
  };

  return {
    property: drainStopProperty,
    kinds,
    violationsSoFar: () => witness.count,
    observe(event: HistoryEventOf<(typeof kinds)[number]>): void {
      switch (event.k) {
        case 'session': {
          const key = `${event.user}/${event.device}`;
          const node = event.node ?? '';
          sessionNode.set(key, node);
          drains.get(node)?.open.add(key);
          return;
        }
        case 'session-lost': {
          const key = `${event.user}/${event.device}`;
          const node = sessionNode.get(key);
          sessionNode.delete(key);
          const drain = node === undefined ? undefined : drains.get(node);
          if (drain?.open.delete(key)) drain.lastEnd = Math.max(drain.lastEnd, event.at);
          return;
        }
        case 'node-stop': {
          const drain = drains.get(event.node);
          if (drain !== undefined) judge(drain, event.at, event.killed, event.at);
          return;
        }
        case 'fault': {
          if (event.type === 'rolling-restart') {
            if (event.phase === 'start') declared++;
            return;
          }
          if (event.type === 'drain-restart') {
            const node = event.nodes?.[0] ?? '';
            if (event.phase === 'start') {
              started++;
              const sessions = new Set<string>();
              for (const [key, on] of sessionNode) if (on === node) sessions.add(key);
              drains.set(node, {
                node,
                at: event.at,
                open: sessions,
                lastEnd: event.at,
                disturbed: disturbance(event.at),
              });
            } else {
              // Its turn ended with no stop of the harness's: the node died meanwhile (another fault).
              const drain = drains.get(node);
              if (drain !== undefined) {
                drains.delete(node);
                notJudged.push(`${node}@${drain.at}: it went down by another fault`);
              }
            }
            return;
          }
          if (rollFaults.has(event.type)) return;
          if (event.phase === 'start') {
            open.set(event.type, (open.get(event.type) ?? 0) + 1);
            for (const drain of drains.values()) drain.disturbed ??= event.type;
          } else {
            open.set(event.type, Math.max(0, (open.get(event.type) ?? 0) - 1));
            if (!processFaults.has(event.type)) {
              lingeringHealAt = event.at;
              lingeringType = event.type;
            }
          }
          return;
        }
      }
    },
    finish(final: FinalState): CheckResult {
      for (const drain of [...drains.values()]) judge(drain, null, false, final.at);
      const details =
        `${started} drains of ${declared} rolling restarts, ${judged} judged (stop within ${drainStopMs} ms of the last session's end; the slowest within bound ${Math.round(slowestMs)} ms)` +
        (notJudged.length === 0 ? '' : `; not judged: ${notJudged.slice(0, 5).join('; ')}`);
      if (witness.count > 0 || judged > 0) return witness.result(drainStopProperty, details);
      return {
        property: drainStopProperty,
        verdict: 'unknown',
        details: `could not judge: ${declared === 0 ? 'no rolling restart in the run' : started === 0 ? 'the rolling restart drained no node (each was down when its turn came)' : 'no drain could be judged'}; ${details}`,
        witness: [],
      };
    },
  };
}
