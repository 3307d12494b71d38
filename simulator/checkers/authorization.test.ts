import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { createAuthorizationChecker } from './authorization.ts';
import { checkHistory } from './check-history.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';
import type { WitnessCase } from './witness-list.ts';

const ann = device('ann');
const bob = device('bob');
const cat = device('cat');
const eve = device('eve');

/**
 * ann and bob from the start; ann's seq 3 acked at t=90, then the admin removes bob (sent t=100,
 * answered t=105, the server saying "after seq 3"); ann's next send, issued at t=106, gets seq 4.
 */
const setup: HistoryEvent[] = [
  history.conv(0, 'g', ['ann', 'bob']),
  history.durable(10, message('g', 2, 'bob')),
  history.ack(90, ann, message('g', 3, 'ann'), 80),
  history.membersSent(100, 1, 'g', { remove: ['bob'] }),
  history.membersAnswered(105, 1, 200, 3),
  history.ack(108, ann, message('g', 4, 'ann'), 106),
];
/** cat added: sent at t=200 (seq 4 seen), answered at t=210 saying "after 4". */
const addCat = [history.membersSent(200, 2, 'g', { add: ['cat'] }), history.membersAnswered(210, 2, 200, 4)];

const judge = (events: HistoryEvent[], graceMs?: number) =>
  checkHistory(
    [createAuthorizationChecker(graceMs === undefined ? {} : { graceMs })],
    [...setup, ...events],
    finalStateFixture(),
  )[0]!;
const lastOf = (result: { witness: unknown[] }) => (result.witness as WitnessCase[])[0]!.path.at(-1);

describe('authorization', () => {
  it('passes frames to members, to the removed within the grace window, and refused attempts', () => {
    const result = judge([
      history.convFrame(110, ann, 'g', 'msg', [4]),
      history.convFrame(120, ann, 'g', 'batch', [1, 2, 3, 4]),
      history.convFrame(130, ann, 'g', 'receipt', [4]),
      // A node tells bob, long after his removal, of a cursor at a seq he could read: no leak.
      history.convFrame(5000, bob, 'g', 'receipt', [3]),
      history.convFrame(600, bob, 'g', 'typing'),
      history.convFrame(700, bob, 'g', 'batch', [1, 2, 3]),
      history.attempt(900, eve, 1, 'foreign-send', 'g'),
      history.outcome(901, 1, 'forbidden'),
      history.attempt(910, eve, 2, 'forged-token', ''),
      history.outcome(911, 2, 'closed:4401'),
    ]);
    expect(result).toMatchObject({ property: 'authorization', verdict: 'pass', witness: [] });
    expect(result.details).toMatch(/1 forbidden, 1 closed:4401/);
  });

  it('allows either side for frames sent while a change is in flight, and nothing outside', () => {
    // No claim from the server: the cut lies between seq 4 (seen before the request) and seq 6 - 1.
    const events = [
      history.membersSent(200, 2, 'g', { add: ['cat'] }),
      history.ack(204, ann, message('g', 5, 'ann'), 199),
      history.membersAnswered(210, 2, 200),
      history.ack(215, ann, message('g', 6, 'ann'), 212),
    ];
    expect(judge([...events, history.convFrame(220, cat, 'g', 'batch', [5, 6])]).verdict).toBe('pass');
    expect(judge([...events, history.convFrame(205, cat, 'g', 'typing')]).verdict).toBe('pass');
    const early = history.convFrame(220, cat, 'g', 'batch', [4, 5, 6]);
    const result = judge([...events, early]);
    expect(result.verdict).toBe('fail');
    expect((result.witness as WitnessCase[])[0]!.problem).toMatch(/seqs 4 in a batch/);
    // Typing before the request was sent cannot be for a member-to-be.
    expect(judge([...events, history.convFrame(199, cat, 'g', 'typing')]).verdict).toBe('fail');
  });

  it('judges an ambiguous frame again once the bounds tighten', () => {
    // Seq 5 arrives at cat before anything bounds the cut from above: maybe. Then a message first sent
    // after the answer gets seq 5 itself, so the cut is at 4 and 5 is cat's: pass. With seq 6 pushed to
    // cat, and a post-answer send taking seq 6, nothing changes; but a removal mirror fails (below).
    const add = [history.membersSent(200, 2, 'g', { add: ['cat'] }), history.membersAnswered(210, 2, 200)];
    const removal = [
      history.membersSent(300, 3, 'g', { remove: ['cat'] }),
      history.membersAnswered(310, 3, 200),
    ];
    const pushed = history.convFrame(305, cat, 'g', 'msg', [6]);
    const ok = judge([...add, history.ack(250, ann, message('g', 5, 'ann'), 240), ...removal, pushed]);
    expect(ok.verdict).toBe('pass');
    // Ann's send issued after the removal was answered got seq 6: 6 is after the cut, and cat got it.
    const leak = judge([
      ...add,
      history.ack(250, ann, message('g', 5, 'ann'), 240),
      ...removal,
      pushed,
      history.ack(320, ann, message('g', 6, 'ann'), 311),
    ]);
    expect(leak.verdict).toBe('fail');
    expect(lastOf(leak)).toBe(pushed);
  });

  it('passes a receipt to a new member about a cursor below its join (receipts go to members)', () => {
    expect(judge([...addCat, history.convFrame(300, cat, 'g', 'receipt', [2])]).verdict).toBe('pass');
    // Before cat's join was requested, the same receipt reached a non-member.
    expect(judge([...addCat, history.convFrame(199, cat, 'g', 'receipt', [2])]).verdict).toBe('fail');
  });

  it('fails a receipt about a seq the removed member could not read', () => {
    const leak = history.convFrame(5000, bob, 'g', 'receipt', [4]);
    const result = judge([leak]);
    expect(result.verdict).toBe('fail');
    expect(lastOf(result)).toBe(leak);
  });

  it('fails a receipt about a seq sequenced after the removal, even within the grace window', () => {
    // bob's removal answered at t=105; seq 4 was first sent at t=106, after it: no receipt at 4 was in
    // flight before the removal. One reaching bob at t=300 came from a node that relayed it by its stale
    // membership (mutant 1099 of the 74bbde3 seed-5 sample; fleet-races' stale-node race).
    const leak = history.convFrame(300, bob, 'g', 'receipt', [4]);
    const result = judge([leak]);
    expect(result.verdict).toBe('fail');
    expect(lastOf(result)).toBe(leak);
    // A receipt at a seq he could read, or a typing (no seq), within the grace window passes.
    expect(judge([history.convFrame(300, bob, 'g', 'receipt', [3])]).verdict).toBe('pass');
    expect(judge([history.convFrame(300, bob, 'g', 'typing')]).verdict).toBe('pass');
  });

  it("fails a welcome that tells a removed member a lastSeq past what it may read (v1.1's member: false entry)", () => {
    const entry = (at: number, by: typeof bob, lastSeq: number): HistoryEvent =>
      history.cursorSeen(at, by, { conv: 'g', of: by.user, kind: 'delivered', seq: 0, lastSeq }, 'welcome');
    // bob was removed after seq 3: his welcome may name seq 3, not seq 4.
    expect(judge([entry(5000, bob, 3)]).verdict).toBe('pass');
    const past = entry(5000, bob, 4);
    const result = judge([past]);
    expect(result.verdict).toBe('fail');
    expect(JSON.stringify(lastOf(result))).toContain('welcome');
    // A new member's welcome may name a seq before its join (the conversation's newest).
    expect(judge([...addCat, entry(300, cat, 4)]).verdict).toBe('pass');
    expect(judge([entry(300, eve, 4)]).verdict).toBe('fail');
  });

  it('judges a welcome or receipt kept while a re-add was in flight at the end as it was judged then: by the membership too, not by its seq alone', () => {
    // bob, removed after seq 3, is added back (sent at t=2000, answered at 2010 saying "after 4"); a
    // welcome (or a receipt) reaches him at 2005, the add in flight, naming seq 4, the conversation's
    // newest: bob never may read 4, but it is the seq his new span began after, told at the join, and he
    // may have been a member then (fleet-races seed 6 at 600 clients: u4's welcome while its re-add was
    // in flight, convicted at the end by its seq alone).
    const readd = [
      history.membersSent(2000, 2, 'g', { add: ['bob'] }),
      history.membersAnswered(2010, 2, 200, 4),
    ];
    const welcome = (at: number): HistoryEvent =>
      history.cursorSeen(at, bob, { conv: 'g', of: 'bob', kind: 'delivered', seq: 4, lastSeq: 4 }, 'welcome');
    expect(judge([...readd, welcome(2005)]).verdict).toBe('pass');
    expect(judge([...readd, history.convFrame(2005, bob, 'g', 'receipt', [4])]).verdict).toBe('pass');
    // Before the re-add was sent (past the removal's grace), a receipt of 4 is a leak.
    expect(judge([history.convFrame(1990, bob, 'g', 'receipt', [4]), ...readd]).verdict).toBe('fail');
  });

  it('fails a message pushed to a removed member past the cut, naming the frame and what the harness did', () => {
    const leak = history.convFrame(110, bob, 'g', 'msg', [4]);
    const result = judge([leak]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 unreadable seqs/);
    const path = (result.witness as WitnessCase[])[0]!.path;
    expect(path[0]).toMatchObject({
      k: 'membership',
      conv: 'g',
      user: 'bob',
      fromCreation: true,
      changes: [{ remove: 'bob', sentAt: 100, answeredAt: 105, status: 'applied', serverSaid: 3 }],
    });
    expect(path[1]).toBe(leak);
  });

  it('fails a batch holding seqs from before a join', () => {
    const early = history.convFrame(300, cat, 'g', 'batch', [3, 4, 5]);
    const result = judge([...addCat, early]);
    expect(result.verdict).toBe('fail');
    expect((result.witness as WitnessCase[])[0]!.problem).toMatch(/seqs 3, 4 in a batch/);
  });

  it('does not take the server at its word: a claim outside what the harness saw fails', () => {
    // The server says cat joined after seq 3, but seq 4 was acked before the request was sent.
    const lying = [
      history.membersSent(200, 2, 'g', { add: ['cat'] }),
      history.membersAnswered(210, 2, 200, 3),
    ];
    const result = judge([...lying, history.convFrame(300, cat, 'g', 'batch', [4, 5])]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/membership answer contradicting the history/);
    expect(result.details).toMatch(/unreadable seqs/);
  });

  it('ignores a refused change and keeps one with no answer open', () => {
    const refused = [
      history.membersSent(200, 2, 'g', { add: ['cat'] }),
      history.membersAnswered(210, 2, 409),
    ];
    expect(judge([...refused, history.convFrame(300, cat, 'g', 'msg', [5])]).verdict).toBe('fail');
    const unanswered = [
      history.membersSent(200, 2, 'g', { add: ['cat'] }),
      history.membersAnswered(10_200, 2, 0),
    ];
    expect(judge([...unanswered, history.convFrame(300, cat, 'g', 'msg', [5])]).verdict).toBe('pass');
  });

  it('fails typing relayed to a removed member after the grace window', () => {
    const late = history.convFrame(1106, bob, 'g', 'typing');
    const result = judge([late]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 frame to a non-member/);
    expect(lastOf(result)).toBe(late);
    expect(judge([history.convFrame(1104, bob, 'g', 'typing')]).verdict).toBe('pass');
  });

  it('widens the grace only for frames from a node a pause held back, by that pause', () => {
    const pause = [
      { k: 'fault', at: 50, type: 'node-pause', phase: 'start', nodes: ['n2'] },
      { k: 'fault', at: 3050, type: 'node-pause', phase: 'heal', nodes: ['n2'] },
    ] as HistoryEvent[];
    const fromNode = (at: number, node: string): HistoryEvent => ({
      ...(history.convFrame(at, bob, 'g', 'typing') as Extract<HistoryEvent, { k: 'conv-frame' }>),
      node,
    });
    // n2 was frozen when bob's removal took effect: what it relays on resuming is in flight.
    expect(judge([...pause, fromNode(3500, 'n2')]).verdict).toBe('pass');
    expect(judge([...pause, fromNode(4051, 'n2')]).verdict).toBe('fail');
    // n1 was never paused: the pause elsewhere buys its frames nothing.
    expect(judge([...pause, fromNode(1500, 'n1')]).verdict).toBe('fail');
    // A pause that ended before the removal was sent held nothing back.
    const earlier = [
      { k: 'fault', at: 10, type: 'node-pause', phase: 'start', nodes: ['n2'] },
      { k: 'fault', at: 60, type: 'node-pause', phase: 'heal', nodes: ['n2'] },
    ] as HistoryEvent[];
    expect(judge([...earlier, fromNode(1500, 'n2')]).verdict).toBe('fail');
  });

  it('widens the grace while a fault slowed client links, to the heal and a drain after it', () => {
    // Exploration seed 88715225069581: a typing relayed before bob's removal sat queued on a link at 3%
    // bandwidth and arrived 1.2 s after the answer.
    const slowed = (type: string, from: number, to: number) =>
      [
        { k: 'fault', at: from, type, phase: 'start' },
        { k: 'fault', at: to, type, phase: 'heal' },
      ] as HistoryEvent[];
    const typing = (at: number) => history.convFrame(at, bob, 'g', 'typing');
    for (const type of ['bandwidth', 'slow-consumer', 'latency', 'rate-limited-link']) {
      expect(judge([...slowed(type, 50, 3050), typing(1500)]).verdict, type).toBe('pass');
      expect(judge([...slowed(type, 50, 3050), typing(8049)]).verdict, type).toBe('pass');
      expect(judge([...slowed(type, 50, 3050), typing(8051)]).verdict, type).toBe('fail');
    }
    // A slow link that healed before the removal was sent holds nothing back; nor does another fault.
    expect(judge([...slowed('bandwidth', 10, 60), typing(1500)]).verdict).toBe('fail');
    expect(judge([...slowed('disk-slow', 50, 3050), typing(1500)]).verdict).toBe('fail');
  });

  it('fails a message whose sender was not a member when it was sequenced', () => {
    const foreign = history.durable(120, message('g', 4, 'bob'));
    const result = judge([foreign]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 message from a non-member/);
    expect(lastOf(result)).toBe(foreign);
    const acked = history.ack(130, bob, message('g', 5, 'bob'), 120);
    expect(lastOf(judge([acked]))).toBe(acked);
  });

  it('fails an attempt the server accepted, naming the attempt and its outcome', () => {
    const attempt = history.attempt(900, eve, 7, 'foreign-sync', 'g');
    const outcome = history.outcome(905, 7, 'accepted');
    const result = judge([attempt, outcome]);
    expect(result.verdict).toBe('fail');
    expect((result.witness as WitnessCase[])[0]!.path).toEqual([attempt, outcome]);
  });

  it('fails a foreign sync served a batch, even an empty one (its lastSeq tells a stranger), not `forbidden`', () => {
    const attempt = history.attempt(900, eve, 7, 'foreign-sync', 'g');
    const outcome = history.outcome(905, 7, 'empty');
    const result = judge([attempt, outcome]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 a stranger served a batch/);
    expect((result.witness as WitnessCase[])[0]!.path).toEqual([attempt, outcome]);
  });

  it('fails a conversation no one created refused `forbidden` or served a batch, not `not_found` (protocol.md)', () => {
    const sync = history.attempt(900, eve, 8, 'missing-conv', 'eve-nx');
    const send = history.attempt(901, eve, 9, 'missing-conv', 'eve-nx');
    for (const result of ['forbidden', 'empty']) {
      const outcome = history.outcome(905, 8, result);
      const failed = judge([sync, outcome]);
      expect(failed.verdict).toBe('fail');
      expect((failed.witness as WitnessCase[])[0]!.path).toEqual([sync, outcome]);
    }
    const refused = judge([
      sync,
      history.outcome(905, 8, 'not_found'),
      send,
      history.outcome(906, 9, 'not_found'),
    ]);
    expect(refused.verdict).toBe('pass');
    // A store away or a slow-down is no verdict on the code; a foreign conversation's `forbidden` is right.
    const other = judge([
      sync,
      history.outcome(905, 8, 'unavailable'),
      history.attempt(907, eve, 10, 'foreign-sync', 'g'),
      history.outcome(908, 10, 'forbidden'),
    ]);
    expect(other.verdict).toBe('pass');
  });

  it('fails a watch past the bound the harness set served, where it knows the bound; else no verdict', () => {
    const attempt = history.attempt(900, eve, 12, 'watch-past-bound', '');
    const served = history.outcome(905, 12, 'served');
    const known = checkHistory(
      [createAuthorizationChecker({ watchBoundKnown: true })],
      [...setup, attempt, served],
      finalStateFixture(),
    )[0]!;
    expect(known.verdict).toBe('fail');
    expect(known.details).toMatch(/1 a watch past the bound served/);
    expect((known.witness as WitnessCase[])[0]!.path).toEqual([attempt, served]);
    // A server's own bound (live, another server's): it may have none.
    expect(judge([attempt, served]).verdict).toBe('pass');
    const refused = checkHistory(
      [createAuthorizationChecker({ watchBoundKnown: true })],
      [...setup, attempt, history.outcome(905, 12, 'bad_request')],
      finalStateFixture(),
    )[0]!;
    expect(refused.verdict).toBe('pass');
  });

  it('fails a re-watch at the watch bound answered by an err, not its presence; a close is no verdict', () => {
    const attempt = history.attempt(900, eve, 11, 'rewatch-at-bound', '');
    const refused = history.outcome(905, 11, 'bad_request');
    const failed = judge([attempt, refused]);
    expect(failed.verdict).toBe('fail');
    expect(failed.details).toMatch(/1 a re-watch at the bound refused/);
    expect((failed.witness as WitnessCase[])[0]!.path).toEqual([attempt, refused]);
    for (const result of ['served', 'closed:1006'])
      expect(judge([attempt, history.outcome(905, 11, result)]).verdict).toBe('pass');
  });

  it('fails malformed text or a binary frame answered other than bad_request, or a frame past 64 KiB other than close 1009', () => {
    const fault = (at: number): HistoryEvent => ({ k: 'fault', at, type: 'reset_peer', phase: 'start' });
    const text = history.attempt(900, eve, 12, 'malformed-text', '');
    const big = history.attempt(901, eve, 13, 'oversize-text', '');
    const binary = history.attempt(902, eve, 14, 'binary-frame', '');
    expect(
      judge([
        text,
        history.outcome(905, 12, 'bad_request'),
        big,
        history.outcome(906, 13, 'closed:1009'),
        binary,
        history.outcome(907, 14, 'bad_request'),
      ]).verdict,
    ).toBe('pass');
    for (const [attempt, result] of [
      [text, 'forbidden'],
      [binary, 'forbidden'],
      [big, 'bad_request'],
      [big, 'closed:4400'],
    ] as const) {
      const outcome = history.outcome(905, attempt.k === 'attempt' ? attempt.id : 0, result);
      const failed = judge([attempt, outcome]);
      expect(failed.verdict).toBe('fail');
      expect(failed.details).toMatch(/1 malformed text answered wrongly/);
      expect((failed.witness as WitnessCase[])[0]!.path).toEqual([attempt, outcome]);
    }
    // A close of a malformed text's connection is no verdict; nor another close of the big one's after a fault.
    expect(judge([text, history.outcome(905, 12, 'closed:1006')]).verdict).toBe('pass');
    expect(judge([fault(800), big, history.outcome(905, 13, 'closed:1006')]).verdict).toBe('pass');
  });

  it('fails a 4400 close before the bad frame past the bound, and that frame answered other than close 4400', () => {
    const fault = (at: number): HistoryEvent => ({ k: 'fault', at, type: 'reset_peer', phase: 'start' });
    const text = history.attempt(900, eve, 12, 'malformed-text', '');
    const binary = history.attempt(901, eve, 13, 'binary-frame', '');
    const past = history.attempt(902, eve, 14, 'bad-frame-past-limit', '');
    expect(judge([past, history.outcome(905, 14, 'closed:4400')]).verdict).toBe('pass');
    // The adversary sends at most the bound's bad frames before the one past it: a 4400 that ends one
    // of those unanswered came early (the 1st or the 10th closed, not the 11th).
    for (const attempt of [text, binary]) {
      const early = history.outcome(905, attempt.k === 'attempt' ? attempt.id : 0, 'closed:4400');
      const failed = judge([fault(800), attempt, early]);
      expect(failed.verdict).toBe('fail');
      expect(failed.details).toMatch(/1 malformed text answered wrongly/);
      expect((failed.witness as WitnessCase[])[0]!.path).toEqual([attempt, early]);
    }
    for (const result of ['bad_request', 'closed:1008']) {
      const outcome = history.outcome(905, 14, result);
      const failed = judge([past, outcome]);
      expect(failed.verdict).toBe('fail');
      expect((failed.witness as WitnessCase[])[0]!.problem).toMatch(/past the bound.*not close 4400/);
    }
    // Another close once a fault started may be the fault's.
    expect(judge([fault(800), past, history.outcome(905, 14, 'closed:1006')]).verdict).toBe('pass');
  });

  it("judges a connection's lifecycle: a silent one closed 4408 not before the timeout, a wrong first frame closed 4401, a watch past the bound not closed 4400", () => {
    const silent = history.attempt(900, eve, 15, 'silent-connection', '');
    const first = history.attempt(900, eve, 16, 'wrong-first-frame', '');
    const watch = history.attempt(900, eve, 17, 'watch-past-bound', '');
    expect(judge([silent, history.outcome(5910, 15, 'closed:4408')]).verdict).toBe('pass');
    expect(judge([first, history.outcome(920, 16, 'closed:4401')]).verdict).toBe('pass');
    // A fault's close is no verdict.
    expect(judge([silent, history.outcome(3000, 15, 'closed:reset')]).verdict).toBe('pass');
    expect(judge([first, history.outcome(3000, 16, 'closed:1012')]).verdict).toBe('pass');
    for (const [attempt, result, why] of [
      [silent, 'closed:4408-early', /before the server's hello timeout/],
      [silent, 'closed:4408-late', /more than a second past the server's hello timeout/],
      [silent, 'closed:4401', /closed 4401, not 4408/],
      [first, 'closed:4400', /not close 4401/],
      [first, 'bad_request', /not close 4401/],
    ] as const) {
      const outcome = history.outcome(5910, attempt.k === 'attempt' ? attempt.id : 0, result);
      const failed = judge([attempt, outcome]);
      expect(failed.verdict).toBe('fail');
      expect((failed.witness as WitnessCase[])[0]!.problem).toMatch(why);
    }
    const closed = history.outcome(905, 17, 'closed:4400');
    const failed = checkHistory(
      [createAuthorizationChecker({ watchBoundKnown: true })],
      [...setup, watch, closed],
      finalStateFixture(),
    )[0]!;
    expect(failed.verdict).toBe('fail');
    expect((failed.witness as WitnessCase[])[0]!.problem).toMatch(
      /was closed 4400, not answered `bad_request`/,
    );
  });

  it("excuses an early 4408 when a node's clock was set within the hello timeout before the close", () => {
    // Swarm seed 134799303094587: a silent connection opened on n0 at 5497, n0's clock was set an hour
    // ahead at 9844, and the hello deadline (5 s on the node's clock) fell due at once: closed 4408 at
    // 9853, 4.35 s after the open. The core's timers read its wall clock, and a step forward cannot be
    // told from time passing (timer-queue.ts): the harness, not the server, owns that clock's step.
    const silent = history.attempt(5502, eve, 15, 'silent-connection', '');
    const early = history.outcome(9853, 15, 'closed:4408-early');
    const clock = (at: number, phase: 'start' | 'heal'): HistoryEvent => ({
      k: 'fault',
      at,
      type: 'clock-offset',
      phase,
      nodes: ['n0'],
    });
    expect(judge([silent, clock(9844, 'start'), early]).verdict).toBe('pass');
    expect(judge([clock(1000, 'start'), silent, clock(9000, 'heal'), early]).verdict).toBe('pass');
    expect(judge([silent, clock(9844, 'start'), early]).details).toMatch(
      /1 early 4408 after a node's clock was set, not judged/,
    );
    // A clock set before the connection could have begun (over the hello timeout before the close)
    // moved no deadline of it; nor does another fault excuse it.
    expect(judge([clock(1000, 'start'), silent, early]).verdict).toBe('fail');
    const latency: HistoryEvent = { k: 'fault', at: 9844, type: 'latency', phase: 'start' };
    expect(judge([silent, latency, early]).verdict).toBe('fail');
    // The scenario's own hello timeout bounds the window.
    const short = checkHistory(
      [createAuthorizationChecker({ helloTimeoutMs: 1000 })],
      [...setup, silent, clock(8000, 'start'), early],
      finalStateFixture(),
    )[0]!;
    expect(short.verdict).toBe('fail');
  });

  it('fails a send or sync answered by silence, unless a fault that may silence a connection started or speed is part of the run', () => {
    const fault = (at: number, type: string): HistoryEvent => ({ k: 'fault', at, type, phase: 'start' });
    for (const action of [
      'foreign-send',
      'foreign-sync',
      'missing-conv',
      'rewatch-at-bound',
      'malformed-text',
      'binary-frame',
      'bad-frame-past-limit',
      'oversize-text',
      'silent-connection',
      'wrong-first-frame',
    ]) {
      const attempt = history.attempt(900, eve, 3, action, 'g');
      const silence = history.outcome(5900, 3, 'no-answer');
      const failed = judge([fault(800, 'reset_peer'), attempt, silence]);
      expect(failed.verdict).toBe('fail');
      expect((failed.witness as WitnessCase[])[0]!.path).toEqual([attempt, silence]);
      expect(failed.details).toMatch(/1 sends, syncs or re-watches given up on \(judged for silence\)/);
      // A blackhole (or any fault but a loud one) may leave the connection dead, also after its heal.
      const quieted = judge([fault(800, 'timeout'), attempt, silence]);
      expect(quieted.verdict).toBe('pass');
      expect(quieted.details).toMatch(/judged until timeout started/);
      const slow = checkHistory(
        [createAuthorizationChecker({ judgeSilence: false })],
        [...setup, attempt, silence],
        finalStateFixture(),
      )[0]!;
      expect(slow.verdict).toBe('pass');
    }
    // protocol.md lets a foreign resume or typing be refused by silence.
    for (const action of ['foreign-resume', 'foreign-typing'])
      expect(
        judge([history.attempt(900, eve, 4, action, 'g'), history.outcome(5900, 4, 'no-answer')]).verdict,
      ).toBe('pass');
  });

  it("judges silence after a quieting fault by the faults on the attempt's own node", () => {
    // A fleet node rechecks a member-only frame against the store before refusing it: a recheck whose
    // answer is dropped leaves the attempt unanswered (mutants 522 and 527 of the session-18 sample).
    const fault = (at: number, type: string, phase: 'start' | 'heal', nodes?: string[]): HistoryEvent => ({
      k: 'fault',
      at,
      type,
      phase,
      ...(nodes === undefined ? {} : { nodes }),
    });
    const onN1 = { ...history.session(600, eve), node: 'n1' };
    const attempt = history.attempt(900, eve, 3, 'foreign-sync', 'g');
    const silence = history.outcome(5900, 3, 'no-answer');
    // A slow Redis on n2 only (quieting, so the old rule stopped judging): n1 still owes its answer.
    const elsewhere = [fault(500, 'redis-latency', 'start', ['n2']), onN1, attempt, silence];
    const failed = judge(elsewhere);
    expect(failed.verdict).toBe('fail');
    expect((failed.witness as WitnessCase[])[0]!.path).toEqual([attempt, silence]);
    expect(failed.details).toMatch(/then by the faults on the attempt's node: 1 judged/);
    expect((failed.witness as WitnessCase[])[0]!.problem).toMatch(/its node \(n1\)/);
    // Excused: a fault on n1 that slows its store's answers, or cuts its sessions, open meanwhile.
    for (const type of ['redis-latency', 'store-flaky', 'node-pause'])
      expect(judge([...elsewhere.slice(0, 3), fault(3000, type, 'start', ['n1']), silence]).verdict).toBe(
        'pass',
      );
    // A cut of every node's clients (none named), healed before the attempt, after the connection began:
    // the connection may be silently dead.
    const cutBefore = [fault(650, 'timeout', 'start'), fault(800, 'timeout', 'heal')];
    expect(judge([...elsewhere.slice(0, 2), ...cutBefore, attempt, silence]).verdict).toBe('pass');
    // The same cut before the connection began: judged.
    expect(
      judge([fault(500, 'timeout', 'start'), fault(550, 'timeout', 'heal'), ...elsewhere.slice(1)]).verdict,
    ).toBe('fail');
    // A store that refuses at once leaves the node to answer with an err: no excuse.
    expect(
      judge([...elsewhere.slice(0, 3), fault(3000, 'store-outage', 'start', ['n1']), silence]).verdict,
    ).toBe('fail');
    // No session seen for the device (its node unknown): not judged after a quieting fault.
    expect(judge([elsewhere[0]!, attempt, silence]).verdict).toBe('pass');
  });

  it('cannot tell about an attempt left unanswered from before the settle phase', () => {
    const result = judge([history.attempt(900, eve, 1, 'foreign-send', 'g'), history.phase(1000, 'settle')]);
    expect(result.verdict).toBe('unknown');
    expect(result.details).toMatch(/1 unanswered \(1 from before the settle phase/);
    const inFlight = judge([
      history.phase(1000, 'settle'),
      history.attempt(1900, eve, 1, 'foreign-send', 'g'),
    ]);
    expect(inFlight.verdict).toBe('pass');
  });

  describe('a welcome lists every conversation the user is a member of', () => {
    /**
     * `by`'s welcome at `at` (connecting from `at` - 1) listing `convs` (each as its two cursors), each
     * entry with this `lastSeq` (default 4) and v1.1 `member` flag (default none).
     */
    const welcome = (
      at: number,
      by: typeof cat,
      convs: string[],
      entry: { lastSeq?: number; member?: boolean } = {},
    ): HistoryEvent[] => [
      history.session(at, by),
      ...convs.flatMap((conv) =>
        (['delivered', 'read'] as const).map(
          (kind): HistoryEvent => ({
            k: 'cursor-seen',
            at,
            conv,
            of: by.user,
            kind,
            seq: 0,
            lastSeq: entry.lastSeq ?? 4,
            source: 'welcome',
            ...(entry.member === undefined ? {} : { member: entry.member }),
            ...by,
          }),
        ),
      ),
    ];
    const fault = (at: number, phase: 'start' | 'heal'): HistoryEvent => ({
      k: 'fault',
      at,
      type: 'redis-latency',
      phase,
    });
    const omissions = (result: { witness: unknown[] }) =>
      (result.witness as WitnessCase[]).filter((w) => /did not list/.test(w.problem));

    it('fails a welcome that leaves out a conversation the user was added to, once the change is well past', () => {
      const listed = judge([...addCat, ...welcome(5000, cat, ['g'])]);
      expect(listed.verdict).toBe('pass');
      expect(listed.details).toMatch(
        /1 welcomes of users the run made members judged: 1 conversations owed in them \(0 by their node's own bus cut\), 0 left out/,
      );
      const left = judge([...addCat, ...welcome(5000, cat, [])]);
      expect(left.verdict).toBe('fail');
      expect(omissions(left)[0]!.problem).toMatch(
        /cat\/d1's welcome at 5000 did not list g, though cat was surely a member of it from 210/,
      );
      expect(lastOf(left)).toMatchObject({ k: 'session', at: 5000, user: 'cat' });
      // Another device's event closes the welcome: its entries came in the same step as the session.
      const late = judge([...addCat, ...welcome(5000, cat, []), ...welcome(5000, ann, ['g']).slice(1)]);
      expect(omissions(late)).toHaveLength(1);
      // An adversary's own event in that step does not.
      const between = judge([
        ...addCat,
        history.session(5000, cat),
        history.attempt(5000, cat, 9, 'foreign-sync', 'h'),
        ...welcome(5000, cat, ['g']).slice(1),
        history.outcome(5100, 9, 'forbidden'),
      ]);
      expect(omissions(between)).toHaveLength(0);
    });

    it('owes it only a lag of no fault after the answer, and only while the user surely stays a member', () => {
      // Connecting 2.8 s after the add's answer: a fleet node may not have heard of it yet.
      expect(judge([...addCat, ...welcome(3000, cat, [])]).verdict).toBe('pass');
      // A fault from 300 to 4000: owed from 7000 on (3 s after it healed).
      expect(
        judge([...addCat, fault(300, 'start'), fault(4000, 'heal'), ...welcome(6900, cat, [])]).verdict,
      ).toBe('pass');
      expect(
        judge([...addCat, fault(300, 'start'), fault(4000, 'heal'), ...welcome(7100, cat, [])]).verdict,
      ).toBe('fail');
      // Removed (bob, at 105), or a removal sent and not answered when the welcome came: not owed.
      expect(judge([...welcome(5000, bob, [])]).verdict).toBe('pass');
      const removing = [history.membersSent(4500, 3, 'g', { remove: ['cat'] })];
      expect(judge([...addCat, ...removing, ...welcome(5000, cat, [])]).verdict).toBe('pass');
      // A refused add makes no member.
      const refused = [
        history.membersSent(200, 2, 'g', { add: ['cat'] }),
        history.membersAnswered(210, 2, 403),
      ];
      expect(judge([...refused, ...welcome(5000, cat, [])]).verdict).toBe('pass');
    });

    describe("judges an entry's v1.1 member flag by the harness's own membership changes", () => {
      /** `by`'s welcome at `at` listing `conv` (lastSeq 3: bob may read it) with this `member` flag. */
      const flagged = (at: number, by: typeof cat, conv: string, member?: boolean): HistoryEvent[] =>
        welcome(at, by, [conv], member === undefined ? { lastSeq: 3 } : { lastSeq: 3, member });
      const misflags = (result: { witness: unknown[] }) =>
        (result.witness as WitnessCase[]).filter((w) => / listed \S+ with member /.test(w.problem));

      it('fails a removed user told it is a member, once the removal is well past', () => {
        // bob was removed from g at 105 (answered): from 3105 on with no fault, his entry says member: false.
        const past = judge(flagged(5000, bob, 'g', false));
        expect(past.verdict).toBe('pass');
        expect(past.details).toMatch(/1 entries' member flags judged \(1 of removed users\), 0 wrong/);
        for (const member of [true, undefined]) {
          const told = judge(flagged(5000, bob, 'g', member));
          expect(told.verdict).toBe('fail');
          expect(misflags(told)[0]!.problem).toMatch(
            /bob\/d1's welcome at 5000 listed g with member .*, though bob was surely removed from it from 105/,
          );
        }
        // A fleet node may not have heard of the removal yet: not judged within the lag, nor after a fault
        // until the lag has passed since its heal.
        expect(judge(flagged(3000, bob, 'g', true)).verdict).toBe('pass');
        expect(
          judge([fault(300, 'start'), fault(4000, 'heal'), ...flagged(6900, bob, 'g', true)]).verdict,
        ).toBe('pass');
        expect(
          judge([fault(300, 'start'), fault(4000, 'heal'), ...flagged(7100, bob, 'g', true)]).verdict,
        ).toBe('fail');
        // A re-add sent before the welcome (answered or not) may have reached the node: not judged.
        const readding = [history.membersSent(4500, 3, 'g', { add: ['bob'] })];
        expect(judge([...readding, ...flagged(5000, bob, 'g', true)]).verdict).toBe('pass');
        // A removal answered with an error removed no one for sure: not judged.
        const refused = [
          history.membersSent(200, 2, 'g', { remove: ['ann'] }),
          history.membersAnswered(210, 2, 503),
        ];
        expect(judge([...refused, ...flagged(5000, ann, 'g', true)]).verdict).toBe('pass');
      });

      it("fails a member's entry that says member: false, and judges nothing of an entry left out", () => {
        expect(judge([...addCat, ...flagged(5000, cat, 'g', true)]).verdict).toBe('pass');
        expect(judge([...addCat, ...flagged(5000, cat, 'g')]).verdict).toBe('pass');
        const told = judge([...addCat, ...flagged(5000, cat, 'g', false)]);
        expect(told.verdict).toBe('fail');
        expect(misflags(told)[0]!.problem).toMatch(/cat was surely a member of it from 210/);
        // A past membership a server does not list (v1.1 says "may") is no verdict.
        const unlisted = judge([history.session(5000, bob)]);
        expect(unlisted.verdict).toBe('pass');
        expect(unlisted.details).toMatch(/0 entries' member flags judged/);
      });
    });

    it("owes a conversation joined before the welcoming node's own bus cut healed, with no lag (bus-cuts.ts)", () => {
      const cut = (at: number, phase: 'start' | 'heal', node = 'n3'): HistoryEvent =>
        history.busCut(at, phase, node);
      // cat added at 210; n3 cut from 100 to 4000; cat's device connects to n3 at 999 (welcomed at 1000).
      const on = (at: number, node: string, convs: string[]): HistoryEvent[] => {
        const [session, ...entries] = welcome(at, cat, convs);
        return [{ ...session!, node } as HistoryEvent, ...entries];
      };
      const during = judge([cut(100, 'start'), ...addCat, ...on(1000, 'n3', [])]);
      expect(during.verdict).toBe('fail');
      expect(omissions(during)[0]!.problem).toMatch(/after n3 was cut from the bus/);
      expect(judge([cut(100, 'start'), ...addCat, ...on(1000, 'n3', ['g'])]).details).toMatch(
        /1 conversations owed in them \(1 by their node's own bus cut\), 0 left out/,
      );
      // Another node's cut is an excuse as any fault is (the lag after its heal).
      expect(judge([cut(100, 'start', 'n2'), ...addCat, ...on(1000, 'n3', [])]).verdict).toBe('pass');
      // After the heal too, while no fault slowed n3's link during the cut.
      const healed = [cut(100, 'start'), ...addCat, cut(4000, 'heal')];
      expect(judge([...healed, ...on(4200, 'n3', [])]).verdict).toBe('fail');
      expect(
        judge([cut(100, 'start'), fault(150, 'start'), ...addCat, cut(4000, 'heal'), ...on(4200, 'n3', [])])
          .verdict,
      ).toBe('pass');
      // A connection that began before the cut: only the lag binds it.
      expect(judge([...addCat, cut(1000, 'start'), ...on(1000, 'n3', [])]).verdict).toBe('pass');
    });

    it('allows a welcome built while an add was unanswered to list the conversation at the join', () => {
      // cat's add sent at 200, answered at 210 "after 4": a welcome at 205 (a node's catch-up read the
      // add before its answer came back) lists g at 4, the join point, which cat may not read.
      const [sentAdd, answeredAdd] = addCat;
      const early = [sentAdd!, ...welcome(205, cat, ['g']), answeredAdd!];
      expect(judge(early).verdict).toBe('pass');
      // Told as received by a welcome while the add was answered and the user's device connected
      // before it, a seq past what the membership lets it read still fails (bob's horizon is 3).
      expect(judge([...welcome(5000, bob, ['g'], { lastSeq: 4 })]).verdict).toBe('fail');
    });

    it('owes a conversation created during the run from its answer, not those made before it', () => {
      const created = history.conv(500, 'h', ['cat', 'eve']);
      expect(judge([created, ...welcome(4000, cat, [])]).verdict).toBe('fail');
      expect(judge([created, ...welcome(4000, cat, ['h'])]).verdict).toBe('pass');
      // ann has been in g from the start (at 0): every node loads it, and this rule does not judge it.
      expect(judge([...welcome(5000, ann, [])]).verdict).toBe('pass');
    });
  });
});
