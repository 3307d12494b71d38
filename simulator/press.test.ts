// Who presses past the send burst: a user with a direct conversation, or, in a scenario without direct
// conversations and without membership churn (million), a member of a group; no one otherwise.

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import { SeedStreams } from './kernel/prng.ts';
import { pressPlan } from './press.ts';

const users = 1000;
const candidates = Array.from({ length: users }, (_, i) => i);
const plan = (scenario: Scenario, convsOf: (index: number) => string[]) =>
  pressPlan(scenario, candidates, convsOf, (index) => `u${index}`, new SeedStreams(3).stream('press'));
const pressesOf = (steps: ReturnType<typeof plan>) => steps.filter((step) => step.press);

describe('pressPlan', () => {
  it('presses into a direct conversation when there are some', () => {
    // Only u500 and u501 share a direct conversation.
    const steps = plan(loadScenario('steady'), (i) =>
      i === 500 || i === 501 ? ['g50', 'd500-501'] : ['g0'],
    );
    const presses = pressesOf(steps);
    expect(presses).toHaveLength(1);
    expect(presses[0]!.conv).toBe('d500-501');
    expect(presses[0]!.count).toBe(150);
    expect(steps.every((step) => step.index === presses[0]!.index)).toBe(true);
  });

  it('presses into a group when no one has a direct conversation and memberships never change', () => {
    const million = loadScenario('million');
    expect(million.workload.membershipChangesPerMin).toBe(0);
    const presses = pressesOf(plan(million, (i) => [`g${Math.floor(i / 10)}`]));
    expect(presses).toHaveLength(1);
    expect(presses[0]!.conv).toBe(`g${Math.floor(presses[0]!.index / 10)}`);
  });

  it('slows down to what the user’s own workload leaves under the limit, or not at all', () => {
    const steady = loadScenario('steady');
    const direct = (i: number) => (i === 500 || i === 501 ? ['d500-501'] : ['g0']);
    const slowAt = (scenario: Scenario) => {
      const steps = plan(scenario, direct);
      const pressAt = pressesOf(steps)[0]!.at;
      const after = steps.filter((step) => step.at > pressAt);
      return {
        pressAt,
        first: after[0]?.at,
        every: after.length > 1 ? after[1]!.at - after[0]!.at : null,
        steps,
      };
    };
    // A user who sends little (steady: 0.04 msgs/s): 4/5 of 50/s, once 50 over the burst drained at 50/s.
    const idle = slowAt(steady);
    expect(idle.first).toBe(idle.pressAt + 1000 + 300);
    expect(idle.every).toBe(25);
    // 2 devices at 5/s each: 50 - 2 x 10 = 30/s, after draining at 50 - 10 = 40/s.
    const busy = slowAt({ ...steady, workload: { ...steady.workload, ratePer1kClients: 5000 } });
    expect(busy.first).toBe(busy.pressAt + 1250 + 300);
    expect([33, 34]).toContain(busy.every);
    // 2 devices at 20/s each (a 200-client sweep at 4,000 msgs/s): the press, and no slowing down over the limit.
    const crowded = slowAt({ ...steady, workload: { ...steady.workload, ratePer1kClients: 20_000 } });
    expect(crowded.steps.map((step) => step.press)).toEqual([false, true]);
  });

  it('presses into no group whose membership churn may remove the presser', () => {
    const churn = loadScenario('churn');
    expect(churn.workload.membershipChangesPerMin).toBeGreaterThan(0);
    expect(plan(churn, (i) => [`g${Math.floor(i / 10)}`])).toEqual([]);
  });
});
