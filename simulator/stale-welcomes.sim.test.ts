// fleet-races' stale welcomes (workload.staleWelcomes, bus-cuts.ts): while node 2 is cut from the bus,
// users whose devices are on it are made members of a group through the admin's node and say hello to
// it. The correct fleet holds their welcomes until it has caught up and lists the group; a node that
// takes no notice of losing its bus (mutant 43 of the 74bbde3 seed-5 sample: `case 'bus-lost'` gone)
// welcomes them at once without it, and authorization's welcome judgement fails the run.

import { describe, expect, it } from 'vitest';
import { ChatNode } from '../reference-server/core/chat-node.ts';
import type { Effect } from '../reference-server/core/effects.ts';
import type { Input } from '../reference-server/core/inputs.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from './run-scenario.ts';

const seed = 1;
const clients = 200;
const simTimeoutMs = 300_000;

/** A node that is never told it lost the bus: it never holds a welcome for a catch-up. */
class DeafToBusLoss extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    if (input.type === 'bus-lost') return [];
    return super.handle(input, now);
  }
}

describe('stale welcomes (fleet-races)', () => {
  it(
    'the correct fleet lists every conversation joined while the welcoming node was cut from the bus',
    async () => {
      const summary = await runScenario(loadScenario('fleet-races'), { seed, clients });
      const verdict = summary.verdicts.find((v) => v.property === 'authorization')!;
      expect(verdict.verdict, verdict.details).toBe('pass');
      const owed = /conversations owed in them \((\d+) by their node's own bus cut\), 0 left out/.exec(
        verdict.details,
      );
      expect(Number(owed?.[1])).toBeGreaterThan(0);
    },
    simTimeoutMs,
  );

  it(
    'fails a node that welcomes while cut from the bus without the conversations it has not heard of',
    async () => {
      const summary = await runScenario(loadScenario('fleet-races'), {
        seed,
        clients,
        chatNode: (options) => new DeafToBusLoss(options),
      });
      const verdict = summary.verdicts.find((v) => v.property === 'authorization')!;
      expect(verdict.verdict).toBe('fail');
      expect(JSON.stringify(verdict.witness)).toMatch(/was cut from the bus/);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );
});
