// A scenario's client settings reach the virtual client the same way in simulated and live runs.

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { defaultClientConfig, resolveClientConfig } from './client/limits.ts';
import { scenarioClientConfig } from './scenario-client-config.ts';

describe('scenarioClientConfig', () => {
  it("takes the client's own reconnect cap unless the scenario sets one", () => {
    expect(scenarioClientConfig(loadScenario('steady')).reconnectCapMs).toBe(
      defaultClientConfig.reconnectCapMs,
    );
    const crash = resolveClientConfig(scenarioClientConfig(loadScenario('crash-restart')));
    expect(crash.reconnectCapMs).toBe(4000);
    expect(crash.reconnectBaseMs).toBe(defaultClientConfig.reconnectBaseMs);
  });

  it('carries jitter, delivered cursors and the sync page as written', () => {
    const steady = loadScenario('steady');
    const written = {
      ...steady,
      clients: { ...steady.clients, jitter: false, deliveredCursors: false, syncLimit: 7 },
    };
    expect(scenarioClientConfig(written)).toMatchObject({
      jitter: false,
      deliveredCursors: false,
      syncLimit: 7,
    });
  });
});
