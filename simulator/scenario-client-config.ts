// What a scenario says about its clients, as the virtual client's configuration: one place, so that
// simulated and live runs of a scenario drive the same clients.

import { protocolLimits } from '../reference-server/protocol/limits.ts';
import type { Scenario } from '../scenarios/scenario.ts';
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
