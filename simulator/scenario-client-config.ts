// What a scenario says about its clients, as the virtual client's configuration: one place, so that
// simulated and live runs of a scenario drive the same clients.

import { protocolLimits } from '../reference-server/protocol/limits.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import { userSendsReadOnly } from './behaviours.ts';
import type { ClientConfig } from './client/limits.ts';

export type ScenarioClientConfig = Pick<
  ClientConfig,
  'jitter' | 'reconnectCapMs' | 'deliveredCursors' | 'syncLimit'
>;

export function scenarioClientConfig(scenario: Scenario): ScenarioClientConfig {
  const clients = scenario.clients;
  return {
    jitter: clients.jitter,
    reconnectCapMs: clients.reconnectCapMs,
    deliveredCursors: clients.deliveredCursors ?? true,
    syncLimit: clients.syncLimit ?? protocolLimits.syncLimitMax,
  };
}

/**
 * The configuration each user's clients run: `base`, or without `delivered` cursors for a user of
 * `clients.readOnlyCursorsFraction` (decided by user name and seed, so generator shards agree). Two
 * objects in all: clients sharing one resolve it once.
 */
export function clientConfigsByUser<T extends ScenarioClientConfig>(
  scenario: Scenario,
  seed: number,
  base: T,
): { readOnly: T; of: (user: string) => T } {
  const readOnly: T = { ...base, deliveredCursors: false };
  const fraction = scenario.clients.readOnlyCursorsFraction;
  return { readOnly, of: (user) => (userSendsReadOnly(user, fraction, seed) ? readOnly : base) };
}
