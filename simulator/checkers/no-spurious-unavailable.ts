// Judges the "not now" answers: protocol.md's `unavailable` says a dependency is down and nothing was
// done, and only a fault takes one down. A server that answers `unavailable` while nothing is down refuses
// a user what it owes it, however politely, and the client's retries hide it from every other check
// (mutation sample 0ff7ab0: every HTTP read answered 503, mutant 1801, and a removed member's cursor
// answered `unavailable` in place of the store's `forbidden`, mut18's 35 and 37, passed the gate).
// - an HTTP read (`http-read-sent`) answered 503 is a violation when no fault was open at any moment
//   from the request to the answer.
// - a WebSocket `err` with code `unavailable` (the `unavailable` event, to a send, sync, cursor, typing
//   or hello) is a violation when no fault that fails a dependency of its session's node (the store's
//   outage, that node's link to the store or the bus lossy or cut, a failing disk under the store; any
//   node's, when the session's is not known) was open at any moment from its connection's start on (the
//   request went out on that connection, so it was asked after that; the harness does not pair a
//   cursor or a send's retry with its err). A fault that only cuts clients from nodes, stops a node or
//   slows Redis fails no store request in the simulator: it explains none (fault-quiet.ts). So churn's
//   slow bus excuses no `unavailable` from the node whose store link is sound.
// - an HTTP 503 the same way, against such faults on any node (the read's node is not recorded).
// Judged where the simulator's store fails only by its faults (every simulated run: a cost model slows
// a node, it never fails its store); live, a real store may time out under load, so the live driver
// leaves this checker out (`judgeUnavailable: false`).

import type { Checker, CheckResult, FinalState, HistoryEventOf, HistoryKind } from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { float64Column } from './column.ts';
import { coveredResult } from './coverage.ts';
import { FaultQuiet, SessionNodes } from './fault-quiet.ts';
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
  /** Per device: the node its latest session is on. */
  const sessionNodes = new SessionNodes();
  /** HTTP reads asked and not answered yet, with whether a fault was open then. */
  const httpAsked = new Map<number, HttpAsked>();
  /** Requests whose answer this checker would have judged, had it been `unavailable`. */
  let httpJudged = 0;
  let socketJudged = 0;
  let socketUnavailable = 0;
  let httpUnavailableSeen = 0;

  /** No fault failing `node`'s dependencies (any node's, if undefined) open at any moment since the connect. */
  const quietFromConnect = (user: string, device: string, node?: string): boolean =>
    faults.dependenciesQuietSince(connectedFrom.get(ids.device(user, device)), node);

  const socketAnswer = (event: HistoryEventOf<'unavailable'>): void => {
    socketUnavailable++;
    if (!quietFromConnect(event.user, event.device, event.node)) return;
    const about = `${event.ref === undefined ? '' : ` to its ${event.ref}`}${event.conv === undefined ? '' : ` (${event.conv})`}`;
    witness.add('unavailable with no fault open', () => ({
      problem: `${event.user}/${event.device} got err unavailable${about} at ${event.at}${event.node === undefined ? '' : ` from ${event.node}`}, though no fault failing ${event.node === undefined ? "a node's" : 'its'} store or bus was open from its connection's start (${connectedFrom.get(ids.device(event.user, event.device))}) on: nothing it depends on was down`,
      path: [event],
    }));
  };

  const httpAnswer = (event: HistoryEventOf<'http-read'>): void => {
    const sent = httpAsked.get(event.id);
    httpAsked.delete(event.id);
    if (sent === undefined || event.status === 0) return;
    if (event.status === httpUnavailable) httpUnavailableSeen++;
    if (!sent.quiet || !faults.dependenciesQuietSince(sent.at)) return;
    httpJudged++;
    if (event.status !== httpUnavailable) return;
    witness.add('HTTP 503 with no fault open', () => ({
      problem: `${sent.user} read ${sent.conv} over HTTP after ${sent.after} (limit ${sent.limit}) at ${sent.at} and got 503 at ${event.at}, though no fault failing a store or bus was open from the request to the answer: nothing was down`,
      path: [sent, event],
    }));
  };

  const observe = (event: HistoryEventOf<(typeof kinds)[number]>): void => {
    switch (event.k) {
      case 'session': {
        const device = ids.device(event.user, event.device);
        connectedFrom.set(device, event.at - event.connectMs);
        sessionNodes.set(device, event.node);
        return;
      }
      case 'send':
      case 'sync-sent':
      case 'cursor-sent': {
        // Counted only: its err, if `unavailable`, comes as an `unavailable` event.
        const node = sessionNodes.get(ids.device(event.user, event.device));
        if (quietFromConnect(event.user, event.device, node)) socketJudged++;
        return;
      }
      case 'unavailable':
        return socketAnswer(event);
      case 'http-read-sent':
        if (httpAsked.size < limits.pendingAttemptsMax)
          httpAsked.set(event.id, { ...event, quiet: faults.dependenciesQuietSince(event.at) });
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
        `${socketJudged} sends, syncs and cursor moves made on a connection no store or bus fault touched, ` +
        `${httpJudged} HTTP reads answered with none open from the request on: judged for unavailable ` +
        `(${socketUnavailable} socket errs unavailable, ${httpUnavailableSeen} HTTP 503s in the run)`;
      return coveredResult(witness, noSpuriousUnavailableProperty, details, {
        judged: socketJudged + httpJudged,
        judgedWhat: 'requests made with no store or bus fault open',
        done: 0,
        doneWhat: 'requests made with no store or bus fault open',
      });
    },
  };
}
