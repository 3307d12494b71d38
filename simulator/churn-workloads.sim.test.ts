// workload.sendAfterMembershipChange: right after each membership change is answered, a member sends to
// the group, in turn from another node than the admin's and from the admin's own, so a fleet node
// sequences or hears of a message decided under a membership it may not know yet; after a removal the
// removed user's device sends too, to be refused `forbidden` (churn sets it: a node that pushed such a
// message without waiting for the new membership, or answered the store's refusal `unavailable`, went
// unseen at the profile's seed before). churn's HTTP readers (`workload.httpReadsPerMin`) page through
// conversations over the HTTP API, which no workload used before.

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import type { HistoryEvent } from './history.ts';
import { runScenario } from './run-scenario.ts';

/**
 * Answered changes, how many of them a member of the group followed with a send at that instant, and the
 * HTTP reads answered with a page (churn's `workload.httpReadsPerMin`).
 */
async function followed(on: boolean): Promise<{ answered: number; followed: number; httpPages: number }> {
  const written = loadScenario('churn');
  const workload = {
    ...written.workload,
    sendAfterMembershipChange: on,
    httpReadsPerMin: on ? written.workload.httpReadsPerMin : 0,
  };
  const scenario = { ...written, workload };
  let httpPages = 0;
  const convOf = new Map<number, string>();
  const answers: { conv: string; at: number }[] = [];
  const sends: { conv: string; at: number }[] = [];
  const observe = (event: HistoryEvent): void => {
    if (event.k === 'members-sent') convOf.set(event.id, event.conv);
    if (event.k === 'members-answered' && event.status >= 200 && event.status < 300)
      answers.push({ conv: convOf.get(event.id)!, at: event.at });
    if (event.k === 'send') sends.push({ conv: event.conv, at: event.at });
    if (event.k === 'http-read' && event.status === 200) httpPages++;
  };
  const summary = await runScenario(scenario, {
    seed: 1,
    clients: 80,
    recorder: { observe, tick: () => {} },
  });
  expect(summary.exitCode).toBe(0);
  const hits = answers.filter((a) => sends.some((s) => s.conv === a.conv && s.at === a.at)).length;
  return { answered: answers.length, followed: hits, httpPages };
}

describe("churn's workloads: a send right after each membership change, HTTP readers", () => {
  it('follow most answered changes and read pages over HTTP when set, and neither when not', async () => {
    const on = await followed(true);
    expect(on.answered).toBeGreaterThan(3);
    expect(on.followed).toBeGreaterThanOrEqual(on.answered / 2);
    expect(on.httpPages).toBeGreaterThan(10);
    const off = await followed(false);
    expect(off.answered).toBeGreaterThan(3);
    expect(off.followed).toBe(0);
    expect(off.httpPages).toBe(0);
  }, 120_000);
});
