// churn's admin requests, judged by admin-answers: at the gate's seed every kind of probe
// (`workload.adminProbes`) is answered as protocol.md says, the conversations created over HTTP are
// written to and read; and a server whose admin routes all answer 404 (mutant 1562: churn's changes
// refused all run, which no checker judged before) fails the run on admin-answers; a store whose repeated
// removal reopens the removed user's span (mutant 3392 of the seed-3 sample) fails it on authorization.

import { describe, expect, it } from 'vitest';
import { ChatNode } from '../reference-server/core/chat-node.ts';
import type { Effect } from '../reference-server/core/effects.ts';
import type { Input } from '../reference-server/core/inputs.ts';
import type { MembershipSpan, MembersRequest } from '../reference-server/store/message-store.ts';
import { StoreState } from '../reference-server/store/store-state.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import type { HistoryEvent } from './history.ts';
import { runScenario } from './run-scenario.ts';

const seed = 1;
const clients = 150;
const simTimeoutMs = 300_000;

/** Every admin route answered 404 "no route", as mutant 1562 of http-routes.ts did. */
class AdminRoutesGone extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    if (input.type === 'http' && input.request.path.startsWith('/v1/admin/'))
      return [
        { type: 'reply', req: input.req, status: 404, body: { code: 'not_found', message: 'no route' } },
      ];
    return super.handle(input, now);
  }
}

/** A server that needs both `add` and `remove` in a members change (mutant 1662 of the 3c0f288 sample). */
class NeedsBothLists extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    const body = input.type === 'http' ? (input.request.body as { add?: unknown; remove?: unknown }) : null;
    if (input.type === 'http' && input.request.path.endsWith('/members') && (!body?.add || !body.remove))
      return [
        {
          type: 'reply',
          req: input.req,
          status: 400,
          body: { code: 'bad_request', message: 'add and remove' },
        },
      ];
    return super.handle(input, now);
  }
}

/** A server that refuses a change adding and removing at once (mutant 1774 of the 4a1ec6e seed-4 sample). */
class OneListOnly extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    const body =
      input.type === 'http' ? (input.request.body as { add?: unknown[]; remove?: unknown[] }) : null;
    if (
      input.type === 'http' &&
      input.request.path.endsWith('/members') &&
      body?.add?.length &&
      body.remove?.length
    )
      return [
        { type: 'reply', req: input.req, status: 400, body: { code: 'bad_request', message: 'one list' } },
      ];
    return super.handle(input, now);
  }
}

/** A server that lets any signed-in user administer (mutant 1631 of the 4a1ec6e seed-4 sample). */
class AnyoneAdministers extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    if (input.type === 'http' && input.request.principal.kind === 'user' && !input.request.principal.admin)
      return super.handle(
        { ...input, request: { ...input.request, principal: { ...input.request.principal, admin: true } } },
        now,
      );
    return super.handle(input, now);
  }
}

/** A server that answers 409 to a create of an id that exists, whatever its definition (mutant 3610). */
class NoIdempotentCreate extends ChatNode {
  private readonly seen = new Set<string>();
  override handle(input: Input, now: number): Effect[] {
    if (input.type === 'http' && input.request.path === '/v1/admin/conversations') {
      const id = String((input.request.body as { id?: unknown }).id);
      if (this.seen.has(id))
        return [{ type: 'reply', req: input.req, status: 409, body: { code: 'conflict', message: 'taken' } }];
      this.seen.add(id);
    }
    return super.handle(input, now);
  }
}

/** A server that takes a direct create of any number of members, as a group (mutant 1701 of the seed-3 sample). */
class DirectOfAny extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    const body = input.type === 'http' ? (input.request.body as { kind?: unknown; members?: unknown }) : null;
    if (
      input.type === 'http' &&
      input.request.path === '/v1/admin/conversations' &&
      body?.kind === 'direct' &&
      Array.isArray(body.members) &&
      body.members.length !== 2
    )
      return super.handle({ ...input, request: { ...input.request, body: { ...body, kind: 'group' } } }, now);
    return super.handle(input, now);
  }
}

/** A server that answers 400 to an HTTP read without `limit` (mutant 1738). */
class NeedsLimit extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    if (input.type === 'http' && input.request.method === 'GET' && input.request.query.limit === undefined)
      return [
        { type: 'reply', req: input.req, status: 400, body: { code: 'bad_request', message: 'limit' } },
      ];
    return super.handle(input, now);
  }
}

/** A server that answers a forged token's read 403 instead of 401 (mutant 1564). */
class ForgedIs403 extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    if (input.type === 'http' && input.request.principal.kind === 'invalid')
      return [{ type: 'reply', req: input.req, status: 403, body: { code: 'forbidden', message: 'no' } }];
    return super.handle(input, now);
  }
}

/** A server that answers a request with no token 403/404 instead of 401 (mutant 1625 of the seed-6 sample). */
class NoTokenIsNotChecked extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    if (input.type === 'http' && input.request.principal.kind === 'none')
      return super.handle(
        {
          ...input,
          request: { ...input.request, principal: { kind: 'user', sub: '', admin: false } },
        },
        now,
      );
    return super.handle(input, now);
  }
}

/** An admin create whose `members` is not a list of ids throws (mutant 1759 of the seed-6 sample; seed-2's 1694). */
class ThrowsOnBadMembers extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    const body =
      input.type === 'http' ? (input.request.body as { members?: unknown } | undefined) : undefined;
    const members = body?.members;
    if (
      input.type === 'http' &&
      input.request.path === '/v1/admin/conversations' &&
      members !== undefined &&
      !(Array.isArray(members) && members.every((m) => typeof m === 'string' && /^[\w.:-]{1,64}$/.test(m)))
    )
      throw new TypeError("Cannot read properties of null (reading 'length')");
    return super.handle(input, now);
  }
}

/** A server that takes a create of a kind protocol.md does not have, as a group (http-routes.ts:126). */
class TakesAnyKind extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    const body = input.type === 'http' ? (input.request.body as { kind?: unknown } | undefined) : undefined;
    if (input.type === 'http' && input.request.path === '/v1/admin/conversations' && body?.kind === 'channel')
      return super.handle({ ...input, request: { ...input.request, body: { ...body, kind: 'group' } } }, now);
    return super.handle(input, now);
  }
}

/** A server that answers a change asking nothing 200 (http-routes.ts:141). */
class TakesEmptyChange extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    const body = input.type === 'http' ? (input.request.body as { add?: unknown; remove?: unknown }) : null;
    if (
      input.type === 'http' &&
      input.request.principal.kind === 'user' &&
      input.request.principal.admin &&
      input.request.path.endsWith('/members') &&
      body !== undefined &&
      body?.add === undefined &&
      body?.remove === undefined
    )
      return [{ type: 'reply', req: input.req, status: 200, body: {} }];
    return super.handle(input, now);
  }
}

/**
 * A removal of a user already removed re-closes its last span at the lastSeq now, so it may read what was
 * sequenced between the two removals (mutant 3392 of the 3c0f288 seed-3 sample). A policy the store is
 * built with, reaching into the state as the mutant's line did.
 */
class RemovalReclosesSpan extends StoreState {
  override changeMembers(request: MembersRequest): ReturnType<StoreState['changeMembers']> {
    const closed = request.remove.filter((user) => {
      const last = this.spansOf(request.conv, user)?.at(-1);
      return last !== undefined && last.to !== null;
    });
    const outcome = super.changeMembers(request);
    if (outcome.result.status !== 'ok' || closed.length === 0) return outcome;
    const state = (
      this as unknown as { convs: Map<string, { lastSeq: number; membersVersion: number }> }
    ).convs.get(request.conv)!;
    for (const user of closed) {
      const spans = this.spansOf(request.conv, user) as MembershipSpan[];
      spans[spans.length - 1]!.to = state.lastSeq;
      state.membersVersion++;
    }
    return { result: { status: 'ok', conversation: this.record(request.conv)! }, changed: true };
  }
}

describe('admin requests in churn', () => {
  it(
    'answers every probe as protocol.md says, and the conversations created over HTTP carry messages',
    async () => {
      const statuses = new Map<number, string>();
      const answers: string[] = [];
      const acked = new Set<string>();
      const shown = new Set<string>();
      const observe = (event: HistoryEvent): void => {
        const how = (event.k === 'create-sent' || event.k === 'members-sent') && event.malformed;
        const malformed = how ? ` ${how}` : '';
        if (event.k === 'create-sent')
          statuses.set(event.id, `create ${event.kind} ${event.conv}${malformed}`);
        if (event.k === 'members-sent')
          statuses.set(
            event.id,
            `change ${event.conv} +${event.add.join(',')} -${event.remove.join(',')}${malformed}`,
          );
        if (event.k === 'create-answered' || event.k === 'members-answered')
          answers.push(`${statuses.get(event.id)} ${event.status}`);
        if (event.k === 'ack') acked.add(event.conv);
        if (event.k === 'display' && event.via !== 'own') shown.add(event.message.conv);
      };
      const summary = await runScenario(loadScenario('churn'), {
        seed,
        clients,
        recorder: { observe, tick: () => {} },
      });
      const verdict = summary.verdicts.find((v) => v.property === 'admin-answers')!;
      expect(verdict.verdict, verdict.details).toBe('pass');
      expect(summary.exitCode).toBe(0);
      // Each probe, answered with its own status.
      expect(answers).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^create group hg0 201$/),
          expect.stringMatching(/^create direct hd0 201$/),
          // The same definition posted again (a retry whose answer was lost): 200.
          expect.stringMatching(/^create group hg0 200$/),
          expect.stringMatching(/^create direct hd0 200$/),
          expect.stringMatching(/^create direct g\d+ 409$/),
          expect.stringMatching(/^change nosuch0 \+u0 - 404$/),
          expect.stringMatching(/^change d\d+-\d+ \+ -u\d+ 409$/),
          expect.stringMatching(/^create group not an id!0 400$/),
          expect.stringMatching(/^create group he0 400$/),
          expect.stringMatching(/^create direct hx0 400$/),
          expect.stringMatching(/^change g\d+ \+not an id! - 400$/),
          // Sent with no token or a forged one: 401; a body protocol.md refuses: 400 (admin-refusals.ts).
          'create group hr0-0 token=none 401',
          'create group hr0-1 token=forged 401',
          'create group hr0-2 members=string 400',
          'create group hr0-3 members=bad-id 400',
          'create group hr0-4 members=missing 400',
          'create group hr0-5 kind=channel 400',
          'create group hr0-6 body=not-json 400',
          'create direct hr0-7 400',
          expect.stringMatching(/^change g\d+ \+u\d+ - token=none 401$/),
          expect.stringMatching(/^change g\d+ \+u\d+ - token=forged 401$/),
          expect.stringMatching(/^change g\d+ \+ - add=string 400$/),
          expect.stringMatching(/^change g\d+ \+ - body=not-json 400$/),
          expect.stringMatching(/^change g\d+ \+ - 400$/),
        ]),
      );
      // Each refused create made nothing: the id's valid definition, posted next, is new.
      for (let i = 0; i < 8; i++) expect(answers).toContain(`create group hr0-${i} 201`);
      // A removal made again (removeAgain): both answered 2xx.
      const removals = answers.filter((answer) => /^change g\d+ \+ -u\d+ 2\d\d$/.test(answer));
      expect(
        removals.some((answer, i) => removals.indexOf(answer) !== i),
        removals.join('; '),
      ).toBe(true);
      // Created over HTTP, then used: messages acked there and shown to another member.
      for (const conv of ['hg0', 'hd0']) {
        expect(acked, conv).toContain(conv);
        expect(shown, conv).toContain(conv);
      }
    },
    simTimeoutMs,
  );

  it(
    'fails a server whose admin routes answer 404 (mutant 1562)',
    async () => {
      const summary = await runScenario(loadScenario('churn'), {
        seed,
        clients,
        chatNode: (options) => new AdminRoutesGone(options),
      });
      const verdict = summary.verdicts.find((v) => v.property === 'admin-answers')!;
      expect(verdict.verdict).toBe('fail');
      expect(verdict.details).toMatch(/valid refused/);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );

  it(
    "fails a store whose repeated removal reopens the removed user's span (mutant 3392, seed-3 sample)",
    async () => {
      const summary = await runScenario(loadScenario('churn'), {
        seed,
        clients,
        storeState: () => new RemovalReclosesSpan(),
      });
      const verdict = summary.verdicts.find((v) => v.property === 'authorization')!;
      expect(verdict.verdict).toBe('fail');
      expect(verdict.details).toMatch(/unreadable seqs/);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );

  it.each([
    ['needs both add and remove (mutant 1662)', NeedsBothLists, 'admin-answers', /valid refused/],
    [
      'refuses a change that adds and removes at once (mutant 1774)',
      OneListOnly,
      'admin-answers',
      /valid refused/,
    ],
    [
      'lets a user without the admin role change members (mutant 1631)',
      AnyoneAdministers,
      'admin-answers',
      /403/,
    ],
    ['takes a direct conversation of three (mutant 1701)', DirectOfAny, 'admin-answers', /invalid taken/],
    [
      'answers 409 to the same definition again (mutant 3610)',
      NoIdempotentCreate,
      'admin-answers',
      /wrong status|valid refused/,
    ],
    ['needs limit on an HTTP read (mutant 1738)', NeedsLimit, 'read-pages', /well formed/],
    ['answers a forged token 403, not 401 (mutant 1564)', ForgedIs403, 'read-pages', /not 401/],
    [
      'answers no token 403 or 404, not 401 (mutant 1625)',
      NoTokenIsNotChecked,
      'read-pages',
      /token=none: answered 40[34], not 401/,
    ],
    [
      'answers an admin request with no token 403 (mutant 1625)',
      NoTokenIsNotChecked,
      'admin-answers',
      /token=none: protocol.md says 401/,
    ],
    [
      'throws on a create whose members are not ids (mutant 1759)',
      ThrowsOnBadMembers,
      'admin-answers',
      /answered 500/,
    ],
    ['takes a create of a kind protocol.md does not have', TakesAnyKind, 'admin-answers', /kind=channel/],
    ['takes a change that asks nothing', TakesEmptyChange, 'admin-answers', /neither add nor remove/],
  ] as const)(
    'fails a server that %s',
    async (_, Node, property, why) => {
      const summary = await runScenario(loadScenario('churn'), {
        seed,
        clients,
        chatNode: (options) => new Node(options),
      });
      const verdict = summary.verdicts.find((v) => v.property === property)!;
      expect(verdict.verdict).toBe('fail');
      expect(JSON.stringify(verdict)).toMatch(why);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );
});
