// The feed in a real run: each of a scenario's standard checkers is given exactly the history events
// of the kinds it declares, the very objects recorded, in the order they were recorded, none left out
// and none added. run-scenario holds the history and feeds it to the checkers in runs of events (the
// last run at the end, before they judge): this pins that to the plain rule, one event at a time.

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../scenarios/load-scenario.ts';
import type { Checker, HistoryEvent } from '../history.ts';
import { runScenario } from '../run-scenario.ts';
import { scenarioCheckers } from '../scenario-checkers.ts';
import { reads } from './checker-feed.ts';
import { IdTable } from './id-table.ts';

describe('CheckerFeed in a run', () => {
  it('gives each standard checker exactly the recorded events of its kinds, in order (churn, seed 1)', async () => {
    const scenario = loadScenario('churn');
    const standard = scenarioCheckers(scenario, { ids: new IdTable() });
    const seen = standard.map((): HistoryEvent[] => []);
    // Stand-ins that declare what the standard checkers declare and note what they are given.
    const noting: Checker[] = standard.map((checker, at) => ({
      property: checker.property,
      kinds: checker.kinds,
      observe: (event: HistoryEvent) => {
        seen[at]!.push(event);
      },
      finish: () => ({ property: checker.property, verdict: 'pass', details: 'noted', witness: [] }),
    }));
    const recorded: HistoryEvent[] = [];
    await runScenario(scenario, {
      seed: 1,
      clients: 60,
      checkers: noting,
      recorder: { observe: (event) => recorded.push(event), tick: () => {} },
    });
    expect(new Set(recorded.map((event) => event.k)).size).toBeGreaterThan(15);
    standard.forEach((checker, at) => {
      const owed = recorded.filter((event) => reads(checker, event.k));
      const given = seen[at]!;
      expect(given.length, checker.property).toBe(owed.length);
      expect(
        given.findIndex((event, index) => event !== owed[index]),
        `${checker.property}: the first event given that is not the one recorded there`,
      ).toBe(-1);
    });
  }, 120_000);
});
