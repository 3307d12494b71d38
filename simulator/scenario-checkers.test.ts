import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { checkHistory } from './checkers/check-history.ts';
import { finalStateFixture } from './checkers/final-state-fixture.ts';
import { device, history } from './checkers/history-fixture.ts';
import { presenceChangesProperty } from './checkers/presence-changes.ts';
import type { HistoryEvent } from './history.ts';
import { scenarioCheckers } from './scenario-checkers.ts';

describe('scenarioCheckers', () => {
  it("hands the scenario's checks.presenceKnownWithinMs to presence-changes", () => {
    const ann = device('ann');
    const bob = device('bob');
    // bob's session began at 2000; ann's watch is answered "offline, never seen" 6 s later.
    const events: HistoryEvent[] = [
      history.session(1000, ann),
      history.session(2000, bob),
      history.ack(2100, bob, { conv: 'd', seq: 1, from: 'bob', cmid: 'c1', body: 'x', ts: 2110 }, 2090),
      history.watchSent(7500, ann, ['bob']),
      { k: 'presence-seen', at: 8000, of: 'bob', online: false, lastSeen: 0, node: 'n1', ...ann },
    ];
    const presence = (checks: { presenceKnownWithinMs?: number }) => {
      const steady = loadScenario('steady');
      const checkers = scenarioCheckers({ ...steady, checks: { ...steady.checks, ...checks } }, {}).filter(
        (checker) => checker.property === presenceChangesProperty,
      );
      return checkHistory(checkers, events, finalStateFixture())[0]!;
    };
    expect(presence({}).details).toMatch(/1 lastSeen before the last session/);
    expect(presence({ presenceKnownWithinMs: 10_000 }).details).toMatch(/1 offline answers .* let through/);
  });
});
