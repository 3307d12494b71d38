import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../simulator/history.ts';
import { HeldSessions } from './held-sessions.ts';

const open = (at: number, device: string): HistoryEvent => ({
  k: 'session',
  at,
  connectMs: 1,
  first: true,
  user: device,
  device,
});
const lost = (at: number, device: string): HistoryEvent => ({
  k: 'session-lost',
  at,
  reason: 'reset',
  user: device,
  device,
});

const sync = (at: number): HistoryEvent => ({
  k: 'sync-sent',
  at,
  user: 'a',
  device: 'a',
  conv: 'c',
  after: 0,
});

describe('HeldSessions', () => {
  it('counts the sessions open at the window start, the fewest within it and the most overall', () => {
    const held = new HeldSessions(100, 200);
    for (const event of [open(10, 'a'), open(20, 'b'), open(30, 'c'), lost(150, 'a'), lost(160, 'b')])
      held.observe(event);
    held.observe(open(170, 'a'));
    held.observe(lost(250, 'c'));
    expect(held.figures()).toEqual({
      atStartOfWindow: 3,
      minInWindow: 1,
      minAtMs: 160,
      max: 3,
      maxAtMs: 30,
    });
  });

  it('ignores what happens after the window when judging it', () => {
    const held = new HeldSessions(100, 200);
    held.observe(open(10, 'a'));
    held.observe(lost(200, 'a'));
    expect(held.figures()).toMatchObject({ atStartOfWindow: 1, minInWindow: 1, minAtMs: 100 });
  });

  it('a window with no session event in it held the level it began with', () => {
    const held = new HeldSessions(100, 200);
    held.observe(open(10, 'a'));
    held.observe(open(20, 'b'));
    held.observe(sync(150));
    expect(held.figures()).toMatchObject({ atStartOfWindow: 2, minInWindow: 2, minAtMs: 100 });
  });

  it('a run that never reached the window says so instead of reporting a level', () => {
    const held = new HeldSessions(100, 200);
    held.observe(open(10, 'a'));
    held.observe(sync(50));
    expect(held.figures()).toMatchObject({ atStartOfWindow: null, minInWindow: null, max: 1 });
  });

  it('other events count nothing but show the run reached the window', () => {
    const held = new HeldSessions(0, 10);
    held.observe(sync(1));
    expect(held.figures()).toMatchObject({ atStartOfWindow: 0, minInWindow: 0, max: 0 });
  });
});
