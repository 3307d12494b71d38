// A checker is fed only the kinds of event it declares (checker-feed.ts). A kind it reads but left out
// is a false green: it would judge less than it says. These tests feed every standard checker a small
// run with an event of every kind it did not declare slipped in, as a proxy that notes any field read
// but `k`, and fail a checker that read one, or whose verdict, details or witnesses moved with them.
// The compiler guards the same from the other side: each checker's observe takes only its kinds, so
// comparing `event.k` with a kind left out does not type-check.

import { describe, expect, it } from 'vitest';
import type { Checker, HistoryEvent, HistoryEventOf, HistoryKind } from '../history.ts';
import { historyKinds } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { CheckerFeed, reads } from './checker-feed.ts';
import { history, message } from './history-fixture.ts';
import { standardCheckers } from './index.ts';
import { ann, bob, sendLimits, smallRun, smallRunFinal } from './small-run-fixture.ts';

const m2 = message('g', 2, 'ann');
const run = smallRun;
/** A run where the server answered nothing: each checker judged nothing, so what it counts decides its verdict. */
const silent: HistoryEvent[] = [
  history.conv(0, 'g', ['ann', 'bob']),
  history.phase(0, 'warmup'),
  history.phase(10, 'settle'),
  history.phase(20, 'final'),
];
const bases = { run, silent };

const final = smallRunFinal;

/** One event of every kind, about the run's conversation and devices (the compiler checks none is missing). */
const samples: { [K in HistoryKind]: (at: number) => HistoryEventOf<K> } = {
  conv: (at) => ({ k: 'conv', at, conv: 'g2', kind: 'group', members: ['ann', 'bob'] }),
  'members-sent': (at) => ({ k: 'members-sent', at, id: 7, conv: 'g', add: ['cat'], remove: ['bob'] }),
  'members-answered': (at) => ({ k: 'members-answered', at, id: 7, status: 200, lastSeq: 1 }),
  'create-sent': (at) => ({ k: 'create-sent', at, id: 8, conv: 'g3', kind: 'group', members: ['ann'] }),
  'create-answered': (at) => ({ k: 'create-answered', at, id: 8, status: 201 }),
  send: (at) => ({ k: 'send', at, conv: 'g', cmid: m2.cmid, body: m2.body, ...ann }),
  ack: (at) => ({ k: 'ack', at, conv: 'g', cmid: m2.cmid, seq: 2, ts: m2.ts, sentAt: at - 1, ...ann }),
  'resent-ack': (at) => ({
    k: 'resent-ack',
    at,
    conv: 'g',
    cmid: m2.cmid,
    seq: 2,
    ts: m2.ts,
    resentAt: at - 1,
    first: { seq: 2, ts: m2.ts },
    ...ann,
  }),
  'resent-err': (at) => ({
    k: 'resent-err',
    at,
    conv: 'g',
    cmid: m2.cmid,
    code: 'bad_request',
    resentAt: at - 1,
    first: { seq: 2, ts: m2.ts },
    ...ann,
  }),
  'rate-limited': (at) => ({
    k: 'rate-limited',
    at,
    ref: 'x1',
    cmid: 'x1',
    conv: 'g',
    retryAfterMs: 100,
    ...ann,
  }),
  press: (at) => ({ k: 'press', at, conv: 'g', count: 3, ...ann }),
  failed: (at) => ({ k: 'failed', at, conv: 'g', cmid: 'x2', code: 'rate_limited', sentAt: at - 1, ...ann }),
  durable: (at) => ({ k: 'durable', at, message: m2 }),
  display: (at) => ({ k: 'display', at, via: 'push', message: m2, ...bob }),
  'cursor-sent': (at) => ({ k: 'cursor-sent', at, conv: 'g', kind: 'delivered', seq: 2, ...bob }),
  'cursor-refused': (at) => ({
    k: 'cursor-refused',
    at,
    conv: 'g',
    kind: 'read',
    code: 'unavailable',
    ...bob,
  }),
  refused: (at) => ({ k: 'refused', at, conv: 'g', ref: 'sync', code: 'forbidden', ...bob }),
  'cursor-seen': (at) => ({
    k: 'cursor-seen',
    at,
    conv: 'g',
    of: 'bob',
    kind: 'read',
    seq: 3,
    lastSeq: 2,
    source: 'receipt',
    ...ann,
  }),
  'conv-frame': (at) => ({ k: 'conv-frame', at, conv: 'g', t: 'msg', seqs: [2], node: 'n1', ...bob }),
  'typing-sent': (at) => ({ k: 'typing-sent', at, conv: 'g', on: true, ...ann }),
  'steady-link': (at) => ({ k: 'steady-link', at, latencyMs: 5, ...ann }),
  'send-buffer': (at) => ({ k: 'send-buffer', at, state: 'over', bytes: 70_000, ...ann }),
  attempt: (at) => ({ k: 'attempt', at, id: 3, action: 'read-foreign', conv: 'g', ...ann }),
  outcome: (at) => ({ k: 'outcome', at, id: 3, result: 'allowed' }),
  'watch-sent': (at) => ({ k: 'watch-sent', at, users: ['bob'], ...ann }),
  fault: (at) => ({ k: 'fault', at, type: 'node-pause', phase: 'start', nodes: ['n1'] }),
  'presence-seen': (at) => ({
    k: 'presence-seen',
    at,
    of: 'bob',
    online: false,
    lastSeen: 5,
    node: 'n1',
    ...ann,
  }),
  session: (at) => ({ k: 'session', at, connectMs: 2, first: false, ...ann }),
  'session-lost': (at) => ({ k: 'session-lost', at, reason: 'reset', ...ann }),
  ping: (at) => ({ k: 'ping', at, ...ann }),
  'sync-sent': (at) => ({ k: 'sync-sent', at, conv: 'g', after: 1, limit: 50, ...ann }),
  unanswered: (at) => ({
    k: 'unanswered',
    at,
    asked: 'sync',
    askedAt: at - 5,
    conv: 'g',
    after: 1,
    lastSeq: 2,
    ...ann,
  }),
  'bad-frame': (at) => ({ k: 'bad-frame', at, t: 'welcome', problem: 'no node', ...ann }),
  unavailable: (at) => ({ k: 'unavailable', at, ref: 'sync', conv: 'g', ...ann }),
  'http-read-sent': (at) => ({ k: 'http-read-sent', at, id: 9, conv: 'g', user: 'ann', after: 0, limit: 10 }),
  'http-read': (at) => ({ k: 'http-read', at, id: 9, status: 200, seqs: [1], lastSeq: 1, more: false }),
  'cursor-read': (at) => ({
    k: 'cursor-read',
    at,
    conv: 'g',
    user: 'ann',
    status: 200,
    lastSeq: 1,
    members: [{ user: 'ann', delivered: 5, read: 5 }],
  }),
  'node-stop': (at) => ({ k: 'node-stop', at, node: 'n1', killed: true }),
  phase: (at) => ({ k: 'phase', at, phase: 'heal' }),
};

const checkers = (): Checker[] =>
  standardCheckers({ graceMs: 500, sendLimits, largeGroupThreshold: 256, drainStops: true });

/**
 * Feeds `checker` the run through the feed, and after each event one event of every kind it does not
 * declare, directly, as a proxy that notes each field read but `k`. Returns the reads and the verdict.
 */
function feedUndeclared(
  checker: Checker,
  base: readonly HistoryEvent[],
): { read: string[]; result: unknown } {
  const read: string[] = [];
  const undeclared = historyKinds.filter((kind) => !reads(checker, kind));
  const feed = new CheckerFeed([checker]);
  for (const event of base) {
    feed.observe(event);
    for (const kind of undeclared) {
      const sample = samples[kind](event.at) as HistoryEvent;
      const note = (field: string | symbol): void => {
        if (field !== 'k') read.push(`${kind}.${String(field)}`);
      };
      checker.observe(
        new Proxy(sample, {
          get: (target, field, receiver) => {
            note(field);
            return Reflect.get(target, field, receiver);
          },
          has: (target, field) => {
            note(field);
            return Reflect.has(target, field);
          },
          ownKeys: (target) => {
            note('(keys)');
            return Reflect.ownKeys(target);
          },
        }),
      );
    }
  }
  return { read: [...new Set(read)], result: checker.finish(final()) };
}

/** The same checker fed only what it declares. */
function declaredOnly(checker: Checker, base: readonly HistoryEvent[]): unknown {
  return checkHistory([checker], base, final())[0];
}

/** A checker whose declaration leaves `kind` out (the mistake these tests exist to catch). */
function without(checker: Checker, kind: HistoryKind): Checker {
  const kinds = checker.kinds === 'all' ? historyKinds : checker.kinds;
  return {
    property: checker.property,
    kinds: kinds.filter((k) => k !== kind),
    observe: (event) => checker.observe(event),
    finish: (state) => checker.finish(state),
  };
}

describe('the kinds each checker declares', () => {
  it('every standard checker reads no field of an event of a kind it left out, and ignores such events', () => {
    const properties = checkers().map((checker) => checker.property);
    for (const [name, base] of Object.entries(bases))
      for (const [n, property] of properties.entries()) {
        const { read, result } = feedUndeclared(checkers()[n]!, base);
        expect({ name, property, read }).toEqual({ name, property, read: [] });
        expect({ name, result }).toEqual({ name, result: declaredOnly(checkers()[n]!, base) });
      }
    // The small run reaches every checker, or the comparison above proves little.
    expect(properties.length).toBe(19);
  });

  it('a checker that reads a kind it left out is caught by the field it reads', () => {
    const noLoss = () => checkers().find((checker) => checker.property === 'no-loss')!;
    expect(feedUndeclared(without(noLoss(), 'display'), run).read).toContain('display.message');
    const authorization = () => checkers().find((checker) => checker.property === 'authorization')!;
    expect(feedUndeclared(without(authorization(), 'members-sent'), run).read).toContain('members-sent.conv');
  });

  it('a checker that only counts a kind it left out is caught by its verdict', () => {
    const durableAck = () => checkers().find((checker) => checker.property === 'durable-ack')!;
    // Sends without acks: 'nothing judged' (fail) when it counts them, 'not exercised' (unknown) when not.
    const { read, result } = feedUndeclared(without(durableAck(), 'send'), silent);
    expect(read).toEqual([]);
    expect(result).toMatchObject({ verdict: 'fail' });
    expect(declaredOnly(without(durableAck(), 'send'), silent)).toMatchObject({ verdict: 'unknown' });
  });

  it('the feed gives each event to its readers in the checkers order, and refuses an unknown kind', () => {
    const seen: string[] = [];
    const spy = (property: string, kinds: Checker['kinds']): Checker => ({
      property,
      kinds,
      observe: (event) => seen.push(`${property}:${event.k}`),
      finish: () => ({ property, verdict: 'pass', details: '', witness: [] }),
    });
    const feed = new CheckerFeed([spy('a', ['send']), spy('b', 'all'), spy('c', ['ack', 'send'])]);
    feed.observe(samples.send(1));
    feed.observe(samples.ack(2));
    feed.observe(samples.phase(3));
    expect(seen).toEqual(['a:send', 'b:send', 'c:send', 'b:ack', 'c:ack', 'b:phase']);
    expect(() => new CheckerFeed([spy('d', ['sends' as HistoryKind])])).toThrow(
      /unknown history kind 'sends'/,
    );
  });
});
