import { describe, expect, it } from 'vitest';
import { Prng } from '../kernel/prng.ts';
import type { World } from '../world/world.ts';
import { type FaultContext, pickClients } from './fault.ts';

describe('pickClients', () => {
  it('picks each client with the fault’s fraction, from the fault’s own stream', () => {
    const context = (fraction: number | undefined, seed: number): FaultContext => ({
      world: {} as World,
      spec:
        fraction === undefined ? { type: 'reset_peer', atMs: 0 } : { type: 'reset_peer', atMs: 0, fraction },
      rng: new Prng(seed),
      clientCount: 10_000,
    });
    for (const fraction of [0, 0.05, 0.5, 1]) {
      const picked = pickClients(context(fraction, 7)).size / 10_000;
      expect(Math.abs(picked - fraction)).toBeLessThan(0.02);
    }
    expect(pickClients(context(undefined, 7)).size / 10_000).toBeCloseTo(0.1, 1);
    expect([...pickClients(context(0.3, 7))]).toEqual([...pickClients(context(0.3, 7))]);
    expect([...pickClients(context(0.3, 7))]).not.toEqual([...pickClients(context(0.3, 8))]);
  });
});
