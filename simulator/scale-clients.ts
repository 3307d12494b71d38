// A scenario run with fewer clients than it was written for (`--clients`, the live gate, the mutation
// profile): large groups and the large-group threshold shrink in proportion, so a large group stays
// above the threshold (notify and pull) instead of silently turning into a huge push group when the
// population is smaller than the group. More clients than written leave the groups as they are.

import type { Scenario } from '../scenarios/scenario.ts';

export function scaleClients(scenario: Scenario, count: number): Scenario {
  if (count === scenario.clients.count) return scenario;
  const share = Math.min(1, count / scenario.clients.count);
  const limits = { ...scenario.limits };
  if (limits.largeGroupThreshold !== undefined)
    limits.largeGroupThreshold = Math.max(2, Math.round(limits.largeGroupThreshold * share));
  return {
    ...scenario,
    clients: { ...scenario.clients, count },
    conversations: {
      ...scenario.conversations,
      largeGroupSize: Math.round(scenario.conversations.largeGroupSize * share),
    },
    limits,
  };
}
