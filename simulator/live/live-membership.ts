// Membership in a live run, as the harness itself made it: the conversations it provisioned and the
// admin membership changes it sent (and that were answered 200), seeded like the simulator's churn.
// It records each request when sent and when answered (`members-sent`, `members-answered`): the
// checkers derive who may read what from those alone. It also yields spans for the settle check and
// who may read each conversation for the final read: a change's seq boundary there is the `lastSeq`
// the server's answer carries when it carries one (the reference server does), else the
// conversation's lastSeq read right after the answer.

import type { MembershipSpan } from '../../reference-server/store/message-store.ts';
import type { Scenario } from '../../scenarios/scenario.ts';
import type { MembersChange } from '../admin-ledger.ts';
import { firstChangeAt, isSmallGroup, membershipChange } from '../behaviours.ts';
import type { HistoryEvent } from '../history.ts';
import type { SeedStreams } from '../kernel/prng.ts';
import type { Population } from '../population.ts';
import type { AdminApi } from './admin-api.ts';
import type { GeneratorPool } from './generator-pool.ts';

export type LiveMembership = {
  /** Resolves once no membership request is in flight. */
  idle(): Promise<void>;
  /**
   * conv -> every user who was ever a member: the current members first, then the former, each in join
   * order. A former member's read stops at its removal, lastSeq included (protocol v1.1), so a read that
   * took it for the conversation's end left later seqs unread (a false durable-ack failure live).
   */
  readers(): Map<string, string[]>;
  spans(conv: string): ReadonlyMap<string, readonly MembershipSpan[]>;
  /** Spans of the conversations whose membership changed (the rest: everyone from seq 1, open). */
  spansForShards(): Record<string, Record<string, MembershipSpan[]>> | undefined;
  /** Every conversation `user` is or was a member of. */
  convsOf(user: string): readonly string[];
};

export type MembershipContext = {
  api: AdminApi;
  pool: GeneratorPool;
  record(event: HistoryEvent): void;
  now(): number;
  at(ms: number, run: () => void): void;
  fromMs: number;
  untilMs: number;
  /** A member's token, to read lastSeq when the server's answer does not carry it. */
  tokenOf(user: string): string;
  /** The highest seq of `conv` the driver has seen acked so far (0: none): below the server's lastSeq. */
  ackedUpTo(conv: string): number;
  /**
   * `workload.sendAfterMembershipChange`: one of `users`' devices sends to `conv` now (the n-th such
   * send of the run), whatever its app knows of the change; `removed`: users is the one just removed.
   */
  follow?(conv: string, users: readonly string[], n: number, removed: boolean): void;
};

export function scheduleLiveMembership(
  scenario: Scenario,
  streams: SeedStreams,
  population: Population,
  created: readonly { id: string; members: string[] }[],
  context: MembershipContext,
): LiveMembership {
  const spans = new Map<string, Map<string, MembershipSpan[]>>();
  const changed = new Set<string>();
  /** user -> every conversation it is or was a member of. */
  const convsOfUser = new Map<string, string[]>();
  const joined = (user: string, conv: string): void => {
    const convs = convsOfUser.get(user) ?? [];
    if (!convs.includes(conv)) convs.push(conv);
    convsOfUser.set(user, convs);
  };
  for (const conv of created) {
    spans.set(conv.id, new Map(conv.members.map((user) => [user, [{ from: 1, to: null }]])));
    for (const user of conv.members) joined(user, conv.id);
  }
  let followed = 0;
  const inFlight = new Set<Promise<void>>();
  let nextId = 1;

  const isMember = (conv: string, user: string): boolean => {
    const list = spans.get(conv)?.get(user);
    return list !== undefined && list[list.length - 1]!.to === null;
  };

  const change = async (conv: string, { add, remove }: MembersChange): Promise<void> => {
    const user = add[0] ?? remove[0]!;
    const member = remove.length > 0;
    // What the checkers judge by: when the request left and when its answer came back (history.ts).
    const id = nextId++;
    const ackedBefore = context.ackedUpTo(conv);
    context.record({ k: 'members-sent', at: context.now(), id, conv, add, remove });
    let answer: Awaited<ReturnType<AdminApi['changeMembers']>>;
    try {
      answer = await context.api.changeMembers(conv, add, remove);
    } catch (error) {
      context.record({ k: 'members-answered', at: context.now(), id, status: 0 });
      throw error;
    }
    let atSeq = (answer.body as { lastSeq?: unknown } | null)?.lastSeq;
    context.record({
      k: 'members-answered',
      at: context.now(),
      id,
      status: answer.status,
      ...(typeof atSeq === 'number' ? { lastSeq: atSeq } : {}),
    });
    if (answer.status !== 200) return;
    if (typeof atSeq !== 'number') {
      // Without the change's own seq, bound it: a removal took effect no earlier than the highest seq
      // acked before the request left, an addition no later than the lastSeq read after the answer.
      // These spans only tell the generators when a device has caught up (the checkers judge by the
      // requests and answers), so each side takes the bound that never demands a seq the member may
      // not read: settle must not wait for a removed member to display a seq past its removal.
      if (member) atSeq = ackedBefore;
      else {
        const reader =
          [...(spans.get(conv)?.keys() ?? [])].find((u) => isMember(conv, u) && u !== user) ?? user;
        const receipts = await context.api.receipts(conv, context.tokenOf(reader));
        atSeq = (receipts.body as { lastSeq?: unknown } | null)?.lastSeq;
        if (typeof atSeq !== 'number') return;
      }
    }
    const seq = atSeq as number;
    const users = spans.get(conv)!;
    if (member) {
      const list = users.get(user)!;
      list[list.length - 1] = { from: list[list.length - 1]!.from, to: seq };
    } else {
      const list = users.get(user) ?? [];
      list.push({ from: seq + 1, to: null });
      users.set(user, list);
      joined(user, conv);
    }
    changed.add(conv);
    context.pool.broadcast({ type: 'members', conv, add, remove });
    // As the simulator's churn (behaviours.ts followUp): a member sends at once, and so does the user
    // just removed, whose app has not heard of it (the server must refuse it).
    if (scenario.workload.sendAfterMembershipChange && context.follow) {
      const members = [...users.keys()].filter((u) => isMember(conv, u));
      if (members.length > 0) context.follow(conv, members, followed++, false);
      if (member) context.follow(conv, [user], followed++, true);
    }
  };

  const perMin = scenario.workload.membershipChangesPerMin;
  const groups = population.groups.filter(isSmallGroup);
  if (perMin > 0 && groups.length > 0) {
    const rng = streams.stream('membership');
    for (
      let t = firstChangeAt(rng, perMin, context.fromMs, context.untilMs);
      t < context.untilMs;
      t += rng.exponential(60_000 / perMin)
    ) {
      const conv = rng.pick(groups);
      const anyone = population.users[rng.int(population.users.length)]!;
      const kind = rng.float();
      const which = rng.float();
      context.at(t, () => {
        const users = [...(spans.get(conv)?.keys() ?? [])];
        const members = users.filter((user) => isMember(conv, user));
        const former = users.filter((user) => !isMember(conv, user));
        const request = change(conv, membershipChange(members, former, anyone, kind, which)).catch(() => {
          // The node did not answer (crashed or paused): the change did not happen as far as we know.
        });
        inFlight.add(request);
        void request.finally(() => inFlight.delete(request));
      });
    }
  }

  return {
    idle: async () => {
      await Promise.all([...inFlight]);
    },
    readers: () =>
      new Map(
        [...spans].map(([conv, users]) => {
          const everyone = [...users.keys()];
          const current = everyone.filter((user) => isMember(conv, user));
          return [conv, [...current, ...everyone.filter((user) => !isMember(conv, user))]];
        }),
      ),
    convsOf: (user) => convsOfUser.get(user) ?? [],
    spans: (conv) => spans.get(conv) ?? new Map(),
    spansForShards: () => {
      if (changed.size === 0) return undefined;
      const out: Record<string, Record<string, MembershipSpan[]>> = {};
      for (const conv of changed) out[conv] = Object.fromEntries(spans.get(conv)!);
      return out;
    },
  };
}
