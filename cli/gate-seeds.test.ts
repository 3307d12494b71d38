// A gate's fresh seeds and its exploration come from one root seed, printed by every gate: re-run with
// `--root-seed` and the same swarm seeds and fast-check seed come back, in the same order.

import { describe, expect, it } from 'vitest';
import {
  GateSeeds,
  gatePlan,
  gateRunScenarios,
  gateRunSeconds,
  gateScenarios,
  gateSmallRuns,
  startOrder,
} from './gate.ts';

const draw = (root: number) => {
  const seeds = new GateSeeds(root);
  return { runs: [seeds.runSeed(), seeds.runSeed(), seeds.runSeed()], fastCheck: seeds.fastCheckSeed() };
};

describe('GateSeeds', () => {
  it('gives the same seeds from the same root, and other seeds from another root', () => {
    expect(draw(61_921_461_843_178)).toEqual(draw(61_921_461_843_178));
    expect(draw(1).runs).not.toEqual(draw(2).runs);
    // Roots that differ only above 32 bits are other gates too.
    expect(draw(1).runs).not.toEqual(draw(1 + 2 ** 32).runs);
  });

  it('draws simulation seeds as `--seed` takes them (integers below 2^47) and fast-check seeds below 2^31', () => {
    const seeds = new GateSeeds(7);
    const runs = Array.from({ length: 1000 }, () => seeds.runSeed());
    for (const seed of runs) {
      expect(Number.isSafeInteger(seed)).toBe(true);
      expect(seed).toBeGreaterThanOrEqual(0);
      expect(seed).toBeLessThan(2 ** 47);
    }
    // The high bits are used: not all seeds fit in 32 bits.
    expect(runs.some((seed) => seed >= 2 ** 32)).toBe(true);
    expect(new Set(runs).size).toBe(runs.length);
    const fastCheck = seeds.fastCheckSeed();
    expect(Number.isInteger(fastCheck) && fastCheck >= 0 && fastCheck < 2 ** 31).toBe(true);
  });
});

describe('gatePlan', () => {
  const labels = (flags: Parameters<typeof gatePlan>[0]) =>
    gatePlan(flags, new GateSeeds(7)).map(
      (p) =>
        `${p.scenario}${p.clients === undefined ? '' : `@${p.clients}`} ${p.seed}${p.fresh ? ' fresh' : ''}`,
    );

  it('runs every scenario at each fixed seed, then the small runs at each, then the fresh seeds', () => {
    expect(gateSmallRuns).toEqual([
      { scenario: 'churn', clients: 150 },
      { scenario: 'memory-store', clients: 150 },
      { scenario: 'costed-storm', clients: 200 },
      { scenario: 'lost-replies', clients: 200 },
    ]);
    expect(gateRunScenarios).toEqual([...gateScenarios, 'memory-store', 'costed-storm', 'lost-replies']);
    const plan = labels({ seeds: [1, 2], fresh: 1 });
    expect(plan.slice(0, gateScenarios.length)).toEqual(gateScenarios.map((name) => `${name} 1`));
    expect(plan.slice(2 * gateScenarios.length)).toEqual([
      'churn@150 1',
      'memory-store@150 1',
      'costed-storm@200 1',
      'lost-replies@200 1',
      'churn@150 2',
      'memory-store@150 2',
      'costed-storm@200 2',
      'lost-replies@200 2',
      expect.stringMatching(/^swarm \d+ fresh$/),
    ]);
  });

  it('leaves the small runs out when every run has one size (--clients) or their scenario is not asked for', () => {
    expect(labels({ seeds: [1], fresh: 0, clients: 100 })).toEqual(
      gateRunScenarios.map((name) => `${name} 1`),
    );
    expect(labels({ seeds: [1, 2], fresh: 0, scenarios: ['steady'] })).toEqual(['steady 1', 'steady 2']);
    expect(labels({ seeds: [3], fresh: 0, scenarios: ['churn'] })).toEqual(['churn 3', 'churn@150 3']);
    expect(labels({ seeds: [3], fresh: 0, scenarios: ['memory-store'] })).toEqual(['memory-store@150 3']);
  });

  it('leaves the memory store out for a bug it cannot carry (sim refuses one), and runs it for the others', () => {
    const runsOf = (bug: string[]) =>
      labels({ seeds: [1], fresh: 0, bug }).filter((label) => label.startsWith('memory-store'));
    expect(runsOf(['ack-before-durable'])).toEqual([]);
    expect(runsOf(['fsync-retry'])).toEqual([]);
    expect(runsOf(['no-idempotency'])).toEqual(['memory-store@150 1']);
    expect(runsOf(['dropped-pushes'])).toEqual(['memory-store@150 1']);
  });
});

describe('startOrder', () => {
  const started = (flags: Parameters<typeof gatePlan>[0]) => {
    const plan = gatePlan(flags, new GateSeeds(7));
    const order = startOrder(plan, flags.clients);
    // Every run of the plan starts once.
    expect([...order].sort((a, b) => a - b)).toEqual(plan.map((_, at) => at));
    return order.map((at) => {
      const p = plan[at]!;
      return `${p.scenario}${p.clients === undefined ? '' : `@${p.clients}`} ${p.fresh ? 'fresh' : p.seed}`;
    });
  };

  it('has a cost for every scenario the gate runs', () => {
    for (const name of [...gateRunScenarios, 'swarm']) expect(gateRunSeconds[name]).toBeGreaterThan(0);
  });

  it('starts the dearest fixed runs first, ties in plan order, then the fresh seeds in plan order', () => {
    const order = started({ seeds: [10, 11], fresh: 2 });
    expect(order.slice(0, 2)).toEqual(['large-group 10', 'large-group 11']);
    // A small run costs less than its scenario at full size.
    expect(order.indexOf('churn@150 10')).toBeGreaterThan(order.indexOf('churn 11'));
    expect(order.slice(-2)).toEqual(['swarm fresh', 'swarm fresh']);
    const plan = gatePlan({ seeds: [10, 11], fresh: 2 }, new GateSeeds(7));
    const fresh = plan.flatMap((p, at) => (p.fresh ? [at] : []));
    expect(startOrder(plan).slice(-2)).toEqual(fresh);
    // Equal costs keep the plan's order: the seeds of one scenario.
    expect(order.indexOf('steady 10')).toBeLessThan(order.indexOf('steady 11'));
  });

  it('costs every run at one size alike when --clients sets it, and the order stays', () => {
    expect(started({ seeds: [1], fresh: 0, clients: 100 })).toEqual(
      started({ seeds: [1], fresh: 0, clients: 3000 }),
    );
    expect(started({ seeds: [1], fresh: 0, clients: 100 })[0]).toBe('large-group 1');
  });
});
