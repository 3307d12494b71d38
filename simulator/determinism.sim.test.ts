// Same seed, same run, bit for bit: each scenario runs twice per seed and the trace hashes (and the
// checkpoints every 4096 events) must agree; a mismatch names the first divergent event window.

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { firstDivergence } from './kernel/trace-hash.ts';
import { runScenario } from './run-scenario.ts';
import { messageBody } from './workload.ts';

/** Whole simulations on a shared 2-core box: generous, never a wall-clock assertion. */
const simTimeoutMs = 600_000;

describe('determinism', () => {
  it.each(['churn', 'swarm'])(
    '%s: the same seed twice gives the same trace',
    async (name) => {
      const scenario = loadScenario(name);
      for (const seed of [7, 123456789]) {
        const a = await runScenario(scenario, { seed, clients: 200 });
        const b = await runScenario(scenario, { seed, clients: 200 });
        const divergence = firstDivergence(a.traceCheckpoints, b.traceCheckpoints, a.traceCheckpointEvery);
        expect(divergence, `seed ${seed} diverged at event ~${divergence}`).toBeNull();
        expect(b.traceHash).toBe(a.traceHash);
        expect(b.events).toBe(a.events);
        expect(b.messages).toEqual(a.messages);
      }
    },
    simTimeoutMs,
  );

  it(
    'the trace sees content: runs differing in one message body hash differently',
    async () => {
      const scenario = loadScenario('steady');
      const plain = await runScenario(scenario, { seed: 1, clients: 100 });
      // Message 5's body differs in one character, same length: same timing, same everything else.
      const oneOff = await runScenario(scenario, {
        seed: 1,
        clients: 100,
        messageBody: (device, n, bytes) => {
          const body = messageBody(device, n, bytes);
          return n === 5 ? `${body.slice(0, -1)}!` : body;
        },
      });
      expect(oneOff.events).toBe(plain.events);
      expect(oneOff.messages).toEqual(plain.messages);
      expect(oneOff.traceHash).not.toBe(plain.traceHash);
      // The divergence is named at the first checkpoint after that send.
      expect(
        firstDivergence(plain.traceCheckpoints, oneOff.traceCheckpoints, plain.traceCheckpointEvery),
      ).not.toBeNull();
    },
    simTimeoutMs,
  );

  it(
    'different seeds give different traces',
    async () => {
      const scenario = loadScenario('steady');
      const a = await runScenario(scenario, { seed: 1, clients: 100 });
      const b = await runScenario(scenario, { seed: 2, clients: 100 });
      expect(a.traceHash).not.toBe(b.traceHash);
    },
    simTimeoutMs,
  );
});
