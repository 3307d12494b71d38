import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { applyVariant, variantArbitrary } from './explore.ts';

describe('exploration variants', () => {
  it('are valid scenarios: each fault carries only its own parameters', () => {
    const swarm = loadScenario('swarm');
    fc.assert(
      fc.property(variantArbitrary(swarm), (variant) => {
        expect(applyVariant(swarm, variant).faults).toHaveLength(variant.faults.length);
      }),
      { numRuns: 300, seed: 1 },
    );
  });
});
