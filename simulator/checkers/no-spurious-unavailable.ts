// Judges the "not now" answers: protocol.md's `unavailable` says a dependency is down and nothing was
// done, and only a fault takes one down. A server that answers `unavailable` while nothing is down refuses
// a user what it owes it, however politely, and the client's retries hide it from every other check
// (mutation sample 0ff7ab0: every HTTP read answered 503, mutant 1801, and a removed member's cursor
// answered `unavailable` in place of the store's `forbidden`, mut18's 35 and 37, passed the gate).
// - an HTTP read (`http-read-sent`) answered 503 is a violation when no fault was open at any moment
//   from the request to the answer.
// - a WebSocket `err` with code `unavailable` (the `unavailable` event, to a send, sync, cursor, typing
//   or hello) is a violation when no fault was open at any moment from its connection's start on (the
//   request went out on that connection, so it was asked after that; the harness does not pair a
//   cursor or a send's retry with its err, and a fault may leave a connection dead after its heal).
// "A fault was open" is fault-quiet.ts's, the rule read-pages judges silence by: any fault, anywhere.
// That excuses more than a fault on that node's path to its store would, never less.
// Judged where the simulator's store fails only by its faults (every simulated run: a cost model slows
// a node, it never fails its store); live, a real store may time out under load, so the live driver
// leaves this checker out (`judgeUnavailable: false`).

import type { Checker, CheckResult, FinalState, HistoryEventOf, HistoryKind } from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { float64Column } from './column.ts';
import { coveredResult } from './coverage.ts';
import { FaultQuiet } from './fault-quiet.ts';
import { WitnessList } from './witness-list.ts';

export const noSpuriousUnavailableProperty = 'no-spurious-unavailable';

/** protocol.md's HTTP status of `unavailable`. */
const httpUnavailable = 503;

/** The kinds of event this checker reads (checker-feed.ts feeds it those only). */
const kinds = [
  'session',
  'send',
  'sync-sent',
  'cursor-sent',
  'unavailable',
  'http-read-sent',
  'http-read',
  'fault',
] as const satisfies readonly HistoryKind[];

type HttpAsked = HistoryEventOf<'http-read-sent'> & { quiet: boolean };

export function createNoSpuriousUnavailableChecker(options: CheckerOptions = {}): Checker {
  const { ids, limits } = resolveCheckerOptions(options);
  const witness = new WitnessList(limits.witnessCasesMax);
  const faults = new FaultQuiet();
  /** Per device: when its latest session's connection began (NaN before its first welcome). */
  const connectedFrom = float64Column(Number.NaN);
  /** HTTP reads asked and not answered yet, with whether a fault was open then. */
  const httpAsked = new Map<number, HttpAsked>();
  /** Requests whose answer this checker would have judged, had it been `unavailable`. */
  let httpJudged = 0;
  let socketJudged = 0;
  let socketUnavailable = 0;
  let httpUnavailableSeen = 0;

  /** No fault open at any moment from `from` on (fault-quiet.ts). */
  const quietFromConnect = (user: string, device: string): boolean =>
    faults.quietSince(connectedFrom.get(ids.device(user, device)));

  const socketAnswer = (event: HistoryEventOf<'unavailable'>): void => {
    socketUnavailable++;
    if (!quietFromConnect(event.user, event.device)) return;
    const about = `${event.ref === undefined ? '' : ` to its ${event.ref}`}${event.conv === undefined ? '' : ` (${event.conv})`}`;
    witness.add('unavailable with no fault open', () => ({
      problem: `${event.user}/${event.device} got err unavailable${about} at ${event.at}, though no fault was open from its connection's start (${connectedFrom.get(ids.device(event.user, event.device))}) on: nothing was down`,
      path: [event],
    }));
  };

  const httpAnswer = (event: HistoryEventOf<'http-read'>): void => {
    const sent = httpAsked.get(event.id);
    httpAsked.delete(event.id);
    if (sent === undefined || event.status === 0) return;
    if (event.status === httpUnavailable) httpUnavailableSeen++;
    if (!sent.quiet || !faults.quietSince(sent.at)) return;
    httpJudged++;
    if (event.status !== httpUnavailable) return;
    witness.add('HTTP 503 with no fault open', () => ({
      problem: `${sent.user} read ${sent.conv} over HTTP after ${sent.after} (limit ${sent.limit}) at ${sent.at} and got 503 at ${event.at}, though no fault was open from the request to the answer: nothing was down`,
      path: [sent, event],
    }));
  };

  const observe = (event: HistoryEventOf<(typeof kinds)[number]>): void => {
    switch (event.k) {
      case 'session':
        connectedFrom.set(ids.device(event.user, event.device), event.at - event.connectMs);
        return;
      case 'send':
      case 'sync-sent':
      case 'cursor-sent':
        // Counted only: its err, if `unavailable`, comes as an `unavailable` event.
        if (quietFromConnect(event.user, event.device)) socketJudged++;
        return;
      case 'unavailable':
        return socketAnswer(event);
      case 'http-read-sent':
        if (httpAsked.size < limits.pendingAttemptsMax)
          httpAsked.set(event.id, { ...event, quiet: !faults.anyOpen });
        return;
      case 'http-read':
        return httpAnswer(event);
      case 'fault':
        return faults.observe(event);
    }
  };

  return {
    property: noSpuriousUnavailableProperty,
    kinds,
    violationsSoFar: () => witness.count,
    observe,
    finish(_final: FinalState): CheckResult {
      const details =
        `${socketJudged} sends, syncs and cursor moves made on a connection no fault touched, ` +
        `${httpJudged} HTTP reads answered with no fault open from the request on: judged for unavailable ` +
        `(${socketUnavailable} socket errs unavailable, ${httpUnavailableSeen} HTTP 503s in the run)`;
      return coveredResult(witness, noSpuriousUnavailableProperty, details, {
        judged: socketJudged + httpJudged,
        judgedWhat: 'requests made with no fault open',
        done: 0,
        doneWhat: 'requests made with no fault open',
      });
    },
  };
}
