import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { scaleClients } from './scale-clients.ts';

describe('scaleClients', () => {
  it('keeps large groups above the threshold when the run has fewer clients', () => {
    const written = loadScenario('large-group');
    const scaled = scaleClients(written, 80);
    const users = 80 / scaled.clients.devicesPerUser;
    const threshold = scaled.limits.largeGroupThreshold!;
    expect(scaled.clients.count).toBe(80);
    // Unscaled, 150-member groups in a population of 40 users are at most 40 members: not large.
    expect(Math.min(written.conversations.largeGroupSize, users)).toBeLessThanOrEqual(
      written.limits.largeGroupThreshold!,
    );
    expect(scaled.conversations.largeGroupSize).toBeGreaterThan(threshold);
    expect(scaled.conversations.largeGroupSize).toBeLessThanOrEqual(users);
  });

  it('leaves groups alone with as many clients as written, or more', () => {
    const written = loadScenario('large-group');
    expect(scaleClients(written, written.clients.count)).toBe(written);
    const more = scaleClients(written, written.clients.count * 2);
    expect(more.conversations.largeGroupSize).toBe(written.conversations.largeGroupSize);
    expect(more.limits.largeGroupThreshold).toBe(written.limits.largeGroupThreshold);
    expect(more.clients.count).toBe(written.clients.count * 2);
  });
});
