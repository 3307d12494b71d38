// The live membership schedule's spans tell the generators when a device has caught up. A server whose
// answer to a membership change carries no lastSeq leaves the change's seq to be bounded: settle must
// never wait for a removed member to display a seq past its removal (a later lastSeq read is past it).

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../scenarios/load-scenario.ts';
import type { HistoryEvent } from '../history.ts';
import { SeedStreams } from '../kernel/prng.ts';
import { buildPopulation } from '../population.ts';
import type { AdminApi } from './admin-api.ts';
import type { GeneratorPool } from './generator-pool.ts';
import { scheduleLiveMembership } from './live-membership.ts';

/** Runs the membership schedule against a server that answers 200 without lastSeq. */
async function changesWithoutLastSeq(ackedBefore: number, readAfter: number) {
  const scenario = loadScenario('churn');
  const created: { id: string; members: string[] }[] = [];
  const events: HistoryEvent[] = [];
  const population = buildPopulation(
    scenario,
    60,
    (request) => created.push(request),
    (e) => events.push(e),
  );
  const scheduled: (() => void)[] = [];
  const api = {
    changeMembers: async () => ({ status: 200, body: {} }),
    receipts: async () => ({ status: 200, body: { lastSeq: readAfter } }),
  } as unknown as AdminApi;
  const pool = { broadcast: () => {} } as unknown as GeneratorPool;
  const membership = scheduleLiveMembership(scenario, new SeedStreams(1), population, created, {
    api,
    pool,
    record: (event) => events.push(event),
    now: () => 0,
    at: (_ms, run) => scheduled.push(run),
    fromMs: 0,
    untilMs: 60_000,
    tokenOf: (user) => `token-${user}`,
    ackedUpTo: () => ackedBefore,
  });
  for (const run of scheduled) run();
  await membership.idle();
  const sent = events.filter((e) => e.k === 'members-sent');
  return { sent, spans: membership.spansForShards() ?? {}, readers: membership.readers() };
}

describe('live membership spans without a lastSeq in the answer', () => {
  it('end a removal at the highest seq acked before the request, begin an addition after the lastSeq read', async () => {
    const { sent, spans } = await changesWithoutLastSeq(4, 9);
    const removal = sent.find((e) => e.k === 'members-sent' && e.remove.length > 0);
    const addition = sent.find((e) => e.k === 'members-sent' && e.add.length > 0);
    expect(removal).toBeDefined();
    expect(addition).toBeDefined();
    if (removal?.k !== 'members-sent' || addition?.k !== 'members-sent') return;
    // The first removal of a user who was a member from the start: its span ends at the lower bound.
    const removed = spans[removal.conv]![removal.remove[0]!]!;
    expect(removed[0]).toEqual({ from: 1, to: 4 });
    // An addition's span starts after the upper bound (the lastSeq read once the answer came).
    const added = spans[addition.conv]![addition.add[0]!]!;
    expect(added.some((span) => span.from === 10)).toBe(true);
  });
});

describe('live membership readers', () => {
  it('list the current members first: a removed member reads only up to its removal', async () => {
    const { spans, readers } = await changesWithoutLastSeq(4, 9);
    const isCurrent = (conv: string, user: string) => spans[conv]?.[user]?.at(-1)?.to === null;
    let withFormer = 0;
    for (const [conv, users] of readers) {
      if (spans[conv] === undefined) continue;
      const firstFormer = users.findIndex((user) => !isCurrent(conv, user));
      if (firstFormer < 0) continue;
      withFormer++;
      expect(users.slice(firstFormer).every((user) => !isCurrent(conv, user))).toBe(true);
    }
    expect(withFormer).toBeGreaterThan(0);
  });
});
