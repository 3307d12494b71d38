// adversarial sets the nodes' per-connection watch bound to its smallest, 1 (each honest client watches
// one user), and its watch-past-bound adversary watches two: the second is owed `bad_request`
// (protocol.md), then a re-watch of the first its presence. A server that serves past the bound it was
// given (mutant 2048 of the 3c0f288 sample did, for a connection watching exactly one user) fails
// authorization.

import { describe, expect, it } from 'vitest';
import { ChatNode } from '../reference-server/core/chat-node.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from './run-scenario.ts';

const seed = 1;
const clients = 150;
const simTimeoutMs = 300_000;

describe('the watch bound in adversarial', () => {
  it(
    'passes the reference node at bound 1, and fails a node that ignores the bound it was given',
    async () => {
      const scenario = loadScenario('adversarial');
      expect(scenario.limits.watchedUsersPerConnMax).toBe(1);
      const good = await runScenario(scenario, { seed, clients });
      expect(good.exitCode).toBe(0);
      const bad = await runScenario(scenario, {
        seed,
        clients,
        chatNode: (options) =>
          new ChatNode({ ...options, limits: { ...options.limits, watchedUsersPerConnMax: 1_000_000 } }),
      });
      const verdict = bad.verdicts.find((v) => v.property === 'authorization')!;
      expect(verdict.verdict).toBe('fail');
      expect(verdict.details).toMatch(/a watch past the bound served/);
      expect(bad.exitCode).toBe(1);
    },
    simTimeoutMs,
  );
});
