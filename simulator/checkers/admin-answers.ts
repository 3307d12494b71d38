// protocol.md's admin API, judged by the answers the harness got to its own requests: a valid
// membership change to a group is answered 2xx; a create of a new id 201, of an id taken by another
// kind 409; a change to a conversation the harness never created 404, to a direct one 409; a body with
// a bad id 400; a request sent with no token or one the server cannot verify 401, whatever it asks, and
// one whose body protocol.md refuses 400 (`malformed`: admin-refusals.ts); a create refused so made
// nothing, so the id's next create is new (201). What a request should get comes from the history alone
// (the `conv` events of what the harness created, and its own requests), never from the server. A 500
// (the server failed to answer: its step threw) is always a violation. Any other 5xx is one only when no
// fault was open from the request on, no answer only when no fault that cuts a client from a node was
// (one that fails the store leaves the node to answer 503; fault-quiet.ts; with `judgeSilence`: live,
// or with a cost model, a slow answer is not silence); and a conversation whose valid change was asked `retriesMax` times in a
// row, and never taken by the end, is one too (the admin retrying forever is what a server that
// refuses every change looks like: mutant 1562). A request whose answer cannot be told from the
// history (a create whose earlier answer was lost) is not judged, and said so.

import { isId } from '../../reference-server/protocol/limits.ts';
import type { Checker, CheckResult, HistoryEventOf, HistoryKind } from '../history.ts';
import { FaultQuiet } from './fault-quiet.ts';
import { WitnessList } from './witness-list.ts';

export const adminAnswersProperty = 'admin-answers';

export type AdminAnswersOptions = {
  /** Whether no answer at all is a violation when no fault was open (default true; see read-pages). */
  judgeSilence?: boolean;
  /** A valid change asked this many times in a row and never taken is a violation (default 50). */
  adminRetriesMax?: number;
};

/** What protocol.md says a request gets: any 2xx, or one status; `why` names the rule. */
type Expected = { status: 'success' | number; why: string };

type Request = {
  what: 'members' | 'create';
  conv: string;
  sentAt: number;
  expected: Expected | undefined;
  event: HistoryEventOf<'members-sent' | 'create-sent'>;
  /** A create counted in `unsettled` (sent for a conv the harness had not created). */
  counted?: boolean;
};

/** A body list of user ids as protocol.md's HTTP section takes it (http-routes.ts's idList). */
function validIds(list: readonly unknown[] | undefined): boolean {
  return list === undefined || list.every(isId);
}

/**
 * A request sent with no token or one the server cannot verify (`malformed` `token=...`): protocol.md
 * authenticates every request by Bearer JWT, so 401 whatever it asks, before anything else is looked at
 * (a 403 or 404 tells a caller nobody signed in what exists: mutants 1564 and 1625).
 */
function signInOf(event: { malformed?: string }): Expected | undefined {
  if (event.malformed?.startsWith('token=') !== true) return undefined;
  return { status: 401, why: `a request sent with ${event.malformed}` };
}

/** A body protocol.md refuses, sent so on purpose (`malformed`, e.g. `members=string`): 400. */
function malformedBody(malformed: string): Expected {
  return { status: 400, why: `a body sent malformed (${malformed})` };
}

const kinds = [
  'conv',
  'members-sent',
  'members-answered',
  'create-sent',
  'create-answered',
  'fault',
] as const satisfies readonly HistoryKind[];

type Event = HistoryEventOf<(typeof kinds)[number]>;

export function createAdminAnswersChecker(options: AdminAnswersOptions = {}): Checker {
  const judgeSilence = options.judgeSilence ?? true;
  const retriesMax = options.adminRetriesMax ?? 50;
  /** conv -> its kind and members at creation, as the harness created it. */
  const created = new Map<string, { kind: 'direct' | 'group'; members: readonly string[] }>();
  /** Convs whose membership the harness asked to change: their current members are not `created`'s. */
  const changed = new Set<string>();
  /**
   * Convs the harness has not created -> creates sent for them whose answer did not say (none yet, 5xx,
   * none came): while there is one, the conv may exist. A 4xx says that create made nothing (a refused
   * create, then the id's valid definition: owed 201).
   */
  const unsettled = new Map<string, number>();
  const open = new Map<number, Request>();
  /** conv -> valid changes asked in a row that were not answered 2xx. */
  const untaken = new Map<string, { count: number; firstAt: number; last: unknown[] }>();
  const quiet = new FaultQuiet();
  const witness = new WitnessList();
  let sent = 0;
  let judged = 0;
  let excused = 0;
  let unjudged = 0;

  const expectMembers = (event: HistoryEventOf<'members-sent'>): Expected | undefined => {
    const unauthenticated = signInOf(event);
    if (unauthenticated !== undefined) return unauthenticated;
    // protocol.md's HTTP table: the members route is the admin's; a valid user token without the role is
    // authenticated, not allowed.
    if (event.by !== undefined)
      return { status: 403, why: "a change asked with a user's token, not an admin's" };
    const definition = created.get(event.conv);
    // The route finds the conversation before it reads the body.
    if (definition === undefined)
      return unsettled.has(event.conv)
        ? undefined
        : { status: 404, why: 'a change to a conversation the harness never created' };
    if (event.malformed !== undefined) return malformedBody(event.malformed);
    if (!validIds(event.add) || !validIds(event.remove))
      return { status: 400, why: 'a change whose add or remove holds a bad id' };
    if (event.add.length + event.remove.length === 0)
      return { status: 400, why: 'a change with neither add nor remove' };
    if (definition.kind === 'direct')
      return { status: 409, why: 'a change to a direct conversation (its members cannot change)' };
    return { status: 'success', why: 'a valid change to a group' };
  };

  const expectCreate = (event: HistoryEventOf<'create-sent'>): Expected | undefined => {
    const unique = new Set(event.members);
    const unauthenticated = signInOf(event);
    if (unauthenticated !== undefined) return unauthenticated;
    if (event.malformed !== undefined) return malformedBody(event.malformed);
    if (!isId(event.conv)) return { status: 400, why: 'a create with a bad id' };
    if (event.members.length === 0 || !event.members.every(isId))
      return { status: 400, why: 'a create whose members are not 1 or more ids' };
    if (event.kind === 'direct' && unique.size !== 2)
      return { status: 400, why: 'a direct conversation with other than two members' };
    const definition = created.get(event.conv);
    if (definition !== undefined) {
      if (definition.kind !== event.kind)
        return { status: 409, why: 'a create of an id taken by another kind' };
      if (changed.has(event.conv)) return undefined;
      const same =
        definition.members.length === unique.size && definition.members.every((user) => unique.has(user));
      return same
        ? { status: 200, why: 'the same definition posted again' }
        : { status: 409, why: 'a create of an id taken by other members' };
    }
    if (unsettled.has(event.conv)) return undefined;
    return { status: 201, why: 'a create of a new id' };
  };

  const violation = (request: Request, status: number, at: number, kind: string, problem: string): void =>
    witness.add(kind, () => ({
      problem: `${problem}: ${request.what === 'create' ? 'create' : 'change'} of ${request.conv} sent at ${request.sentAt} ms, answered ${status === 0 ? 'nothing' : status} at ${at} ms${request.expected ? ` (${request.expected.why}: protocol.md says ${request.expected.status === 'success' ? '2xx' : request.expected.status})` : ''}`,
      path: [
        request.event,
        { k: `${request.what === 'create' ? 'create' : 'members'}-answered`, at, status },
      ],
    }));

  const judge = (request: Request, status: number, at: number): void => {
    const success = status >= 200 && status < 300;
    const notNow = status === 0 || status >= 500;
    if (request.what === 'members' && request.expected?.status === 'success') {
      const run = untaken.get(request.conv);
      if (success) untaken.delete(request.conv);
      else if (run === undefined) untaken.set(request.conv, { count: 1, firstAt: request.sentAt, last: [] });
      else run.count++;
      const now = untaken.get(request.conv);
      if (now !== undefined) now.last = [request.event, { at, status }];
    }
    if (status === 500) {
      // The server failed to answer (the live HTTP API's catch; the simulator's world answers a step that
      // threw so): protocol.md's HTTP errors are 400-503 by name and a dependency down is a 503, so no
      // fault excuses it (an admin create whose `members` was not a list threw: mutant 1759).
      judged++;
      return violation(
        request,
        status,
        at,
        'internal error',
        'an admin request answered 500 (the server failed to answer it)',
      );
    }
    if (notNow) {
      // No answer is excused by a fault that cuts only: the node stays up and reachable through the
      // others, and answers 503 (fault-quiet.ts). A 5xx by any fault (live, a slow Redis may time out
      // the server's own requests).
      const faulted =
        status === 0
          ? !judgeSilence || !quiet.reachableSince(request.sentAt)
          : !quiet.quietSince(request.sentAt);
      if (faulted) {
        excused++;
        return;
      }
      judged++;
      return violation(
        request,
        status,
        at,
        status === 0 ? 'unanswered' : '5xx',
        status === 0
          ? 'an admin request got no answer while no fault that cuts a client from a node was open'
          : 'an admin request answered 5xx while no fault was open',
      );
    }
    const expected = request.expected;
    if (expected === undefined) {
      unjudged++;
      return;
    }
    judged++;
    if (expected.status === 'success' ? success : status === expected.status) return;
    const valid = expected.status === 'success' || expected.status < 300;
    if (valid && !success)
      return violation(request, status, at, 'valid refused', 'a valid admin request refused');
    if (!valid && success)
      return violation(
        request,
        status,
        at,
        'invalid taken',
        'an admin request protocol.md refuses was taken',
      );
    violation(request, status, at, 'wrong status', 'an admin request answered with the wrong status');
  };

  const answered = (id: number, status: number, at: number): void => {
    const request = open.get(id);
    if (request === undefined) return;
    open.delete(id);
    const said = (status >= 400 && status < 500) || (status >= 200 && status < 300);
    const left = unsettled.get(request.conv);
    if (request.what === 'create' && said && left !== undefined && request.counted) {
      if (left > 1) unsettled.set(request.conv, left - 1);
      else unsettled.delete(request.conv);
    }
    judge(request, status, at);
  };

  const observe = (event: Event): void => {
    switch (event.k) {
      case 'conv':
        created.set(event.conv, { kind: event.kind, members: event.members });
        unsettled.delete(event.conv);
        return;
      case 'fault':
        return quiet.observe(event);
      case 'members-sent': {
        sent++;
        open.set(event.id, {
          what: 'members',
          conv: event.conv,
          sentAt: event.at,
          expected: expectMembers(event),
          event,
        });
        if (created.has(event.conv)) changed.add(event.conv);
        return;
      }
      case 'create-sent': {
        sent++;
        const counted = !created.has(event.conv);
        open.set(event.id, {
          what: 'create',
          conv: event.conv,
          sentAt: event.at,
          expected: expectCreate(event),
          event,
          counted,
        });
        if (counted) unsettled.set(event.conv, (unsettled.get(event.conv) ?? 0) + 1);
        return;
      }
      case 'members-answered':
      case 'create-answered':
        return answered(event.id, event.status, event.at);
    }
  };

  return {
    property: adminAnswersProperty,
    kinds,
    violationsSoFar: () => witness.count,
    observe,
    finish(): CheckResult {
      for (const [conv, run] of untaken)
        if (run.count >= retriesMax)
          witness.add('never taken', () => ({
            problem: `a valid change to ${conv} was asked ${run.count} times in a row from ${run.firstAt} ms and never taken (the last one and its answer follow)`,
            path: run.last,
          }));
      const details =
        `${sent} admin requests: ${judged} answers judged, ${excused} 5xx or unanswered under a fault, ` +
        `${unjudged} whose answer the history cannot tell (a create whose earlier answer was lost)` +
        `${open.size > 0 ? `, ${open.size} unanswered at the end` : ''}`;
      if (witness.count > 0 || judged > 0) return witness.result(adminAnswersProperty, details);
      return {
        property: adminAnswersProperty,
        verdict: 'unknown',
        details: `could not judge: ${sent === 0 ? 'the scenario asks for admin requests and the run made none' : 'no answer could be judged'}; ${details}`,
        witness: [],
      };
    },
  };
}
