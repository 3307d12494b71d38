// Admin requests made during the run whose answers protocol.md fixes (`workload.adminProbes` rounds):
// conversations created over HTTP, a group and a direct one, then opened and written to by their
// members (so creation is exercised end to end, and the checkers judge those conversations like any
// other); and requests that must be refused, each with its own status: a create of an id taken by
// another kind (409), a change to a conversation never created (404) or to a direct one (409), a
// create and a change naming a bad id (400), a group of no members and a direct one of three (400); an
// add of a current member, which is a no-op (2xx); and a removal made again (removeAgain): a no-op too,
// which must not let the removed user read what was sequenced between the two; and one change that
// adds a user and removes a member at once (2xx); and a member's change asked with its own token (403).
// Every request goes into the history through the ledger; admin-answers judges the answers from
// that alone. Churn's changes and these share the ledger, so one change per conversation is in flight.

import type { Scenario } from '../scenarios/scenario.ts';
import { type AdminLedger, type MembersChange, membersChangeBody } from './admin-ledger.ts';
import { scheduleAdminRefusals } from './admin-refusals.ts';
import { adminCreate, adminNodeIndex, adminPost, type HttpPager, isSmallGroup } from './behaviours.ts';
import type { Prng, SeedStreams } from './kernel/prng.ts';
import type { Population } from './population.ts';
import type { World } from './world/world.ts';

/** An id protocol.md's grammar refuses (a space and a `!`): the answer is 400. */
const badId = 'not an id!';
/** How soon a probe whose conversation has a change in flight is tried again. */
const busyRetryMs = 100;
/** How long after a probe's create is taken the admin posts the same definition again. */
const repostAfterMs = 500;
/** How often removeAgain looks whether the message it waits for is still being sent. */
const ackPollMs = 50;
/** How long the removed user's app stays closed before it reopens (and is welcomed). */
const reopenAfterMs = 300;
/** How long after its removal the span reader's phones go off: the pulls made at once are answered first, over a slow link too. */
const spanOffAfterMs = 1_000;
/**
 * The latest the span reader's phones come back, however far its changes got (one not answered stops
 * them): this long after its removal, or after they went off when that was later.
 */
const spanOfflineMaxMs = 5_000;
/** The span reader's HTTP pages: small, so a page is cut at a span's end. */
const spanPageLimit = 3;
const spanPagesMax = 8;
/** How long after the admin's node loses the bus a span reader begins (its subscription is gone by then). */
const busLostAfterMs = 20;

type Probe = (round: number) => void;

export function scheduleAdminProbes(
  world: World,
  scenario: Scenario,
  streams: SeedStreams,
  population: Population,
  ledger: AdminLedger,
  fromMs: number,
  untilMs: number,
  messageBody: (device: string, n: number) => string,
  httpRead?: HttpPager,
): void {
  const rounds = scenario.workload.adminProbes;
  const { users } = population;
  const groups = population.groups.filter(isSmallGroup);
  if (rounds <= 0 || users.length < 3) return;
  const rng = streams.stream('admin-probes');
  let sent = 0;
  const distinctUsers = (count: number): string[] => {
    const picked = new Set<string>();
    while (picked.size < count) picked.add(users[rng.int(users.length)]!);
    return [...picked];
  };
  /** An admin create through the ledger; `created` runs on a 2xx answer. */
  const post = (conv: string, kind: 'direct' | 'group', members: string[], created?: () => void): void =>
    adminCreate(world, ledger, { conv, kind, members }, created);
  const create = (conv: string, kind: 'direct' | 'group', members: string[], use: boolean): void =>
    post(conv, kind, members, () => {
      if (!use) return;
      opened(conv, members);
      // The admin posts the same definition again, as a retry whose answer was lost would: protocol.md
      // answers it 200 (a server that answered 409: mutant 3610 of the 3c0f288 sample).
      world.at(world.now + repostAfterMs, () => create(conv, kind, members, false));
    });
  /** The members' apps open the new conversation, and one of them writes to it at once. */
  const opened = (conv: string, members: readonly string[]): void => {
    const senders: number[] = [];
    world.clients.forEach((sim, index) => {
      if (sim.adversary || sim.left || !members.includes(sim.user)) return;
      if (!sim.convs.includes(conv)) sim.convs = [...sim.convs, conv];
      world.clientEffects(index, sim.client.openConversation(conv, world.now));
      if (sim.client.canSend()) senders.push(index);
    });
    if (senders.length === 0) return;
    // A member on another node than the admin's when there is one: its message may reach a third node
    // before the create's `conversation` event from the admin's node (a node must then wait for it).
    const adminNode = `n${adminNodeIndex(world) + 1}`;
    const elsewhere = senders.filter((index) => world.clients[index]!.client.node !== adminNode);
    const pool = elsewhere.length > 0 ? elsewhere : senders;
    const index = pool[rng.int(pool.length)]!;
    const sim = world.clients[index]!;
    world.clientEffects(index, sim.client.sendMessage(conv, messageBody(sim.device, sent++), world.now));
  };
  /**
   * A change through the ledger, tried again shortly while another change to conv is in flight; `done`
   * runs on a 2xx answer. `asUser`: asked with that user's token (no admin role) instead of the admin's.
   */
  const change = (conv: string, body: MembersChange, done?: () => void, asUser?: string): void => {
    const sentNow = ledger.change(
      conv,
      body,
      (c, request, answer) =>
        adminPost(
          world,
          `/v1/admin/conversations/${c}/members`,
          membersChangeBody(request),
          (status, reply) => {
            answer(status, reply);
            if (status >= 200 && status < 300) done?.();
          },
          asUser === undefined ? undefined : { asUser },
        ),
      () => world.now,
      asUser,
    );
    if (!sentNow && world.now + busyRetryMs < untilMs)
      world.at(world.now + busyRetryMs, () => change(conv, body, done, asUser));
  };
  /** A group with more than `membersMin` members and no change in flight, drawn from `from`; undefined: none. */
  const idleGroup = (membersMin: number, from: Prng): string | undefined => {
    const pool = groups.filter((conv) => ledger.membersOf(conv).length > membersMin && !ledger.busy(conv));
    return pool.length === 0 ? undefined : pool[from.int(pool.length)];
  };
  /** A user not among `members`, drawn from `from`; undefined: none. */
  const strangerTo = (members: readonly string[], from: Prng): string | undefined => {
    const strangers = users.filter((user) => !members.includes(user));
    return strangers.length === 0 ? undefined : strangers[from.int(strangers.length)];
  };
  const againRng = streams.stream('admin-probes-remove-again');
  /**
   * Client `index` writes one message to conv, and `then` runs once it is no longer sending (acked or
   * refused), looked at every `ackPollMs` from the next poll on, or once the load window has ended.
   */
  const writeFrom = (index: number, conv: string, then: () => void): void => {
    const sim = world.clients[index]!;
    const { cmid, effects } = sim.client.sendKeyed(conv, messageBody(sim.device, sent++), world.now);
    world.clientEffects(index, effects);
    const look = (): void => {
      if (sim.client.status(cmid) === 'sending' && world.now < untilMs) world.at(world.now + ackPollMs, look);
      else then();
    };
    world.at(world.now + ackPollMs, look);
  };
  /**
   * A removal made again, as an admin's retry of a removal whose answer was lost, or one working from a
   * stale member list, would: the user is removed, a member who stays writes to the group, then the same
   * removal is asked again, a no-op (2xx) that must not reopen the user's span over the message between
   * (a store that re-closed the span at the new lastSeq: mutant 3392 of the 3c0f288 seed-3 sample). The
   * removed user's app then closes and reopens, so its welcome (the group as a past membership, its
   * lastSeq at most the user's last readable seq) and the pull it makes are judged by authorization.
   */
  const removeAgain = (): void => {
    const conv = idleGroup(2, againRng);
    if (conv === undefined) return;
    const members = ledger.membersOf(conv);
    const withApp = (user: string): boolean =>
      world.clients.some((sim) => !sim.adversary && !sim.left && sim.user === user);
    const removable = members.filter(withApp);
    if (removable.length === 0) return;
    const removed = removable[againRng.int(removable.length)]!;
    change(conv, { add: [], remove: [removed] }, () => {
      const stays = ledger.membersOf(conv);
      const writers = world.clients.flatMap((sim, index) =>
        !sim.adversary && !sim.left && stays.includes(sim.user) && sim.client.canSend() ? [index] : [],
      );
      if (writers.length === 0) return;
      writeFrom(writers[againRng.int(writers.length)]!, conv, () => {
        if (!ledger.isMember(conv, removed)) change(conv, { add: [], remove: [removed] }, reopen);
      });
      const reopen = (): void => {
        const app = world.clients.findIndex(
          (other) =>
            !other.adversary &&
            !other.left &&
            other.user === removed &&
            other.client.connectionState === 'open',
        );
        if (app < 0) return;
        world.clientEffects(app, world.clients[app]!.client.goOffline(world.now));
        world.at(world.now + reopenAfterMs, () => {
          if (!world.clients[app]!.left)
            world.clientEffects(app, world.clients[app]!.client.goOnline(world.now));
        });
      };
    });
  };
  const swapRng = streams.stream('admin-probes-swap');
  /**
   * A member of a group asks to add a user to it with its own token, which carries no admin role:
   * protocol.md's members route is the admin's, so 403 (a server that let any signed-in user administer:
   * mutant 1631 of the 4a1ec6e seed-4 sample). A server that took it made the change, which the ledger then
   * applies as any answered change.
   */
  const notAdmin = (): void => {
    const conv = idleGroup(0, swapRng);
    if (conv === undefined) return;
    const members = ledger.membersOf(conv);
    const asker = members[swapRng.int(members.length)]!;
    const stranger = strangerTo(members, swapRng);
    if (stranger !== undefined) change(conv, { add: [stranger], remove: [] }, undefined, asker);
  };
  /**
   * One change that both adds a user and removes a member (protocol.md: `{add?: [...], remove?: [...]}`,
   * both at once allowed): owed 2xx like either alone (a server that refused a change adding as many as
   * it removes: mutant 1774 of the 4a1ec6e seed-4 sample). The membership oracle applies both lists.
   */
  const swap = (): void => {
    const conv = idleGroup(2, swapRng);
    if (conv === undefined) return;
    const members = ledger.membersOf(conv);
    const stranger = strangerTo(members, swapRng);
    if (stranger === undefined) return;
    change(conv, { add: [stranger], remove: [members[swapRng.int(members.length)]!] });
  };
  const spanRng = streams.stream('admin-probes-spans');
  /** A member of conv other than `not` whose app can send now, or undefined. */
  const writerOf = (conv: string, not: string): number | undefined => {
    // On the admin's node when one is there: its message reaches the other nodes as its changes do.
    const adminNode = `n${adminNodeIndex(world) + 1}`;
    const all = world.clients.flatMap((sim, index) =>
      !sim.adversary &&
      !sim.left &&
      sim.user !== not &&
      ledger.isMember(conv, sim.user) &&
      sim.client.canSend()
        ? [index]
        : [],
    );
    const there = all.filter((index) => world.clients[index]!.client.node === adminNode);
    const pool = there.length > 0 ? there : all;
    return pool.length === 0 ? undefined : pool[spanRng.int(pool.length)];
  };
  /** A member writes one message to conv, and `then` runs once it is no longer sending (at once if none can). */
  const writeThen = (conv: string, not: string, then: () => void): void => {
    const index = writerOf(conv, not);
    if (index === undefined) then();
    else writeFrom(index, conv, then);
  };
  /**
   * A reader whose spans have gaps: a member of a group is removed, a member writes (the gap), it is
   * added and at once removed again (a span of no message), a member writes, it is added back and a
   * member writes exactly one message; each step waits for the one before (the answer,
   * the ack). Its phones, up to date at the removal, are off from just after it until that message is
   * acked, then come back and resume from the end of the first span. Then it reads over HTTP, in small
   * pages from within its first span, through another node than the admin's when there is one: the page
   * cut at the end of the first span, whose next span holds one message, must say `more` (read-pages:
   * "more: false" hid a readable seq; mutant 1501 of the seed-4 sample). Right after the removal and the
   * first write are answered, its phones pull and it reads over HTTP from where its phone is: a node that
   * has not heard of the removal must not serve that write (authorization; mutants 1053 and 1818 of the
   * seed-4 and seed-2 samples). On one node every step is the node's own doing: a node that did not apply
   * an admin change it answered serves or refuses by the old membership (mutant 1210 of the seed-4
   * sample). The empty span: a read whose window a server cuts from it gets an empty page saying `more`,
   * and a client asking again from where it is gets the same page forever (the shipped server's bug until
   * session 28; mutant 456 of the seed-2 sample skipped that read).
   */
  const spanReader = (): void => {
    const conv = idleGroup(2, spanRng);
    if (conv === undefined) return;
    const phonesOf = (user: string): number[] =>
      world.clients.flatMap((sim, index) =>
        !sim.adversary && !sim.left && sim.user === user ? [index] : [],
      );
    const admin = adminNodeIndex(world);
    const elsewhere = world.nodes.findIndex((node, index) => index !== admin && node.up && !node.paused);
    const readNode = elsewhere >= 0 ? elsewhere : admin;
    /** Members with a phone open on `node` (any node: undefined). */
    const openOn = (node: string | undefined): string[] =>
      ledger.membersOf(conv).filter((user) =>
        phonesOf(user).some((index) => {
          const { client } = world.clients[index]!;
          return client.connectionState === 'open' && (node === undefined || client.node === node);
        }),
      );
    // One whose phone is on the node its HTTP reads go to, when there is one: its pulls meet that node too.
    const there = openOn(`n${readNode + 1}`);
    const readers = there.length > 0 ? there : openOn(undefined);
    if (readers.length === 0) return;
    const reader = readers[spanRng.int(readers.length)]!;
    const phones = phonesOf(reader);
    const held = (): number =>
      Math.min(...phones.map((index) => world.clients[index]!.client.displayedUpTo(conv)));
    let from = 0;
    let back = false;
    const comeBack = (): void => {
      if (back) return;
      back = true;
      for (const index of phones)
        if (!world.clients[index]!.left)
          world.clientEffects(index, world.clients[index]!.client.goOnline(world.now));
    };
    const step = (body: MembersChange, next: () => void): void => change(conv, body, next);
    step({ add: [], remove: [reader] }, () => {
      world.at(world.now + spanOfflineMaxMs, comeBack);
      writeThen(conv, reader, () => {
        from = held();
        for (const index of phones)
          world.clientEffects(index, world.clients[index]!.client.pull(conv, world.now));
        httpRead?.(conv, reader, from, spanPageLimit, 1, undefined, readNode);
        world.at(world.now + spanOffAfterMs, () => {
          // Not once they came back for good (spanOfflineMaxMs passed while the write waited for its
          // ack): nothing would bring them back again (fleet-races seed 4 at 200 clients, with node 2's
          // bus cuts: u10's write took 8 s, its phones went off at the settle and never displayed g1's
          // next seq, so the run never settled).
          if (!back)
            for (const index of phones)
              world.clientEffects(index, world.clients[index]!.client.goOffline(world.now));
          // A span of no message, when no member's message lands between the add's answer and the
          // removal (a group under load may fill it: seed 1's churn and memory-store do), then a write in
          // the gap. The phones' resume starts at the end of the first span; a server that cuts its window
          // from the empty span answers an empty page saying `more`, and the phones ask for it forever
          // (no-loss, liveness: the shipped server did until 2026-12-03).
          const emptySpan = (then: () => void): void =>
            step({ add: [reader], remove: [] }, () =>
              step({ add: [], remove: [reader] }, () => writeThen(conv, reader, then)),
            );
          emptySpan(() =>
            step({ add: [reader], remove: [] }, () => {
              for (const index of phones)
                world.clientEffects(index, world.clients[index]!.client.openConversation(conv, world.now));
              writeThen(conv, reader, () => {
                httpRead?.(
                  conv,
                  reader,
                  Math.max(0, from - 2),
                  spanPageLimit,
                  spanPagesMax,
                  undefined,
                  readNode,
                );
                comeBack();
              });
            }),
          );
        });
      });
    });
  };
  const ladderRng = streams.stream('admin-probes-span-ladder');
  /**
   * A reader's spans made by construction, in a group of its own (the reader and a writer) that no other
   * workload writes to, so each span holds exactly what the probe wrote there: a first span of two
   * messages; removed, a message; added and at once removed again (a span of no message); a message;
   * added, exactly one message, removed (a span of one); a message, the reader no longer a member; then
   * added again (a span that holds nothing yet); later one message there. Each step waits for the one
   * before (the answer, the ack). At each stage the reader reads over HTTP in small pages, from the
   * first span, from the first gap and from the span of one, through another node than the admin's
   * when there is one; its phones, off from after the first span, come back at the re-add and resume.
   * read-pages judges every page against the oracle: a page cut at a span's end whose later span holds
   * a readable message must say `more` (a server that passed over the span of one: mutant 1446 of the
   * seed-5 sample; seed-4's 1501); a page after which nothing readable exists must not (a server that
   * said `more` for a next span holding nothing yet: seed-5's 1516); and an empty page saying `more` to
   * the same `after`, asked again, must not come again and again (a window cut from the empty span).
   */
  const spanLadder = (round: number): void => {
    const appsOf = (user: string): number[] =>
      world.clients.flatMap((sim, index) =>
        !sim.adversary && !sim.left && sim.user === user ? [index] : [],
      );
    const withApps = users.filter((user) => appsOf(user).length > 0);
    if (withApps.length < 2 || httpRead === undefined) return;
    const reader = withApps[ladderRng.int(withApps.length)]!;
    const others = withApps.filter((user) => user !== reader);
    const writer = others[ladderRng.int(others.length)]!;
    const conv = `${population.prefix}hs${round}`;
    const admin = adminNodeIndex(world);
    const elsewhere = world.nodes.findIndex((node, index) => index !== admin && node.up && !node.paused);
    const readNode = elsewhere >= 0 ? elsewhere : admin;
    const write = (then: () => void): void => {
      const apps = appsOf(writer);
      const ready = apps.filter((index) => world.clients[index]!.client.canSend());
      const pool = ready.length > 0 ? ready : apps;
      if (pool.length === 0) return;
      writeFrom(pool[ladderRng.int(pool.length)]!, conv, then);
    };
    /** The reader's phones go off, and come back at the re-add or `spanOfflineMaxMs` later, whichever is first. */
    let back = false;
    const phones = (on: boolean): void => {
      if (back) return;
      back = on;
      if (!on) world.at(world.now + spanOfflineMaxMs, () => phones(true));
      for (const index of appsOf(reader)) {
        const { client } = world.clients[index]!;
        world.clientEffects(index, on ? client.goOnline(world.now) : client.goOffline(world.now));
      }
    };
    /** Paged reads from the first span, the first gap and the span of one (seqs 0, 3 and 4 by construction). */
    const reads = (): void => {
      for (const [after, limit] of [
        [0, 2],
        [0, 3],
        [3, 2],
        [4, 1],
      ] as const)
        httpRead(conv, reader, after, limit, spanPagesMax, undefined, readNode);
    };
    const step = (body: MembersChange, next: () => void): void => change(conv, body, next);
    const add = { add: [reader], remove: [] };
    const remove = { add: [], remove: [reader] };
    post(conv, 'group', [reader, writer], () => {
      for (const user of [reader, writer])
        for (const index of appsOf(user))
          world.clientEffects(index, world.clients[index]!.client.openConversation(conv, world.now));
      write(() =>
        write(() => {
          phones(false);
          step(remove, () =>
            write(() =>
              step(add, () =>
                step(remove, () =>
                  write(() =>
                    step(add, () =>
                      write(() =>
                        step(remove, () =>
                          write(() => {
                            reads();
                            step(add, () => {
                              reads();
                              phones(true);
                              world.at(world.now + spanOffAfterMs, () => write(reads));
                            });
                          }),
                        ),
                      ),
                    ),
                  ),
                ),
              ),
            ),
          );
        }),
      );
    });
  };
  const someGroup = (): string | undefined => {
    const withMembers = groups.filter((conv) => ledger.membersOf(conv).length > 0);
    return withMembers.length === 0 ? undefined : withMembers[rng.int(withMembers.length)];
  };
  const probes: Probe[] = [
    (round) => create(`${population.prefix}hg${round}`, 'group', distinctUsers(3), true),
    (round) => create(`${population.prefix}hd${round}`, 'direct', distinctUsers(2), true),
    () => {
      const conv = groups[rng.int(groups.length)];
      if (conv !== undefined) create(conv, 'direct', distinctUsers(2), false);
    },
    (round) => change(`${population.prefix}nosuch${round}`, { add: [users[0]!], remove: [] }),
    () => {
      // Directs are `d<i>-<j>` (population.ts); one the ledger knows was created.
      const i = rng.int(users.length);
      const conv = `${population.prefix}d${i}-${(i + 1) % users.length}`;
      const members = ledger.membersOf(conv);
      if (members.length === 2) change(conv, { add: [], remove: [members[rng.int(2)]!] });
    },
    () => {
      const conv = someGroup();
      if (conv === undefined) return;
      const members = ledger.membersOf(conv);
      change(conv, { add: [members[rng.int(members.length)]!], remove: [] });
    },
    (round) => create(`${badId}${round}`, 'group', distinctUsers(2), false),
    () => {
      const conv = someGroup();
      if (conv !== undefined) change(conv, { add: [badId], remove: [] });
    },
    // A group of no members: protocol.md answers 400 (a server that created it empty: mutant 1694 of
    // the 3c0f288 sample). Last in the list, so the other probes' draws stay what they were in round 0.
    (round) => create(`${population.prefix}he${round}`, 'group', [], false),
    // A direct conversation of three: protocol.md's direct kind is a pair, so 400 (a server that took it,
    // a "direct" whose members can never change: mutant 1701 of the 3c0f288 sample, seed 3). Last, as above.
    (round) => create(`${population.prefix}hx${round}`, 'direct', distinctUsers(3), false),
  ];
  for (let round = 0; round < rounds; round++) {
    for (const probe of probes) {
      const at = fromMs + (untilMs - fromMs) * rng.float();
      world.at(at, () => probe(round));
    }
    // On a stream of its own, so the other probes' times and picks stay what they were without it; in
    // the first half of the load, so the message and the second removal come well before its end.
    world.at(fromMs + ((untilMs - fromMs) / 2) * againRng.float(), removeAgain);
    world.at(fromMs + (untilMs - fromMs) * swapRng.float(), swap);
    world.at(fromMs + (untilMs - fromMs) * swapRng.float(), notAdmin);
    // In the load's first third (the faults' slow bus), on a stream of its own as above.
    world.at(fromMs + ((untilMs - fromMs) / 3) * spanRng.float(), spanReader);
    world.at(fromMs + ((untilMs - fromMs) / 3) * ladderRng.float(), () => spanLadder(round));
  }
  // And as the admin's node loses the bus (a partition of target bus on node 0, the first the admin
  // asks): its changes and its members' messages are published into the void meanwhile, so the other
  // nodes cannot have heard of the removal, the re-add or the messages when they serve the reader's
  // reads (a node that served them by its own stale membership: mutants 1053 and 1818).
  for (const fault of scenario.faults)
    if (fault.type === 'partition' && fault.target === 'bus' && fault.node === 0) {
      const at = scenario.phases.warmupMs + fault.atMs + busLostAfterMs;
      if (at < untilMs) world.at(at, spanReader);
    }
  // The requests protocol.md refuses for how they are sent (no token, a body it does not take).
  scheduleAdminRefusals(world, streams, population, ledger, rounds, fromMs, untilMs);
}
