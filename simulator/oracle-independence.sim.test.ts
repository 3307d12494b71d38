// The checkers' oracle must not trust the server under test: a store that assigns a new member's span
// one seq too early (the member may read the message sequenced just before the join) has to fail
// authorization, though the server's own spans say the read was allowed. The broken rule is a policy
// the store is built with (a StoreState subclass), not a branch in production code.

import { describe, expect, it } from 'vitest';
import type { MembershipSpan, MembersRequest } from '../reference-server/store/message-store.ts';
import { StoreState } from '../reference-server/store/store-state.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from './run-scenario.ts';

/** Lets a joining member read from lastSeq, not lastSeq + 1: one seq before the join. */
class EarlySpanStoreState extends StoreState {
  override changeMembers(request: MembersRequest): ReturnType<StoreState['changeMembers']> {
    const outcome = super.changeMembers(request);
    if (outcome.result.status !== 'ok' || !outcome.changed) return outcome;
    for (const user of request.add) {
      const spans = this.spansOf(request.conv, user) as MembershipSpan[] | undefined;
      const joined = spans?.at(-1);
      if (joined !== undefined && joined.to === null && joined.from > 1) joined.from -= 1;
    }
    return { ...outcome, result: { status: 'ok', conversation: this.record(request.conv)! } };
  }
}

/** Whole simulations on a shared 2-core box: generous, never a wall-clock assertion. */
const simTimeoutMs = 600_000;
/** A quarter of churn's clients: the oracle is under test, not the scale (churn seed 1 at full size is CI's gate step). */
const clients = 150;

describe('oracle independence', () => {
  it(
    'fails authorization when the store assigns a join span one seq too early',
    async () => {
      const summary = await runScenario(loadScenario('churn'), {
        seed: 1,
        clients,
        storeState: () => new EarlySpanStoreState(),
      });
      const authorization = summary.verdicts.find((v) => v.property === 'authorization')!;
      expect(authorization.verdict).toBe('fail');
      expect(authorization.details).toMatch(/unreadable seqs/);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );

  it(
    'passes the same run with the real store',
    async () => {
      const summary = await runScenario(loadScenario('churn'), { seed: 1, clients });
      expect(summary.verdicts.find((v) => v.property === 'authorization')!.verdict).toBe('pass');
    },
    simTimeoutMs,
  );
});
