// clients.pinnedFraction: a pinned user's devices dial only their home node. While that node is down
// they stay offline (no session anywhere); unpinned devices fail over to the other node at once.

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import type { HistoryEvent } from './history.ts';
import { runScenario } from './run-scenario.ts';

const clients = 40;

/** Sessions opened while node 1 (n2) was down, by devices whose home is node 1. */
async function sessionsOfDownNodesDevices(pinnedFraction: number): Promise<number> {
  const written = loadScenario('node-down');
  const scenario = { ...written, clients: { ...written.clients, count: clients, pinnedFraction } };
  const users = clients / scenario.clients.devicesPerUser;
  let down: [number, number] = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  const sessions: { at: number; index: number }[] = [];
  const observe = (event: HistoryEvent): void => {
    if (event.k === 'fault' && event.type === 'node-crash')
      down = event.phase === 'start' ? [event.at, down[1]] : [down[0], event.at];
    if (event.k === 'session') {
      const [, user, k] = /^u(\d+)-d(\d+)$/.exec(event.device)!;
      sessions.push({ at: event.at, index: Number(user) + Number(k) * users });
    }
  };
  const summary = await runScenario(scenario, {
    seed: 1,
    recorder: { observe, tick: () => {} },
  });
  expect(summary.exitCode).toBe(0);
  return sessions.filter((s) => s.index % 2 === 1 && s.at > down[0] + 1000 && s.at < down[1]).length;
}

describe('pinned clients', () => {
  it('stay offline while their home node is down; the others fail over', async () => {
    expect(await sessionsOfDownNodesDevices(1)).toBe(0);
    expect(await sessionsOfDownNodesDevices(0)).toBeGreaterThan(0);
  }, 120_000);
});
