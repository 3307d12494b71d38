import { describe, expect, it } from 'vitest';
import type { Checker } from '../history.ts';
import { checkersOwed, describeHeld, type HoldSteps, holdForOwed } from './hold-owed.ts';

/** A clock that moves only when the hold pauses (500 ms a pause), and what is owed at each time. */
function steps(
  owedAt: (now: number) => Record<string, number>,
  maxMs: number,
  seenUpTo: (now: number) => number = (now) => now,
): HoldSteps & { pauses: number } {
  let now = 20_000;
  const s = {
    pauses: 0,
    now: () => now,
    maxMs,
    pause: async () => {
      s.pauses++;
      now += 500;
    },
    owed: () => owedAt(now),
    seenUpTo: () => seenUpTo(now),
  };
  return s;
}

describe('holdForOwed', () => {
  it('holds until nothing is owed, and says for what', async () => {
    const s = steps((now) => ({ receipts: now < 23_000 ? 40 : 0, pushes: now < 21_000 ? 2 : 0 }), 30_000);
    const held = await holdForOwed(s);
    expect(held).toEqual({
      ms: 3000,
      until: 23_000,
      owedAtStart: { receipts: 40, pushes: 2 },
      owedAtEnd: { receipts: 0, pushes: 0 },
      bounded: false,
    });
    expect(describeHeld(held, 30_000)).toBe('held 3.0 s after settle for 40 receipts and 2 pushes owed');
  });

  it('does not hold when nothing is owed', async () => {
    const s = steps(() => ({ receipts: 0 }), 30_000);
    const held = await holdForOwed(s);
    expect(s.pauses).toBe(0);
    expect(held.ms).toBe(0);
    expect(describeHeld(held, 30_000)).toBeNull();
  });

  it('stops at the bound with what is still owed, and not at all with a bound of 0', async () => {
    const s = steps(() => ({ receipts: 7 }), 2000);
    const held = await holdForOwed(s);
    expect(held).toMatchObject({ ms: 2000, bounded: true, owedAtEnd: { receipts: 7 } });
    expect(describeHeld(held, 2000)).toBe(
      'held 2.0 s after settle for 7 receipts owed; the bound (2 s) left 7 receipts unjudged',
    );
    const off = await holdForOwed(steps(() => ({ receipts: 7 }), 0));
    expect(off.ms).toBe(0);
    expect(describeHeld(off, 0)).toBe(
      'not held after settle (hold bound 0 s): 7 receipts owed left unjudged',
    );
  });

  it('believes nothing owed until the checkers have seen the run up to the hold', async () => {
    // The history reaches the checkers 1.2 s late: at the start they have not yet seen the cursors.
    const s = steps(
      (now) => ({ receipts: now >= 21_200 && now < 22_000 ? 5 : 0 }),
      30_000,
      (now) => now - 1200,
    );
    const held = await holdForOwed(s);
    expect(held.owedAtStart).toEqual({ receipts: 5 });
    expect(held.until).toBe(22_000);
  });
});

describe('checkersOwed', () => {
  it('sums what each checker is owed, by what; a checker without owedPending owes nothing', () => {
    const checker = (owed?: Record<string, number>): Checker => ({
      property: 'p',
      kinds: [],
      observe: () => {},
      finish: () => ({ property: 'p', verdict: 'pass', details: '', witness: [] }),
      ...(owed === undefined ? {} : { owedPending: () => owed }),
    });
    expect(checkersOwed([checker({ receipts: 2, pushes: 1 }), checker(), checker({ receipts: 3 })])).toEqual({
      receipts: 5,
      pushes: 1,
    });
  });
});
