// A node cut from the bus loses the other nodes' `presence` events meanwhile; on its way back it asks
// for their snapshots (`presence-snapshot` with `ask`), or its watchers keep the old state until that
// user changes again (protocol.md `watch`: "one on every later change"). Partition's last cut of node 1
// comes while four watched users go away for good (workload.awayWindowMs): presence-convergence fails
// a node that does not ask (3c0f288 seed-3 sample mutant 50).

import { describe, expect, it } from 'vitest';
import { ChatNode } from '../reference-server/core/chat-node.ts';
import type { Effect } from '../reference-server/core/effects.ts';
import type { Input } from '../reference-server/core/inputs.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from './run-scenario.ts';

const seed = 1;
const clients = 200;
const simTimeoutMs = 300_000;

/** A node that, back on the bus, publishes its own snapshot but does not ask the others for theirs. */
class AsksNothingBack extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    const effects = super.handle(input, now);
    if (input.type !== 'bus-resumed') return effects;
    return effects.map((effect) => {
      if (effect.type !== 'publish' || effect.event.kind !== 'presence-snapshot') return effect;
      const { ask: _ask, ...event } = effect.event;
      return { ...effect, event };
    });
  }
}

describe('presence after a bus cut (partition)', () => {
  it(
    'users who go away while a node is cut from the bus are shown offline there, and the run passes',
    async () => {
      const summary = await runScenario(loadScenario('partition'), { seed, clients });
      const verdict = summary.verdicts.find((v) => v.property === 'presence-convergence')!;
      expect(verdict.verdict).toBe('pass');
      expect(summary.exitCode).toBe(0);
    },
    simTimeoutMs,
  );

  it(
    'fails a node that does not ask for the snapshots on its way back',
    async () => {
      const summary = await runScenario(loadScenario('partition'), {
        seed,
        clients,
        chatNode: (options) => new AsksNothingBack(options),
      });
      const verdict = summary.verdicts.find((v) => v.property === 'presence-convergence')!;
      expect(verdict.verdict).toBe('fail');
      expect(verdict.details).toMatch(/stale online/);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );
});
