// The final read must come after every ack the history holds: durable-ack, no-loss, agreement and
// gap-free-store judge the acks against it, and a read cannot show a message acked after it. settle.ts
// orders it so (a settled run has nothing unacked when it reads; an unsettled one stops its generators
// first). This checks that order held, from the times themselves: an ack after the read began makes
// every "missing from the store" of the run suspect, a harness fault and not the server's, so it must
// be said. (bench/live-connect-burst.json at load 20, 04:30 UTC 2026-12-01: 74 acks at 180-192 s
// judged missing from a final read begun at 172 s; it took an hour to see that the read came first.)

import type { CheckResult } from '../history.ts';

export const finalReadOrderProperty = 'final-read-order';

/**
 * An ack's time is its generator's clock, the read's the driver's (both the wall clock since the run's
 * origin, in different processes): a settled run may read a moment after its last ack, so only an ack
 * this much later than the read's start is taken for one after it. The false reds it explains came
 * seconds late (7-20 s).
 */
export const finalReadOrderSlackMs = 1000;

/** An `unknown` verdict when the last ack came after the final read began; null when the order held. */
export function finalReadOrder(lastAckAt: number, readStartedAt: number): CheckResult | null {
  if (!(lastAckAt > readStartedAt + finalReadOrderSlackMs)) return null;
  const problem = `an ack at ${Math.round(lastAckAt)} ms came after the final read began at ${Math.round(readStartedAt)} ms`;
  return {
    property: finalReadOrderProperty,
    verdict: 'unknown',
    details: `could not judge: ${problem}, so the read may lack what was acked after it: a message that durable-ack or no-loss call missing from the store may be the harness's late read, not a loss`,
    witness: [
      {
        problem,
        path: [
          { k: 'final-read', at: readStartedAt },
          { k: 'ack', at: lastAckAt },
        ],
      },
    ],
  };
}
