// fast-check explores fault schedules and workload parameters, and shrinks a failure to a minimal
// schedule: against ack-before-durable, one fault that makes acks and the store disagree is left.

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { applyVariant, explore } from './explore.ts';

/** Whole simulations on a shared 2-core box: generous, never a wall-clock assertion. */
const simTimeoutMs = 900_000;

describe('exploration', () => {
  it(
    'finds a schedule that breaks ack-before-durable and shrinks it to one fault',
    async () => {
      const result = await explore(loadScenario('steady'), {
        runs: 40,
        seed: 2,
        runSeed: 2,
        clients: 100,
        bugs: ['ack-before-durable'],
      });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.summary.exitCode).toBe(1);
      const failed = result.summary.verdicts.filter((v) => v.verdict === 'fail').map((v) => v.property);
      expect(failed.some((p) => p === 'durable-ack' || p === 'agreement' || p === 'no-loss')).toBe(true);
      expect(result.scenario.faults.length).toBe(1);
      expect(result.shrinks).toBeGreaterThan(0);
    },
    simTimeoutMs,
  );

  it(
    'passes a correct server over random schedules',
    async () => {
      // Two schedules: the answer's shape on a pass. The correct server over many more is CI's gate step
      // (.ci/run: `gate --explore 10`, ten schedules on the swarm scenario at full size, red on any failure).
      const result = await explore(loadScenario('steady'), { runs: 2, seed: 5, runSeed: 2, clients: 100 });
      expect(result).toEqual({ ok: true, runs: 2 });
    },
    simTimeoutMs,
  );

  it(
    'keeps explored scenarios valid and free of the base schedule',
    async () => {
      const base = loadScenario('swarm');
      const explored = applyVariant(base, {
        faults: [{ type: 'node-pause', atMs: 10, durationMs: 100, node: 0 }],
        ratePer1kClients: 3,
        churnFraction: 0,
        membershipChangesPerMin: 0,
        jitter: false,
      });
      expect(explored.swarm).toBeUndefined();
      expect(explored.faults).toHaveLength(1);
      expect(explored.workload.ratePer1kClients).toBe(3);
    },
    simTimeoutMs,
  );
});
