import { describe, expect, it } from 'vitest';
import type { CreateRequest } from '../reference-server/store/message-store.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { buildPopulation } from './population.ts';
import { scaleClients } from './scale-clients.ts';

describe('buildPopulation', () => {
  it('makes threshold groups of exactly the large-group threshold, and large groups above it', () => {
    const scenario = scaleClients(loadScenario('large-group'), 200);
    const created: CreateRequest[] = [];
    buildPopulation(
      scenario,
      200,
      (request) => created.push(request),
      () => {},
    );
    const threshold = scenario.limits.largeGroupThreshold!;
    const sizeOf = (prefix: string) =>
      created.filter((c) => c.id.startsWith(prefix)).map((c) => new Set(c.members).size);
    expect(sizeOf('T')).toEqual([threshold]);
    expect(sizeOf('L').every((size) => size > threshold)).toBe(true);
    expect(sizeOf('L')).toHaveLength(scenario.conversations.largeGroups);
  });
});
