// A welcome's v1.1 `member` flags, judged by authorization from the harness's own membership changes:
// a server that lists a user's past membership as current (mutant 439 of the 3c0f288 sample: every
// past entry said `member: true`) tells a removed user it may still write there. churn removes members
// whose devices reconnect later; the gate must say so. The broken server is a ChatNode subclass that
// rewrites the welcomes the shipped core builds, not a branch in production code.

import { describe, expect, it } from 'vitest';
import { ChatNode } from '../reference-server/core/chat-node.ts';
import type { Effect } from '../reference-server/core/effects.ts';
import type { Input } from '../reference-server/core/inputs.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from './run-scenario.ts';

/** Every past-membership entry of a welcome says `member: true`. */
class PastMembershipsCurrent extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    return super.handle(input, now).map((effect) =>
      effect.type === 'send' && effect.frame.t === 'welcome'
        ? {
            ...effect,
            frame: {
              ...effect.frame,
              convs: effect.frame.convs.map((entry) =>
                entry.member === false ? { ...entry, member: true } : entry,
              ),
            },
          }
        : effect,
    );
  }
}

/** Whole simulations on a shared 2-core box: generous, never a wall-clock assertion. */
const simTimeoutMs = 600_000;
/** A quarter of churn's clients: the check is under test, not the scale. */
const clients = 150;

describe("a welcome's member flags", () => {
  it(
    'pass on the shipped core and fail a server that tells a removed user it is a member',
    async () => {
      const shipped = await runScenario(loadScenario('churn'), { seed: 1, clients });
      const passed = shipped.verdicts.find((v) => v.property === 'authorization')!;
      expect(passed.verdict).toBe('pass');
      expect(passed.details).toMatch(/member flags judged \([1-9]\d* of removed users\), 0 wrong/);

      const summary = await runScenario(loadScenario('churn'), {
        seed: 1,
        clients,
        chatNode: (options) => new PastMembershipsCurrent(options),
      });
      const authorization = summary.verdicts.find((v) => v.property === 'authorization')!;
      expect(authorization.verdict).toBe('fail');
      expect(authorization.details).toMatch(/welcome with a wrong member flag/);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );
});
