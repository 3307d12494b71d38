import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseBenchOptions } from './bench-options.ts';
import { ChildGroup } from './child-group.ts';
import { runRawPhase } from './raw-phase.ts';

const group = new ChildGroup();
afterEach(async () => {
  await group.stopAll();
});
afterAll(async () => {
  await group.close();
});

describe('raw ws phases (real processes, loopback)', () => {
  it('echo: every measured round-trip is answered and the children are gone afterwards', async () => {
    const options = parseBenchOptions(['--seconds', '1', '--connections', '4', '--window', '2']);
    const figures = await runRawPhase(group, 'echo', options);
    expect(figures.connections).toBe(4);
    expect(figures.completed).toBeGreaterThan(0);
    expect(figures.latencyMsP99).toBeGreaterThanOrEqual(figures.latencyMsP50);
    expect(figures.loadCpuPercent).toBeGreaterThan(0);
    if (process.platform === 'linux') expect(figures.serverCpuPercent).toBeGreaterThan(0);
    expect(figures).toMatchObject({ errors: {}, closes: {}, unansweredAtEnd: 0, deliveries: 0 });
    expect(group.size).toBe(0);
  });

  it('broadcast: one room of 50, every frame reaches every member', async () => {
    const options = parseBenchOptions(['--seconds', '1', '--group-connections', '60', '--window', '1']);
    const figures = await runRawPhase(group, 'broadcast', options);
    expect(figures.connections).toBe(50);
    expect(figures.completed).toBeGreaterThan(0);
    // Each completed send is one copy back to its sender, among the 50 copies of it.
    expect(figures.deliveries).toBeGreaterThan(figures.completed);
    expect(figures).toMatchObject({ errors: {}, closes: {}, unansweredAtEnd: 0 });
    expect(group.size).toBe(0);
  });
});
