import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { CheckerFeed } from './checker-feed.ts';
import { createDeliveryModeChecker } from './delivery-mode.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';

const ann = device('ann');
const bob = device('bob');
const judge = (events: HistoryEvent[]) =>
  checkHistory([createDeliveryModeChecker({ largeGroupThreshold: 2 })], events, finalStateFixture())[0]!;

/** `small` has 2 members (at the threshold: small), `big` 3 (above it: large); bob sends in each. */
const setup: HistoryEvent[] = [
  history.conv(0, 'small', ['ann', 'bob']),
  history.conv(0, 'big', ['ann', 'bob', 'cy']),
  history.ack(1, bob, message('small', 1, 'bob')),
  history.ack(1, bob, message('big', 1, 'bob')),
];

describe('delivery-mode', () => {
  it('passes msg in small conversations, notify in large ones, receipts only in small ones', () => {
    const result = judge([
      ...setup,
      history.convFrame(2, ann, 'small', 'msg', [1]),
      history.convFrame(2, ann, 'big', 'notify'),
      history.convFrame(3, bob, 'small', 'receipt'),
    ]);
    expect(result.verdict).toBe('pass');
    expect(result.details).toMatch(/^3 frames judged/);
  });

  it('fails a notify in a small conversation, a pushed msg or a receipt in a large group', () => {
    expect(judge([...setup, history.convFrame(2, ann, 'small', 'notify')]).details).toMatch(
      /1 notify in a small conversation/,
    );
    expect(judge([...setup, history.convFrame(2, ann, 'big', 'msg', [1])]).details).toMatch(
      /1 msg pushed in a large group/,
    );
    expect(judge([...setup, history.convFrame(2, ann, 'big', 'receipt')]).details).toMatch(
      /1 receipt in a large group/,
    );
  });

  it('does not judge a conversation whose membership the harness changed, nor one it did not create', () => {
    const changed = history.membersSent(1, 7, 'big', { remove: ['cy'] });
    expect(
      judge([
        ...setup,
        changed,
        history.convFrame(2, ann, 'big', 'msg', [1]),
        history.convFrame(2, ann, 'small', 'msg', [1]),
      ]).verdict,
    ).toBe('pass');
    expect(
      judge([
        ...setup,
        history.convFrame(2, ann, 'elsewhere', 'notify'),
        history.convFrame(2, ann, 'small', 'msg', [1]),
      ]).verdict,
    ).toBe('pass');
  });

  it('cannot pass when sends were acked and nothing came, nor when nothing was sent', () => {
    expect(judge(setup).details).toMatch(/^nothing judged: 2 acked sends/);
    expect(judge([history.conv(0, 'small', ['ann', 'bob'])]).verdict).toBe('unknown');
  });
});

describe('delivery-mode: push reach', () => {
  const m1 = message('small', 1, 'bob');
  const online: HistoryEvent[] = [
    history.conv(0, 'small', ['ann', 'bob']),
    history.conv(0, 'big', ['ann', 'bob', 'cy']),
    history.session(10, ann),
    history.session(10, bob),
  ];
  /** A receipt ann gets at `at`: proof that her session still carried frames then. */
  const heard = (at: number) => history.convFrame(at, ann, 'small', 'receipt');
  const missed = (events: HistoryEvent[]) =>
    judge(events).witness.map((w) => (w as { problem: string }).problem);

  it('passes a push that came before the ack or after it, on the session the member held throughout', () => {
    const early = judge([
      ...online,
      history.convFrame(99, ann, 'small', 'msg', [1]),
      history.ack(100, bob, m1),
      heard(9000),
    ]);
    expect(early.verdict).toBe('pass');
    expect(early.details).toMatch(/1 pushes owed to member devices online throughout judged for reach/);
    const late = judge([
      ...online,
      history.ack(100, bob, m1),
      history.convFrame(2000, ann, 'small', 'msg', [1]),
      heard(9000),
    ]);
    expect(late.verdict).toBe('pass');
  });

  it('fails a message a member online throughout never got as a push, though she read it by sync', () => {
    const problems = missed([
      ...online,
      history.ack(100, bob, m1),
      history.convFrame(600, ann, 'small', 'batch', [1]),
      history.display(600, ann, m1, 'sync'),
      heard(3200),
    ]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/ann\/d1 held one session from 10 .*small seq 1.* never pushed/);
  });

  it('does not judge a push that was not yet due when the session ended or was last heard', () => {
    // Heard only 2 s after the ack (due after 3 s), then the session ended: it may have been on its way.
    expect(judge([...online, history.ack(100, bob, m1), heard(2100)]).witness).toEqual([]);
    // The client says its session held, but the server was never heard after the push was due.
    const cut = [...online, history.ack(100, bob, m1), heard(500), history.phase(60_000, 'final')];
    expect(judge(cut).witness).toEqual([]);
  });

  it('waits for the faults open at the ack to heal before a push is due', () => {
    const faulted = [
      ...online,
      { k: 'fault', at: 50, type: 'partition', phase: 'start', nodes: ['n2'] } as HistoryEvent,
      history.ack(100, bob, m1),
      { k: 'fault', at: 5000, type: 'partition', phase: 'heal', nodes: ['n2'] } as HistoryEvent,
    ];
    expect(judge([...faulted, heard(7000)]).witness).toEqual([]);
    expect(missed([...faulted, heard(8100)])).toHaveLength(1);
  });

  it('owes nothing to the sending device, to a session opened after the send, in a changed or large conversation', () => {
    const lateSession = [
      history.conv(0, 'small', ['ann', 'bob']),
      history.session(10, bob),
      history.session(150, ann),
      history.ack(200, bob, m1, 120),
      heard(9000),
    ];
    expect(judge(lateSession).witness).toEqual([]);
    const changed = [
      ...online,
      history.membersSent(50, 1, 'small', { add: ['cy'] }),
      history.ack(100, bob, m1),
      heard(9000),
    ];
    expect(judge(changed).witness).toEqual([]);
    const large = [
      ...online,
      history.ack(100, bob, message('big', 1, 'bob')),
      history.convFrame(200, ann, 'big', 'notify'),
      heard(9000),
    ];
    expect(judge(large).witness).toEqual([]);
  });
});

describe('delivery-mode: receipt reach', () => {
  const bob2 = { user: 'bob', device: 'd2' };
  const online: HistoryEvent[] = [
    history.conv(0, 'small', ['ann', 'bob']),
    history.session(10, ann),
    history.session(10, bob),
    history.session(10, bob2),
  ];
  const receipt = (at: number, seq: number) =>
    history.cursorSeen(at, ann, { conv: 'small', of: 'bob', kind: 'delivered', seq, lastSeq: seq });
  /** Both ann and bob hear the server at `at`: both connections still held then. */
  const heard = (at: number): HistoryEvent[] => [
    history.convFrame(at, ann, 'small', 'msg', [9]),
    history.convFrame(at, bob, 'small', 'msg', [9]),
  ];
  /** The store is away from 50 to 1000. */
  const storeCut = [
    { k: 'fault', at: 50, type: 'store-outage', phase: 'start' },
    { k: 'fault', at: 1000, type: 'store-outage', phase: 'heal' },
  ] as HistoryEvent[];
  const problems = (events: HistoryEvent[]) =>
    judge(events).witness.map((w) => (w as { problem: string }).problem);

  it('passes when the other members hear of a cursor, by that receipt or a later one past it', () => {
    expect(
      problems([
        ...online,
        history.cursorSent(100, bob, 'small', 'delivered', 3),
        receipt(150, 3),
        ...heard(5000),
      ]),
    ).toEqual([]);
    expect(
      problems([
        ...online,
        history.cursorSent(100, bob, 'small', 'delivered', 3),
        receipt(900, 5),
        ...heard(5000),
      ]),
    ).toEqual([]);
    expect(
      judge([...online, history.cursorSent(100, bob, 'small', 'delivered', 3), receipt(150, 3)]).details,
    ).toMatch(/1 receipts owed to them judged/);
  });

  describe('owed receipts the run could not judge (live no-receipts passed steady under load, session 21)', () => {
    /** bob's send issued at 50 and acked `lagMs` later, then his cursor at 5000; both heard at 9000, the run ends at 9500. */
    const loaded = (lagMs: number): HistoryEvent[] => [
      ...online,
      history.ack(50 + lagMs, bob, message('small', 1, 'bob'), 50),
      history.convFrame(60 + lagMs, ann, 'small', 'msg', [1]),
      history.cursorSent(5000, bob, 'small', 'delivered', 1),
      ...heard(9000),
      history.phase(9500, 'final'),
    ];

    it('fails a cursor never told when acks were quick, and cannot pass when slow acks put it past the end', () => {
      // Quick acks: due by 8000, heard at 9000, never told: caught.
      expect(judge(loaded(100)).verdict).toBe('fail');
      // Acks 4 s late: due by 12000, after the run's end. Nothing owed was judged: not a pass.
      const slow = judge(loaded(4000));
      expect(slow.witness).toEqual([]);
      expect(slow.verdict).toBe('unknown');
      expect(slow.details).toMatch(
        /^could not judge: receipt reach judged 0 of 1 owed, 1 still owed at the run's end; /,
      );
      expect(slow.details).toMatch(
        /1 more receipts owed not judged: 1 due after their session's end \(up to 2500 ms after it\)/,
      );
    });

    it('says why: the device or the sender not heard after the due time', () => {
      /** bob's cursor at 100 (due 3100); ann last heard at `annAt`, bob at `bobAt`. */
      const lastHeard = (annAt: number, bobAt: number) =>
        judge([
          ...online,
          history.cursorSent(100, bob, 'small', 'delivered', 3),
          history.convFrame(annAt, ann, 'small', 'msg', [9]),
          history.convFrame(bobAt, bob, 'small', 'msg', [9]),
          history.phase(60_000, 'final'),
        ]);
      for (const [annAt, bobAt, why] of [
        [200, 5000, 'with the device not hearing the server after their due time'],
        [5000, 200, "with the cursor's sender not hearing the server after it"],
      ] as const) {
        const result = lastHeard(annAt, bobAt);
        expect(result.verdict).toBe('unknown');
        expect(result.details).toContain(`1 more receipts owed not judged: 1 ${why}`);
      }
    });

    it('does not count what sessions that ended before the run did were owed (a fault cut them)', () => {
      // ann's session is cut at 2000, before bob's cursor at 100 was due (3100): no longer run would judge it.
      const cut = judge([
        ...online,
        history.cursorSent(100, bob, 'small', 'delivered', 3),
        ...heard(1500),
        { k: 'session-lost', at: 2000, reason: 'reset', ...ann } as HistoryEvent,
        history.session(2500, ann),
        ...heard(9000),
        history.phase(9500, 'final'),
      ]);
      expect(cut.verdict).toBe('pass');
      expect(cut.details).toMatch(
        /0 receipts owed to them judged; 1 more receipts owed not judged: 1 due after their session's end \(up to 1100 ms after it\); 0 of them owed at the run's end/,
      );
    });

    it("passes when it judged at least as many owed receipts as were still owed at the run's end", () => {
      const half = judge([
        ...online,
        history.cursorSent(100, bob, 'small', 'delivered', 3),
        receipt(150, 3),
        history.cursorSent(4000, bob, 'small', 'read', 3),
        ...heard(5000),
        history.phase(5500, 'final'),
      ]);
      expect(half.verdict).toBe('pass');
      expect(half.details).toMatch(/1 receipts owed to them judged; 1 more receipts owed not judged/);
    });

    it('cannot pass on push reach either when every push owed fell due after the end', () => {
      const pushes = judge([
        ...online,
        history.ack(100, bob, message('small', 1, 'bob')),
        history.convFrame(2000, ann, 'small', 'receipt'),
        history.phase(2100, 'final'),
      ]);
      expect(pushes.verdict).toBe('unknown');
      expect(pushes.details).toMatch(
        /^could not judge: push reach judged 0 of 2 owed, 2 still owed at the run's end; /,
      );
    });
  });

  it('judges a device owed both a push and a receipt at the end of the run for each, as if each judgement were alone', () => {
    // ann is still online at the end, owed bob's seq 1 as a push and his cursor at 3 as a receipt: the
    // push judgement's end of her session must leave the receipt judgement her session as it stood.
    const found = problems([
      ...online,
      history.ack(100, bob, message('small', 1, 'bob')),
      history.cursorSent(100, bob, 'small', 'delivered', 3),
      ...heard(5000),
    ]);
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/ann\/d1 held one session from 10 .*small seq 1.* never pushed/);
    expect(found[1]).toMatch(
      /ann\/d1 .* never got a receipt of bob's delivered cursor at 3 or past it in small/,
    );
  });

  it('fails a cursor moved forward that a member online throughout never heard of', () => {
    const found = problems([
      ...online,
      history.cursorSent(100, bob, 'small', 'delivered', 3),
      receipt(150, 2),
      ...heard(5000),
    ]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      /ann\/d1 .* never got a receipt of bob's delivered cursor at 3 or past it in small/,
    );
  });

  it('fails a cursor sent while a fault was open, and not refused, that is never told after the fault heals', () => {
    const events = (heardAt: number) => [
      ...online,
      storeCut[0]!,
      history.cursorSent(100, bob, 'small', 'delivered', 3),
      storeCut[1]!,
      ...heard(heardAt),
    ];
    // Due 3 s after the heal at 1000, not 3 s after it was sent: heard at 3500 is too soon to tell.
    expect(problems(events(3500))).toEqual([]);
    const found = problems(events(4500));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      /never got a receipt of bob's delivered cursor at 3 .* sent at 100 and due by 4000/,
    );
    // A fault that starts before it is due delays it as well.
    const late = [
      ...online,
      history.cursorSent(100, bob, 'small', 'delivered', 3),
      { k: 'fault', at: 2000, type: 'node-pause', phase: 'start' } as HistoryEvent,
      { k: 'fault', at: 2500, type: 'node-pause', phase: 'heal' } as HistoryEvent,
    ];
    expect(problems([...late, ...heard(5000)])).toEqual([]);
    expect(problems([...late, ...heard(5600)])[0]).toMatch(/due by 5500/);
  });

  it('fails a server that sends no receipt at all, in the warm-up and after a fault healed as well', () => {
    const faults = [
      { k: 'phase', at: 0, phase: 'warmup' },
      { k: 'fault', at: 20, type: 'partition', phase: 'start' },
      { k: 'fault', at: 60, type: 'partition', phase: 'heal' },
    ] as HistoryEvent[];
    const found = problems([
      ...faults,
      ...online,
      // A seq bob read from the store (a sync): the store holds it, so the cursor moves to it.
      history.cursorSent(100, bob, 'small', 'delivered', 6),
      history.cursorSent(200, bob, 'small', 'read', 6),
      ...heard(5000),
    ]);
    expect(found).toHaveLength(2);
    expect(found[1]).toMatch(
      /never got a receipt of bob's read cursor at 6 or past it in small, sent at 200/,
    );
  });

  describe('a node still draining a backlog when the cursor came (live large-group, pages9 05:27)', () => {
    const dan = device('dan');
    /** A frame naming the node `by`'s session is on. */
    const on = (at: number, by: { user: string; device: string }, node: string) =>
      ({ ...history.convFrame(at, by, 'other', 'msg', [1]), node }) as HistoryEvent;
    /** dan issued a send at 20000 that its node acked only at 70000; bob moves his cursor at 40000, with nothing issued in the 10 s before. */
    const backlog = (danSince: number, danNode: string): HistoryEvent[] => [
      ...online,
      on(11, ann, 'n1'),
      on(11, bob, 'n1'),
      history.session(danSince, dan),
      on(danSince + 1, dan, danNode),
      history.cursorSent(40_000, bob, 'small', 'delivered', 3),
      history.ack(70_000, dan, message('other', 1, 'dan'), 20_000),
    ];

    it('a cursor queued behind the backlog is due 3 s after the backlog drained, not after it was sent', () => {
      // Without the drain, due by 43000 (no send issued from 30000 on): heard at 72000 was a false red.
      expect(problems([...backlog(10, 'n1'), ...heard(72_000)])).toEqual([]);
      // Not judged, and said so: a queue that drains to the end of every session must not hide silence.
      expect(judge([...backlog(10, 'n1'), ...heard(72_000)]).details).toMatch(
        /0 receipts owed to them judged \(1 more not, their due time past the session's end only for a queue still draining\)/,
      );
    });

    it('a server that never tells the cursor is still caught once the backlog drained', () => {
      const found = problems([...backlog(10, 'n1'), ...heard(74_000)]);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(
        /never got a receipt of bob's delivered cursor at 3 .* sent at 40000 and due by 73000/,
      );
    });

    it("a send held in an offline device's outbox, or acked on another node, does not stretch it", () => {
      // dan's session opened at 30000, after the send was issued: it waited for dan, not for the node.
      expect(problems([...backlog(30_000, 'n1'), ...heard(72_000)])[0]).toMatch(/due by 43000/);
      // dan is on n2; ann and bob on n1.
      expect(problems([...backlog(10, 'n2'), ...heard(72_000)])[0]).toMatch(/due by 43000/);
    });
  });

  it("expects nothing of a cursor that is no news, refused, due after the run, or whose sender's session did not hold", () => {
    // bob's other device had sent a higher cursor already.
    const noNews = [
      ...online,
      history.cursorSent(50, bob2, 'small', 'delivered', 5),
      receipt(60, 5),
      history.cursorSent(100, bob, 'small', 'delivered', 4),
      ...heard(5000),
    ];
    expect(problems(noNews)).toEqual([]);
    // A fault that never heals: the receipt is never due.
    const fault = { k: 'fault', at: 1000, type: 'timeout', phase: 'start' } as HistoryEvent;
    expect(
      problems([...online, history.cursorSent(100, bob, 'small', 'delivered', 3), fault, ...heard(5000)]),
    ).toEqual([]);
    const lost = { k: 'session-lost', at: 120, user: 'bob', device: 'd1', reason: 'reset' } as HistoryEvent;
    expect(
      problems([...online, history.cursorSent(100, bob, 'small', 'delivered', 3), lost, ...heard(5000)]),
    ).toEqual([]);
    // The sender never heard the server after the cursor was due: its client held a session the server
    // may have closed unheard (a partition), so the cursor may never have arrived.
    const unheard = [...online, history.cursorSent(100, bob, 'small', 'delivered', 3), heard(5000)[0]!];
    expect(problems(unheard)).toEqual([]);
    // A store cut answered the cursor `unavailable`: it moved nothing.
    expect(
      problems([
        ...online,
        storeCut[0]!,
        history.cursorSent(100, bob, 'small', 'delivered', 3),
        history.cursorRefused(110, bob, 'small', 'delivered', 'unavailable'),
        storeCut[1]!,
        ...heard(5000),
      ]),
    ).toEqual([]);
    // ann's second device came after the cursor was sent: its welcome carries only its own cursors.
    const late = [
      ...online,
      history.cursorSent(100, bob, 'small', 'delivered', 3),
      history.session(200, { user: 'ann', device: 'd2' }),
      history.convFrame(5000, { user: 'ann', device: 'd2' }, 'small', 'msg', [9]),
      receipt(150, 3),
      ...heard(5000),
    ];
    expect(problems(late)).toEqual([]);
    // Never heard from the server after the receipt was due: the connection may have been cut.
    expect(
      problems([...online, history.cursorSent(100, bob, 'small', 'delivered', 3), ...heard(2000)]),
    ).toEqual([]);
  });
});

describe('delivery-mode: what a live run held its sessions open for (hold-owed.ts)', () => {
  const online: HistoryEvent[] = [
    history.conv(0, 'small', ['ann', 'bob']),
    history.session(10, ann),
    history.session(10, bob),
  ];
  const ping = (at: number, by: { user: string; device: string }) =>
    ({ k: 'ping', at, ...by }) as HistoryEvent;
  /** Feeds `events` to a fresh checker as a run does, and answers what it is owed after each part. */
  const run = (parts: HistoryEvent[][]) => {
    const checker = createDeliveryModeChecker({ largeGroupThreshold: 2 });
    const feed = new CheckerFeed([checker]);
    const owed = parts.map((part) => {
      for (const event of part) feed.observe(event);
      return checker.owedPending!();
    });
    return { checker, owed };
  };
  /** bob's send acked 4 s late, then his cursor at 5000: due by 12000, past the settle at 9500. */
  const slowCursor: HistoryEvent[] = [
    ...online,
    history.ack(4050, bob, message('small', 1, 'bob'), 50),
    history.convFrame(4060, ann, 'small', 'msg', [1]),
    history.cursorSent(5000, bob, 'small', 'delivered', 1),
    ping(9000, ann),
    ping(9000, bob),
    history.phase(9500, 'final'),
  ];

  it('is owed a receipt until both the device and the sender heard the server after it was due', () => {
    const { owed } = run([slowCursor, [ping(12_500, ann)], [ping(12_600, bob)]]);
    expect(owed).toEqual([
      { pushes: 0, receipts: 1 },
      { pushes: 0, receipts: 1 },
      { pushes: 0, receipts: 0 },
    ]);
    // Told: nothing owed any more.
    const told = run([
      slowCursor,
      [history.cursorSeen(11_000, ann, { conv: 'small', of: 'bob', kind: 'delivered', seq: 1, lastSeq: 1 })],
    ]);
    expect(told.owed[1]).toEqual({ pushes: 0, receipts: 0 });
  });

  it('fails a receipt never told once held past its due time; at the settle it could not judge', () => {
    const { checker } = run([slowCursor, [ping(12_500, ann), ping(12_600, bob)]]);
    const held = checker.finish({ ...finalStateFixture({ at: 9500 }), heldUntil: 13_000 });
    expect(held.verdict).toBe('fail');
    expect(held.details).toMatch(/1 cursor never told to a member online throughout/);
    const notHeld = run([slowCursor, [ping(12_500, ann), ping(12_600, bob)]]).checker;
    expect(notHeld.finish(finalStateFixture({ at: 9500 })).verdict).toBe('unknown');
  });

  it('is owed a push until the device heard the server after it was due, then fails it when held', () => {
    const pushed: HistoryEvent[] = [...online, history.ack(100, bob, message('small', 1, 'bob'))];
    const { checker, owed } = run([pushed, [ping(2000, ann)], [ping(4000, ann)]]);
    expect(owed.map((o) => o.pushes)).toEqual([1, 1, 0]);
    const result = checker.finish({ ...finalStateFixture({ at: 2100 }), heldUntil: 4500 });
    expect(result.witness.map((w) => (w as { problem: string }).problem)).toEqual([
      expect.stringMatching(/ann\/d1 held one session from 10 .* never pushed that message/),
    ]);
  });

  it('owes nothing no hold could judge: a fault still open, a sender whose session ended unheard', () => {
    const open = { k: 'fault', at: 1000, type: 'timeout', phase: 'start' } as HistoryEvent;
    expect(run([[...online, open, history.cursorSent(2000, bob, 'small', 'delivered', 3)]]).owed).toEqual([
      { pushes: 0, receipts: 0 },
    ]);
    const senderGone = [
      ...online,
      history.cursorSent(100, bob, 'small', 'delivered', 3),
      { k: 'session-lost', at: 500, reason: 'reset', ...bob } as HistoryEvent,
      history.session(600, bob),
    ];
    expect(run([senderGone, [ping(5000, ann), ping(5000, bob)]]).owed).toEqual([
      { pushes: 0, receipts: 0 },
      { pushes: 0, receipts: 0 },
    ]);
    // The same cursor, bob's session still open: owed until he is heard after it was due (3100).
    const senderOn = [...online, history.cursorSent(100, bob, 'small', 'delivered', 3)];
    expect(run([senderOn, [ping(5000, ann)], [ping(5000, bob)]]).owed.map((o) => o.receipts)).toEqual([
      1, 1, 0,
    ]);
  });
});
