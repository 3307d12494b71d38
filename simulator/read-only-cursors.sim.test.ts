// clients.readOnlyCursorsFraction: a picked user's apps send `read` cursors and never `delivered`, so the
// store holds members whose read cursor is ahead of a delivered cursor still at its start. crash-restart
// sets it, so those cursors go through its crashes and its clean restart from a checkpoint (a restore
// that put such a cursor back to zero was a surviving mutant, 3491 of the session 18 sample).

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { userSendsReadOnly } from './behaviours.ts';
import type { HistoryEvent } from './history.ts';
import { runScenario } from './run-scenario.ts';

const seed = 1;

describe('read-only cursors', () => {
  it("a picked user's devices send read and never delivered; the store ends with read ahead of delivered", async () => {
    const scenario = loadScenario('crash-restart');
    const { readOnlyCursorsFraction } = scenario.clients;
    expect(readOnlyCursorsFraction).toBeGreaterThan(0);
    const sent = new Map<string, { delivered: number; read: number }>();
    let readAhead = 0;
    const observe = (event: HistoryEvent): void => {
      if (event.k === 'cursor-sent') {
        const counts = sent.get(event.user) ?? { delivered: 0, read: 0 };
        counts[event.kind]++;
        sent.set(event.user, counts);
      }
      if (event.k === 'cursor-read')
        for (const m of event.members ?? []) if (m.delivered === 0 && m.read > 0) readAhead++;
    };
    const summary = await runScenario(
      { ...scenario, clients: { ...scenario.clients, count: 120 } },
      { seed, recorder: { observe, tick: () => {} } },
    );
    expect(summary.exitCode).toBe(0);
    const readOnly = [...sent].filter(([user]) => userSendsReadOnly(user, readOnlyCursorsFraction, seed));
    const others = [...sent].filter(([user]) => !userSendsReadOnly(user, readOnlyCursorsFraction, seed));
    expect(readOnly.length).toBeGreaterThan(0);
    expect(readOnly.every(([, counts]) => counts.delivered === 0)).toBe(true);
    expect(readOnly.some(([, counts]) => counts.read > 0)).toBe(true);
    expect(others.some(([, counts]) => counts.delivered > 0)).toBe(true);
    expect(readAhead).toBeGreaterThan(0);
  }, 120_000);
});
