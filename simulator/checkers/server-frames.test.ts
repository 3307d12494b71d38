import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history } from './history-fixture.ts';
import { createServerFramesChecker } from './server-frames.ts';

const ann = device('ann');
const judge = (events: HistoryEvent[]) =>
  checkHistory([createServerFramesChecker()], events, finalStateFixture())[0]!;

describe('server-frames', () => {
  it('passes welcomes with nothing malformed, and fails a malformed welcome or err with its problem', () => {
    const clean = judge([history.session(10, ann), history.session(20, ann)]);
    expect(clean.verdict).toBe('pass');
    expect(clean.details).toMatch(/2 welcomes judged/);
    const bad = judge([
      history.session(10, ann),
      { k: 'bad-frame', at: 30, t: 'err', problem: 'ref "" is neither a cmid nor a frame type', ...ann },
    ]);
    expect(bad.verdict).toBe('fail');
    expect(bad.details).toMatch(/1 malformed err/);
    expect(JSON.stringify(bad.witness[0])).toMatch(/ann\/.* got a malformed err: ref \\"\\"/);
  });

  it('cannot pass a run with no session at all', () => {
    expect(judge([]).verdict).toBe('unknown');
  });
});

describe('server-frames: a slow consumer is closed 4509', () => {
  const seen = (events: HistoryEvent[], options: Parameters<typeof createServerFramesChecker>[0] = {}) =>
    checkHistory(
      [createServerFramesChecker({ sendBuffersSeen: true, ...options })],
      [history.session(5, ann), ...events],
      finalStateFixture(),
    )[0]!;
  const buffer = (at: number, state: 'over' | 'under' | 'closed' | 'ended', code?: number): HistoryEvent => ({
    k: 'send-buffer',
    at,
    state,
    bytes: 70_000,
    ...(code === undefined ? {} : { code }),
    ...ann,
  });
  const fault = (at: number, type: string, phase: 'start' | 'heal'): HistoryEvent => ({
    k: 'fault',
    at,
    type,
    phase,
  });

  it('passes a buffer past the bound closed 4509 in time, and fails one never closed or closed late', () => {
    const closed = seen([buffer(100, 'over'), buffer(100, 'closed', 4509)]);
    expect(closed.verdict).toBe('pass');
    expect(closed.details).toMatch(/1 send buffers past the bound: 1 closed 4509/);
    const never = seen([buffer(100, 'over'), history.phase(9000, 'final')]);
    expect(never.verdict).toBe('fail');
    expect(never.details).toMatch(/1 slow consumer not closed 4509/);
    expect(JSON.stringify(never.witness[0])).toMatch(
      /ann\/.*'s connection had 70000 bytes queued toward it at 100/,
    );
    expect(seen([buffer(100, 'over'), buffer(5200, 'closed', 4509)]).verdict).toBe('fail');
  });

  it('owes the close even when the queue drains back first, and nothing when the connection ended otherwise', () => {
    // A queue over by one frame drains back within that frame's transmission: no excuse.
    const drained = seen([buffer(100, 'over'), buffer(300, 'under'), buffer(7000, 'ended')]);
    expect(drained.verdict).toBe('fail');
    expect(seen([buffer(100, 'over'), buffer(300, 'under'), buffer(400, 'closed', 4509)]).verdict).toBe(
      'pass',
    );
    // The client closed it, or a fault reset it, before the close was due.
    expect(seen([buffer(100, 'over'), buffer(2000, 'ended')]).verdict).toBe('pass');
    // Still open at the run's end, before its deadline: not judged.
    const open = checkHistory(
      [createServerFramesChecker({ sendBuffersSeen: true })],
      [history.session(5, ann), buffer(100, 'over')],
      finalStateFixture({ at: 3000 }),
    )[0]!;
    expect(open.details).toMatch(/1 at the run's end/);
  });

  it("excuses a node a fault may have held up, not one whose clients' links were only slowed", () => {
    const paused = [fault(50, 'node-pause', 'start'), fault(3000, 'node-pause', 'heal')];
    expect(seen([...paused, buffer(100, 'over'), history.phase(9000, 'final')]).verdict).toBe('pass');
    const slowed = [fault(50, 'slow-consumer', 'start'), fault(3000, 'slow-consumer', 'heal')];
    expect(seen([...slowed, buffer(100, 'over'), history.phase(9000, 'final')]).verdict).toBe('fail');
    // With a cost model the node's speed is part of the run: owed by the run's end only.
    expect(seen([buffer(100, 'over'), buffer(8000, 'closed', 4509)], { judgeSilence: false }).verdict).toBe(
      'pass',
    );
  });

  it('is unknown where the scenario wants its slow consumers past the bound and none got there', () => {
    const slowed = [fault(50, 'slow-consumer', 'start'), fault(3000, 'slow-consumer', 'heal')];
    const unreached = seen(slowed, { slowConsumersPassBound: true });
    expect(unreached.verdict).toBe('unknown');
    expect(unreached.details).toMatch(/pushed no send buffer past the bound/);
    expect(seen(slowed).verdict).toBe('pass');
    const reached = seen([...slowed, buffer(100, 'over'), buffer(100, 'closed', 4509)], {
      slowConsumersPassBound: true,
    });
    expect(reached.verdict).toBe('pass');
    // Live the harness cannot see the buffer: nothing is owed, and nothing said.
    const live = judge([history.session(5, ann), ...slowed]);
    expect(live.verdict).toBe('pass');
    expect(live.details).not.toMatch(/send buffers/);
  });

  it('fails a 4509 on a connection whose queue never passed the bound (in the simulator only)', () => {
    const lost = (at: number, reason: string): HistoryEvent => ({ k: 'session-lost', at, reason, ...ann });
    const early = seen([lost(200, '4509')]);
    expect(early.verdict).toBe('fail');
    expect(early.details).toMatch(/1 closed 4509 under the bound/);
    expect(JSON.stringify(early.witness[0])).toMatch(/never passed the node's send-buffer bound/);
    // Past the bound on this connection, drained back or not: the 4509 was owed.
    expect(seen([buffer(100, 'over'), buffer(100, 'closed', 4509), lost(150, '4509')]).verdict).toBe('pass');
    expect(
      seen([buffer(100, 'over'), buffer(110, 'under'), buffer(120, 'closed', 4509), lost(150, '4509')])
        .verdict,
    ).toBe('pass');
    // A pass of the bound on an earlier session excuses no later one's 4509; other closes are not judged.
    const later = seen([
      buffer(100, 'over'),
      buffer(100, 'closed', 4509),
      lost(150, '4509'),
      lost(900, '4509'),
    ]);
    expect(later.verdict).toBe('fail');
    expect(seen([lost(200, '1012'), lost(300, 'reset')]).verdict).toBe('pass');
    // Live the harness cannot see the buffer: a 4509 is not judged.
    expect(judge([history.session(5, ann), lost(200, '4509')]).verdict).toBe('pass');
  });
});
