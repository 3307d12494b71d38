// A server that answers a send made again after its ack "not now" (`unavailable`) for good, while it is
// up and serves every other send, breaks protocol.md's idempotent send (the same key yields the same
// ack): an idempotency failure with its witness, not a pass. The broken rule is a policy the store is
// built with (a StoreState subclass that fails every duplicate append, which the node answers
// `unavailable`: a unique-key violation surfaced as a 503), not a branch in production code.

import { describe, expect, it } from 'vitest';
import type { AppendRequest, AppendResult } from '../reference-server/store/message-store.ts';
import { StoreState } from '../reference-server/store/store-state.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from './run-scenario.ts';

/** Fails every append of a key it already holds: the node answers such a send `unavailable`. */
class BusyOnDuplicatesStoreState extends StoreState {
  override append(request: AppendRequest): AppendResult {
    const result = super.append(request);
    if (result.status === 'ok' && result.duplicate) throw new Error('duplicate key');
    return result;
  }
}

/** Whole simulations on a shared 2-core box: generous, never a wall-clock assertion. */
const simTimeoutMs = 600_000;
/** A quarter of crash-restart's clients: the judgement is under test, not the scale. */
const clients = 150;

describe('a send made again answered "not now" for good', () => {
  it(
    'fails idempotency with the resend and its give-up as witness',
    async () => {
      const summary = await runScenario(loadScenario('crash-restart'), {
        seed: 1,
        clients,
        storeState: () => new BusyOnDuplicatesStoreState(),
      });
      const idempotency = summary.verdicts.find((v) => v.property === 'idempotency')!;
      expect(idempotency.verdict).toBe('fail');
      expect(idempotency.details).toMatch(/send made again never acked/);
      expect((idempotency.witness[0] as { path: unknown[] }).path).toEqual([
        expect.objectContaining({ k: 'resent-err', code: 'unavailable', tries: expect.any(Number) }),
      ]);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );
});
