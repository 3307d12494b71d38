// workload.firstPress (large-group): the presser dials first and presses before anyone else sends, so
// its send bucket is the node's first, and rate-limit judges the press with no slack: in the simulator a
// frame takes at least the network's latency either way, so the node served the press within its acks'
// span less a round trip. A node whose first bucket gives the first user one send too many in a burst
// (4a1ec6e seed-4 mutant 586: row 0 taken for "no bucket yet", a second full bucket at the second send)
// passed before: the presser sent once first, so its burst was never the node's first sends, and the
// check allowed one send over.

import { describe, expect, it } from 'vitest';
import { ChatNode, type ChatNodeOptions } from '../reference-server/core/chat-node.ts';
import { defaultLimits } from '../reference-server/core/limits.ts';
import type { TokenBuckets } from '../reference-server/core/token-bucket.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import type { HistoryEvent } from './history.ts';
import { firstPressPlan } from './press.ts';
import { runScenario } from './run-scenario.ts';

const seed = 1;
const clients = 200;
const simTimeoutMs = 300_000;

/**
 * Mutant 586's node: the first bucket of a node incarnation (row 0) is filled anew at its second take,
 * as a second full bucket was made for that user. Reaches into the buckets as the mutant's line did.
 */
class FirstBucketTwice extends ChatNode {
  constructor(options: ChatNodeOptions) {
    super(options);
    const buckets = (this as unknown as { sendBuckets: TokenBuckets }).sendBuckets;
    const rows = buckets as unknown as { tokens: Float64Array; refilledAt: Float64Array };
    const take = buckets.take.bind(buckets);
    let rowZeroTakes = 0;
    buckets.take = (row: number, now: number): number => {
      if (row === 0 && ++rowZeroTakes === 2) {
        rows.tokens[0] = defaultLimits.userSendBurst;
        rows.refilledAt[0] = now;
      }
      return take(row, now);
    };
  }
}

function largeGroup(firstPress: boolean) {
  const written = loadScenario('large-group');
  return { ...written, workload: { ...written.workload, firstPress } };
}

describe('a press that is the node’s first sends (workload.firstPress)', () => {
  it(
    'no other device has a session before the press, and the real server passes it with no slack',
    async () => {
      let pressAt = Number.NaN;
      let presser = '';
      const firstSessionAt = new Map<string, number>();
      const observe = (event: HistoryEvent): void => {
        if (event.k !== 'press' && event.k !== 'session') return;
        const device = `${event.user}/${event.device}`;
        if (event.k === 'press') {
          pressAt = event.at;
          presser = device;
        } else if (!firstSessionAt.has(device)) firstSessionAt.set(device, event.at);
      };
      const summary = await runScenario(largeGroup(true), {
        seed,
        clients,
        recorder: { observe, tick: () => {} },
      });
      // Another device's sends leave once it has a session, which it asks for from 300 ms on.
      expect(pressAt).toBe(firstPressPlan.pressAtMs);
      firstSessionAt.delete(presser);
      expect(Math.min(...firstSessionAt.values())).toBeGreaterThan(firstPressPlan.othersFromMs);
      const verdict = summary.verdicts.find((v) => v.property === 'rate-limit')!;
      expect(verdict.verdict).toBe('pass');
      expect(verdict.details).toMatch(/1 of 1 presses judged/);
      expect(summary.exitCode).toBe(0);
    },
    simTimeoutMs,
  );

  it(
    'fails a node whose first bucket gives one send too many (mutant 586), which passed without it',
    async () => {
      const deviant = { chatNode: (options: ChatNodeOptions) => new FirstBucketTwice(options) };
      const caught = await runScenario(largeGroup(true), { seed, clients, ...deviant });
      const verdict = caught.verdicts.find((v) => v.property === 'rate-limit')!;
      expect(verdict.verdict).toBe('fail');
      expect(verdict.details).toMatch(/served over the limit/);
      expect(caught.exitCode).toBe(1);
      const missed = await runScenario(largeGroup(false), { seed, clients, ...deviant });
      expect(missed.verdicts.find((v) => v.property === 'rate-limit')!.verdict).toBe('pass');
    },
    simTimeoutMs,
  );
});
