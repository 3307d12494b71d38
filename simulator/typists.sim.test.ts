// workload.typists: a user types in one conversation every 250 ms late in the warm-up, faster than the
// typing throttle (protocol.md: one per user and conversation every 2 s) lets through. Before it, no
// device typed more often than every 2 s, so a node that relayed every typing passed the gate (mutation
// run 8: 10 survivors at the throttle). typing-recipients judges the ceiling; this shows the typing happens.

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import type { HistoryEvent } from './history.ts';
import { runScenario } from './run-scenario.ts';

/** Typings sent within 1 s of the same device's last one in the same conversation, in steady seed 1. */
async function fastTypings(typists: number): Promise<number> {
  const written = loadScenario('steady');
  const scenario = { ...written, workload: { ...written.workload, typists } };
  const last = new Map<string, number>();
  let fast = 0;
  const observe = (event: HistoryEvent): void => {
    if (event.k !== 'typing-sent') return;
    const key = `${event.device}\u0000${event.conv}`;
    const before = last.get(key);
    if (before !== undefined && event.at - before < 1000) fast++;
    last.set(key, event.at);
  };
  const summary = await runScenario(scenario, {
    seed: 1,
    clients: 60,
    recorder: { observe, tick: () => {} },
  });
  expect(summary.exitCode).toBe(0);
  return fast;
}

describe('fast typists (workload.typists)', () => {
  it('type faster than the throttle when set, and nobody does when not', async () => {
    expect(await fastTypings(1)).toBeGreaterThanOrEqual(4);
    expect(await fastTypings(0)).toBe(0);
  }, 120_000);
});
