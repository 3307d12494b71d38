// crash-restart's clean restart, judged by drain-stop: the reference node, told to drain, stops within
// milliseconds of its last session's end; a node that never reports `drained` (mutant 0 of the 3c0f288
// sample: its graceful stop waits out the whole drain timeout) fails the property, not only the SLO.

import { describe, expect, it } from 'vitest';
import { ChatNode } from '../reference-server/core/chat-node.ts';
import type { Effect } from '../reference-server/core/effects.ts';
import type { Input } from '../reference-server/core/inputs.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from './run-scenario.ts';

const seed = 1;
const clients = 150;
const simTimeoutMs = 300_000;

/** A node that drains its connections but never says it is done. */
class NeverDrained extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    return super.handle(input, now).filter((effect) => effect.type !== 'drained');
  }
  override tick(now: number): Effect[] {
    return super.tick(now).filter((effect) => effect.type !== 'drained');
  }
}

describe('drain-stop in crash-restart', () => {
  it(
    'judges the clean restart of the reference node, and fails a node that never reports drained',
    async () => {
      const scenario = loadScenario('crash-restart');
      const good = await runScenario(scenario, { seed, clients });
      const passed = good.verdicts.find((v) => v.property === 'drain-stop')!;
      expect(passed.verdict, passed.details).toBe('pass');
      expect(passed.details).toMatch(/1 judged/);

      const bad = await runScenario(scenario, {
        seed,
        clients,
        chatNode: (options) => new NeverDrained(options),
      });
      const failed = bad.verdicts.find((v) => v.property === 'drain-stop')!;
      expect(failed.verdict).toBe('fail');
      expect(failed.details).toMatch(/drained node (stopped late|never stopped)/);
      expect(bad.exitCode).toBe(1);
    },
    simTimeoutMs,
  );
});
