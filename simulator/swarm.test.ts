// The swarm's draws: each seed picks the workload settings `swarm.draw` names, from its own stream,
// so a seed's faults are what they were before the settings were drawn, and a scenario that names none
// runs as written.

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { SeedStreams } from './kernel/prng.ts';
import { swarmFaults, swarmWorkload } from './swarm.ts';

const swarm = loadScenario('swarm');
const drawFor = (seed: number) => swarmWorkload(swarm, new SeedStreams(seed).stream('swarm-workload'));

describe('swarmWorkload', () => {
  it('draws every setting the swarm scenario names, from the seed, into the scenario it returns', () => {
    expect(swarm.swarm?.draw).toEqual([
      'clients.syncLimit',
      'workload.sendAfterMembershipChange',
      'workload.httpReadsPerMin',
    ]);
    const { scenario, drawn } = drawFor(7);
    expect(drawFor(7).drawn).toEqual(drawn);
    expect(scenario.clients.syncLimit).toBe(drawn['clients.syncLimit']);
    expect(scenario.workload.sendAfterMembershipChange).toBe(drawn['workload.sendAfterMembershipChange']);
    expect(scenario.workload.httpReadsPerMin).toBe(drawn['workload.httpReadsPerMin']);
    expect(Object.isFrozen(scenario.workload) && Object.isFrozen(scenario.clients)).toBe(true);
  });

  it('covers each choice across seeds, the written values among them', () => {
    const seen = { syncLimit: new Set(), send: new Set(), http: new Set() };
    for (let seed = 1; seed <= 40; seed++) {
      const { drawn } = drawFor(seed);
      seen.syncLimit.add(drawn['clients.syncLimit']);
      seen.send.add(drawn['workload.sendAfterMembershipChange']);
      seen.http.add(drawn['workload.httpReadsPerMin']);
    }
    expect([...seen.syncLimit].sort()).toEqual([4, 50, 500].sort());
    expect(seen.send).toEqual(new Set([false, true]));
    expect([...seen.http].sort()).toEqual([0, 120, 30].sort());
  });

  it("leaves a scenario that names no setting as written, and a seed's faults as they were", () => {
    const steady = loadScenario('steady');
    const { scenario, drawn } = swarmWorkload(steady, new SeedStreams(3).stream('swarm-workload'));
    expect(scenario).toBe(steady);
    expect(drawn).toEqual({});
    const noDraw = { ...swarm, swarm: { ...swarm.swarm!, draw: [] } };
    expect(swarmFaults(swarm, new SeedStreams(5).stream('swarm'))).toEqual(
      swarmFaults(noDraw, new SeedStreams(5).stream('swarm')),
    );
  });
});
