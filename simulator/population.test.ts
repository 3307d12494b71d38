import { describe, expect, it } from 'vitest';
import type { CreateRequest } from '../reference-server/store/message-store.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { buildPopulation, shareLists } from './population.ts';
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

  it("shares one frozen list among a group's members, apart from users with other lists", () => {
    const scenario = scaleClients(loadScenario('million'), 40);
    const population = buildPopulation(
      scenario,
      40,
      () => {},
      () => {},
    );
    const [first, second] = population.convsOfUser;
    expect(first).toEqual(second);
    expect(first).toBe(second);
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => (first as string[]).push('x')).toThrow();
    const lists = new Set(population.convsOfUser);
    expect(lists.size).toBeLessThan(population.users.length);
  });
});

describe('shareLists', () => {
  it('keeps each list as it was, in order, one array per distinct list', () => {
    const shared = shareLists([['a', 'b'], ['a'], ['a', 'b'], [], ['b', 'a'], ['ab'], []]);
    expect(shared).toEqual([['a', 'b'], ['a'], ['a', 'b'], [], ['b', 'a'], ['ab'], []]);
    expect(shared[0]).toBe(shared[2]);
    expect(shared[3]).toBe(shared[6]);
    expect(shared[0]).not.toBe(shared[4]);
    expect(shared[1]).not.toBe(shared[5]);
  });
});
