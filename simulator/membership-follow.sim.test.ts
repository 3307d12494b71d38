// workload.sendAfterMembershipChange: right after each membership change is answered, a member sends to
// the group, in turn from another node than the admin's and from the admin's own, so a fleet node
// sequences or hears of a message decided under a membership it may not know yet; after a removal the
// removed user's device sends too, to be refused `forbidden` (churn sets it: a node that pushed such a
// message without waiting for the new membership, or answered the store's refusal `unavailable`, went
// unseen at the profile's seed before).

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import type { HistoryEvent } from './history.ts';
import { runScenario } from './run-scenario.ts';

/** Answered changes, and how many of them a member of the group followed with a send at that instant. */
async function followed(sendAfterMembershipChange: boolean): Promise<{ answered: number; followed: number }> {
  const written = loadScenario('churn');
  const scenario = { ...written, workload: { ...written.workload, sendAfterMembershipChange } };
  const convOf = new Map<number, string>();
  const answers: { conv: string; at: number }[] = [];
  const sends: { conv: string; at: number }[] = [];
  const observe = (event: HistoryEvent): void => {
    if (event.k === 'members-sent') convOf.set(event.id, event.conv);
    if (event.k === 'members-answered' && event.status >= 200 && event.status < 300)
      answers.push({ conv: convOf.get(event.id)!, at: event.at });
    if (event.k === 'send') sends.push({ conv: event.conv, at: event.at });
  };
  const summary = await runScenario(scenario, {
    seed: 1,
    clients: 80,
    recorder: { observe, tick: () => {} },
  });
  expect(summary.exitCode).toBe(0);
  const hits = answers.filter((a) => sends.some((s) => s.conv === a.conv && s.at === a.at)).length;
  return { answered: answers.length, followed: hits };
}

describe('a send right after each membership change', () => {
  it('follows most answered changes when set, and none when not', async () => {
    const on = await followed(true);
    expect(on.answered).toBeGreaterThan(3);
    expect(on.followed).toBeGreaterThanOrEqual(on.answered / 2);
    const off = await followed(false);
    expect(off.answered).toBeGreaterThan(3);
    expect(off.followed).toBe(0);
  }, 120_000);
});
