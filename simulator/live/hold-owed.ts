// After a live run settles, its sessions stay open while the checkers are still owed something a longer
// run could judge (`Checker.owedPending`: delivery-mode's pushes and receipts not yet due, or due with
// the device not heard since), within a bound. Under load a receipt is due seconds after the run
// settles (its due time waits out the ack latency around its cursor), so a run that ended at settle
// judged none of them: against a server that sends no receipts, delivery-mode could only say it could
// not judge (docs/benchmarks.md, session 22, recv22). Idle sessions still hear the server: it pings
// every connection (the reference server every 10 s), and a ping heard after a due time proves a
// frame owed by then was never sent (frames on one connection arrive in order).

import type { Checker } from '../history.ts';

export type OwedCounts = Readonly<Record<string, number>>;

export type HoldSteps = {
  /** The run clock. */
  now(): number;
  /** The hold ends by this long after it began, whatever is still owed (0: no hold). */
  maxMs: number;
  /** Waits between two looks at what is owed (rejects when the run fails). */
  pause(): Promise<void>;
  /** What the checkers are owed that a longer run could judge, by what (checkersOwed). */
  owed(): OwedCounts;
  /**
   * The run time up to which the checkers have seen the history (the generators' events reach them
   * late on a loaded box): nothing owed is believed until they have seen the run up to the hold's start.
   */
  seenUpTo(): number;
};

export type Held = {
  /** How long the sessions were held after settle (ms). */
  ms: number;
  /** The run clock when the hold ended: the checkers judge the sessions as they stood then. */
  until: number;
  /** What was owed when the hold began, and when it ended (nothing, unless the bound cut it). */
  owedAtStart: OwedCounts;
  owedAtEnd: OwedCounts;
  /** Whether the bound ended it with something still owed. */
  bounded: boolean;
};

/** Everything `checkers` are owed, by what, summed over them. */
export function checkersOwed(checkers: readonly Checker[]): OwedCounts {
  const out: Record<string, number> = {};
  for (const checker of checkers)
    for (const [what, n] of Object.entries(checker.owedPending?.() ?? {})) out[what] = (out[what] ?? 0) + n;
  return out;
}

function total(owed: OwedCounts): number {
  return Object.values(owed).reduce((a, n) => a + n, 0);
}

export async function holdForOwed(steps: HoldSteps): Promise<Held> {
  const start = steps.now();
  let owedAtStart = steps.owed();
  let owed = owedAtStart;
  let caughtUp = steps.seenUpTo() >= start;
  while ((!caughtUp || total(owed) > 0) && steps.now() - start < steps.maxMs) {
    await steps.pause();
    owed = steps.owed();
    if (!caughtUp && steps.seenUpTo() >= start) {
      caughtUp = true;
      owedAtStart = owed;
    }
  }
  const until = steps.now();
  return { ms: until - start, until, owedAtStart, owedAtEnd: owed, bounded: total(owed) > 0 };
}

/** "held 21.3 s for 1,240 receipts and 3 pushes owed" (and what the bound left owed), or null when not held. */
export function describeHeld(held: Held, maxMs: number): string | null {
  if (total(held.owedAtStart) === 0 && !held.bounded) return null;
  const list = (owed: OwedCounts) =>
    Object.entries(owed)
      .filter(([, n]) => n > 0)
      .map(([what, n]) => `${n.toLocaleString('en-US')} ${what}`)
      .join(' and ');
  if (maxMs === 0)
    return `not held after settle (hold bound 0 s): ${list(held.owedAtEnd)} owed left unjudged`;
  const left = held.bounded ? `; the bound (${maxMs / 1000} s) left ${list(held.owedAtEnd)} unjudged` : '';
  return `held ${(held.ms / 1000).toFixed(1)} s after settle for ${list(held.owedAtStart) || list(held.owedAtEnd)} owed${left}`;
}
