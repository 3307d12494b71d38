// churn's offline visitors (`workload.offlineVisitors`): a user with every phone off is added to a group,
// a member sends, the user is removed once that message is acked, and the phones come back. Only their
// welcome's past membership (v1.1 `member: false`) tells them of the group. On the reference server each
// visitor's phones are welcomed with it and show what was sequenced while the user was a member; a server
// whose welcome leaves past memberships out (mutant 434 of the 3c0f288 seed-2 sample) fails no-loss.

import { describe, expect, it } from 'vitest';
import { ChatNode } from '../reference-server/core/chat-node.ts';
import type { Effect } from '../reference-server/core/effects.ts';
import type { Input } from '../reference-server/core/inputs.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import type { HistoryEvent } from './history.ts';
import { runScenario } from './run-scenario.ts';

const seed = 1;
const clients = 200;
const simTimeoutMs = 300_000;

/** A welcome that lists current memberships only (the reference server's before v1.1). */
class NoPastMemberships extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    return super.handle(input, now).map((effect) =>
      effect.type === 'send' && effect.frame.t === 'welcome'
        ? {
            ...effect,
            frame: { ...effect.frame, convs: effect.frame.convs.filter((c) => c.member !== false) },
          }
        : effect,
    );
  }
}

/** What the run did for its visitors: who was added then removed while offline, and what they saw. */
function visitsOf(): { observe: (event: HistoryEvent) => void; shownPast: () => string[] } {
  const added = new Map<string, number>();
  const removed = new Map<string, number>();
  const pastWelcomes = new Set<string>();
  const shown = new Set<string>();
  return {
    observe: (event) => {
      if (event.k === 'members-sent') {
        for (const user of event.add) added.set(`${user} ${event.conv}`, event.at);
        for (const user of event.remove) removed.set(`${user} ${event.conv}`, event.at);
      }
      if (event.k === 'cursor-seen' && event.source === 'welcome' && event.member === false)
        pastWelcomes.add(`${event.user} ${event.conv}`);
      if (event.k === 'display' && event.via !== 'own') shown.add(`${event.user} ${event.message.conv}`);
    },
    // Pairs (user, conv) welcomed as a past membership and shown messages of it.
    shownPast: () =>
      [...pastWelcomes].filter((pair) => shown.has(pair) && added.has(pair) && removed.has(pair)),
  };
}

describe('offline visitors in churn', () => {
  it(
    "welcome a visitor's phones with the past membership, which then show its messages",
    async () => {
      const visits = visitsOf();
      const summary = await runScenario(loadScenario('churn'), {
        seed,
        clients,
        recorder: { observe: visits.observe, tick: () => {} },
      });
      expect(summary.exitCode).toBe(0);
      expect(visits.shownPast().length).toBeGreaterThan(0);
    },
    simTimeoutMs,
  );

  it(
    'fail a server whose welcome leaves past memberships out, on no-loss',
    async () => {
      const summary = await runScenario(loadScenario('churn'), {
        seed,
        clients,
        chatNode: (options) => new NoPastMemberships(options),
      });
      const verdict = summary.verdicts.find((v) => v.property === 'no-loss')!;
      expect(verdict.verdict, verdict.details).toBe('fail');
      expect(verdict.details).toMatch(/never delivered/);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );
});
