// What users do besides sending: watch each other's presence, go offline and back (churn), and, for
// admins, change group membership during the run (through a node's HTTP API, as a real admin would).

import type { Principal } from '../reference-server/core/inputs.ts';
import type { FaultSpec, Scenario } from '../scenarios/scenario.ts';
import {
  type AdminLedger,
  type AdminTransport,
  type CreateRequest,
  type MembersChange,
  membersChangeBody,
} from './admin-ledger.ts';
import { hash32 } from './checkers/string-hash.ts';
import { afterFaultMs as typingAfterFaultMs } from './checkers/typing-recipients.ts';
import type { HistoryEvent } from './history.ts';
import { fmix32, type Prng, type SeedStreams } from './kernel/prng.ts';
import { cursorsOf } from './live/final-read.ts';
import {
  httpReadAsked,
  type MalformedRead,
  scheduleMalformedReads,
  scheduleStrangerReads,
  scheduleUnauthenticatedReads,
} from './malformed-reads.ts';
import type { Population } from './population.ts';
import { type PressStep, pressPlan } from './press.ts';
import type { World } from './world/world.ts';

/** Each client watches a few of the users it shares a conversation with (direct or small group). */
export function scheduleWatches(
  world: World,
  scenario: Scenario,
  streams: SeedStreams,
  warmupMs: number,
): void {
  const count = scenario.workload.watchPerClient;
  if (count <= 0) return;
  const rng = streams.stream('watch');
  // Watched users by the clients' own user strings: a name built per watch is a string per client
  // held for the whole run (23 bytes each in `million`).
  const userNames = new Map<string, string>();
  for (const sim of world.clients) userNames.set(sim.user, sim.user);
  for (let i = 0; i < world.clients.length; i++) {
    const sim = world.clients[i]!;
    if (sim.adversary || sim.convs.length === 0) continue;
    const users = watchedUsers(sim.convs, sim.user, count, scenario.conversations.groupSize, rng).map(
      (user) => userNames.get(user) ?? user,
    );
    if (users.length === 0) continue;
    const at = Math.floor(warmupMs / 2 + rng.float() * (warmupMs / 2));
    world.at(at, () => world.clientEffects(i, sim.client.watch(users, world.now)));
  }
}

/**
 * Up to `count` users a client shares its conversations with, drawn at random (at most `2 * count`
 * draws): the partner of a direct conversation or another member of a small group as set up. Large
 * groups give none (their members are many and spread out). The simulator and the live driver both
 * pick watches here.
 */
export function watchedUsers(
  convs: readonly string[],
  user: string,
  count: number,
  groupSize: number,
  rng: Prng,
): string[] {
  const users = new Set<string>();
  for (let k = 0; k < count * 2 && users.size < count; k++) {
    const other = sharerOf(convs[rng.int(convs.length)]!, user, groupSize, rng);
    if (other !== null) users.add(other);
  }
  return [...users];
}

/** Someone `user` shares `conv` with at setup, or null (a large group, or a draw of `user` itself). */
function sharerOf(conv: string, user: string, groupSize: number, rng: Prng): string | null {
  const partner = partnerOf(conv, user);
  if (partner !== null || groupSize < 2) return partner;
  // Small group `[prefix]g<n>` holds users n * groupSize ... n * groupSize + groupSize - 1 (population.ts).
  const match = /^(.*\.)?g(\d+)$/.exec(conv);
  if (match === null) return null;
  const other = `${match[1] ?? ''}u${Number(match[2]) * groupSize + rng.int(groupSize)}`;
  return other === user ? null : other;
}

/** The pressers' sends (press.ts), in virtual time; the nth body of a device comes from `body`. */
export function schedulePresses(
  world: World,
  scenario: Scenario,
  streams: SeedStreams,
  body: (device: string, n: number) => string,
): void {
  const steps = pressSteps(world, scenario, streams);
  let n = 0;
  for (const step of steps) {
    const sim = world.clients[step.index]!;
    world.at(step.at, () => {
      const effects = step.press
        ? sim.client.press(step.conv, step.count, () => body(sim.device, n++), world.now)
        : sim.client.sendMessage(step.conv, body(sim.device, n++), world.now);
      world.clientEffects(step.index, effects);
    });
  }
}

function pressSteps(world: World, scenario: Scenario, streams: SeedStreams): PressStep[] {
  const candidates = world.clients.flatMap((sim, index) => (sim.adversary ? [] : [index]));
  return pressPlan(
    scenario,
    candidates,
    (index) => world.clients[index]!.convs,
    (index) => world.clients[index]!.user,
    streams.stream('press'),
  );
}

/**
 * `workload.firstPress`: the pressers' devices (the same draws as `schedulePresses`), their links made
 * steady; the run dials them first. Empty without it.
 */
export function firstPressers(world: World, scenario: Scenario, streams: SeedStreams): Set<number> {
  const pressers = new Set<number>();
  if (!scenario.workload.firstPress) return pressers;
  for (const step of pressSteps(world, scenario, streams)) pressers.add(step.index);
  for (const index of pressers) world.network.steadyLink(index);
  return pressers;
}

/** How often a fast typist types, and when in the warm-up (shares of it). */
export const typistPlan = { everyMs: 250, fromShare: 0.6, untilShare: 0.95 };

/**
 * The fast typists (`workload.typists`): each a device of its own user that types `on` in one of its
 * conversations every 250 ms late in the warm-up (before any fault), faster than a server's typing
 * throttle (protocol.md: one per user and conversation every 2 s) lets through. The typing-recipients
 * checker judges that the members' devices are not told more often than the throttle allows.
 * Each typist's link is steady (no jitter: `steady-link`), so the node gets its frames at instants the
 * harness knows, and it types at the throttle's exact boundaries: twice at its first instant (they reach
 * the node together: one relayed, the other held back), then a throttle interval less 1 ms after the
 * first (held back), exactly an interval after it (relayed) and an `everyMs` after that (held back:
 * a node that held back the one at the boundary relays this one instead).
 */
export function scheduleTypists(
  world: World,
  scenario: Scenario,
  streams: SeedStreams,
  throttleMs: number,
): void {
  const wanted = scenario.workload.typists;
  if (wanted <= 0) return;
  const rng = streams.stream('typist');
  const users = new Set<string>();
  const { warmupMs } = scenario.phases;
  const from = Math.floor(warmupMs * typistPlan.fromShare);
  const boundary = [from + throttleMs - 1, from + throttleMs, from + throttleMs + typistPlan.everyMs];
  for (let tries = 0; users.size < wanted && tries < 4 * wanted + 16; tries++) {
    const index = rng.int(world.clients.length);
    const sim = world.clients[index]!;
    if (sim.adversary || sim.convs.length === 0 || users.has(sim.user)) continue;
    users.add(sim.user);
    const conv = sim.convs[rng.int(sim.convs.length)]!;
    world.network.steadyLink(index);
    world.options.record({
      k: 'steady-link',
      at: world.now,
      user: sim.user,
      device: sim.device,
      latencyMs: world.network.config.latencyMs,
    });
    const type = (): void => world.clientEffects(index, sim.client.setTyping(conv, true, world.now));
    world.at(from, () => {
      type();
      type();
    });
    for (let at = from + typistPlan.everyMs; at < warmupMs * typistPlan.untilShare; at += typistPlan.everyMs)
      world.at(Math.floor(at), type);
    for (const at of boundary) world.at(at, type);
  }
}

/**
 * Clock typists: users per clock set back, when they first type (ms after the offset starts), and how
 * long after typing-recipients judges reach again (`afterFaultMs` past the last fault event) they type again.
 */
export const clockTypistPlan = { users: 12, afterStartMs: 500, pastJudgedMs: 500 };

/**
 * Typing across a clock set back: for every `clock-offset` that sets a node's clock ahead (so its heal
 * sets it back), `clockTypistPlan.users` users with a device on that node type in one of their
 * conversations and send right after while the clock is ahead (the node stamps its relay ahead), then
 * again once every fault has healed and typing-recipients judges reach again (before the settle phase,
 * else not at all), each from a device of theirs on that node, typing then sending. protocol.md relays the first
 * typing of an interval, so that second typing is owed to the members online throughout (judged by
 * typing-recipients, which the send right after lets judge reach without a clock); a node whose throttle
 * compares against a relay stamped ahead of its clock drops it (3c0f288 seed-2 mutant 661). Their own
 * stream: no other draw moves. `typeThenSend` types and sends as the workload does, and says whether
 * the user may write there now.
 */
export function scheduleClockTypists(
  world: World,
  faults: readonly FaultSpec[],
  streams: SeedStreams,
  phases: { faultsAt: number; healAt: number; settleAt: number },
  typeThenSend: (index: number, conv: string) => boolean,
): void {
  const { faultsAt, healAt, settleAt } = phases;
  let lastHealAt = faultsAt;
  for (const fault of faults)
    lastHealAt = Math.max(lastHealAt, Math.min(healAt, faultsAt + fault.atMs + (fault.durationMs ?? 0)));
  const againAt = lastHealAt + typingAfterFaultMs + clockTypistPlan.pastJudgedMs;
  if (againAt >= settleAt) return;
  const rng = streams.stream('clock-typist');
  for (const fault of faults) {
    if (fault.type !== 'clock-offset' || (fault.offsetMs ?? 30_000) <= 0) continue;
    const node = fault.node ?? 0;
    const typed: { user: string; conv: string }[] = [];
    world.at(faultsAt + fault.atMs + clockTypistPlan.afterStartMs, () => {
      const users = new Set<string>();
      const count = world.clients.length;
      for (
        let tries = 0;
        users.size < clockTypistPlan.users && tries < 8 * clockTypistPlan.users + 16;
        tries++
      ) {
        const index = rng.int(count);
        const sim = world.clients[index]!;
        if (sim.adversary || sim.convs.length === 0 || users.has(sim.user)) continue;
        if (!world.network.isConnected(index) || world.network.nodeOfClient(index) !== node) continue;
        const conv = sim.convs[rng.int(sim.convs.length)]!;
        if (!typeThenSend(index, conv)) continue;
        users.add(sim.user);
        typed.push({ user: sim.user, conv });
      }
    });
    world.at(againAt, () => {
      for (const { user, conv } of typed) {
        const index = world.clients.findIndex(
          (sim, i) =>
            sim.user === user && world.network.isConnected(i) && world.network.nodeOfClient(i) === node,
        );
        if (index >= 0) typeThenSend(index, conv);
      }
    });
  }
}

/**
 * The devices (`workload.resenders` of them, among those `eligible`) that send their last acked message
 * again on each session after their first (client/resending-client.ts). Their own stream: no other draw moves.
 */
export function pickResenders(
  scenario: Scenario,
  devices: number,
  eligible: (index: number) => boolean,
  streams: SeedStreams,
): Set<number> {
  const wanted = scenario.workload.resenders;
  const picked = new Set<number>();
  if (wanted <= 0 || devices === 0) return picked;
  const rng = streams.stream('resend');
  for (let tries = 0; picked.size < wanted && tries < 4 * wanted + 16; tries++) {
    const index = rng.int(devices);
    if (eligible(index)) picked.add(index);
  }
  return picked;
}

/**
 * Whether `user` leaves at settle with all of its devices (a user with one device still online is not
 * offline, so watchers would have nothing to see). Decided by user name and seed alone, so generator
 * shards holding devices of one user agree.
 */
export function userLeaves(user: string, fraction: number, seed: number): boolean {
  return seededShare(seed, 'leave', user, fraction);
}

/** Whether `user`'s devices dial only their home node (`clients.pinnedFraction`), from the seed. */
export function userPinned(user: string, fraction: number, seed: number): boolean {
  return seededShare(seed, 'pin', user, fraction);
}

/**
 * Whether `user`'s apps send only `read` cursors, never `delivered` (`clients.readOnlyCursorsFraction`),
 * from the seed: by user, so that no device of theirs moves the user's delivered cursor.
 */
export function userSendsReadOnly(user: string, fraction: number, seed: number): boolean {
  return seededShare(seed, 'read-only', user, fraction);
}

/**
 * Whether `device`'s frames reach the simulated node as WebSocket text (`clients.textFraction`), from
 * the seed: the others' reach it as decoded values, so both of the core's ways in are run.
 */
export function deviceSpeaksText(device: string, fraction: number, seed: number): boolean {
  return seededShare(seed, 'text', device, fraction);
}

/**
 * Whether `device` pipelines its syncs after the hello, before the welcome (`clients.pipelineFraction`),
 * from the seed.
 */
export function devicePipelines(device: string, fraction: number, seed: number): boolean {
  return seededShare(seed, 'pipeline', device, fraction);
}

/** Whether `key` falls in a `fraction` of keys picked by the seed for `tag` (by name: no stream is drawn). */
function seededShare(seed: number, tag: string, key: string, fraction: number): boolean {
  return fraction > 0 && (fmix32(hash32(`${seed}:${tag}:${key}`)) >>> 0) / 0x1_0000_0000 < fraction;
}

/** The other user of a direct conversation `[prefix]d<i>-<j>`; null for groups. */
export function partnerOf(conv: string, user: string): string | null {
  const match = /^(.*\.)?d(\d+)-(\d+)$/.exec(conv);
  if (match === null) return null;
  const prefix = match[1] ?? '';
  const a = `${prefix}u${match[2]}`;
  const b = `${prefix}u${match[3]}`;
  return user === a ? b : a;
}

/** A share of clients goes offline at a random time and comes back after an exponential while. */
export function scheduleChurn(
  world: World,
  scenario: Scenario,
  streams: SeedStreams,
  clients: number,
  fromMs: number,
  untilMs: number,
  /** Clients another workload holds off for now (offline visitors): they come back when it says. */
  heldOffline: ReadonlySet<number> = new Set(),
  /** Clients another workload holds online (a removal race's removed user's): their churn is skipped. */
  heldOnline: ReadonlySet<number> = new Set(),
): void {
  const { churnFraction, churnOfflineMs } = scenario.workload;
  if (churnFraction <= 0 || untilMs <= fromMs) return;
  const rng = streams.stream('churn');
  for (let i = 0; i < clients; i++) {
    if (!rng.chance(churnFraction)) continue;
    const off = fromMs + rng.float() * (untilMs - fromMs);
    const on = Math.min(untilMs, off + rng.exponential(churnOfflineMs));
    const client = world.clients[i]!.client;
    world.at(off, () => {
      if (!heldOnline.has(i)) world.clientEffects(i, client.goOffline(world.now));
    });
    world.at(on, () => {
      if (!world.clients[i]!.left && !heldOffline.has(i)) world.clientEffects(i, client.goOnline(world.now));
    });
  }
}

/**
 * `workload.awayUsers`: users who put every device away at a random time in `fromMs`..`untilMs` (the
 * first half of the faults phase, or `workload.awayWindowMs`) and never come back (they leave early:
 * `left` from then on). Picked at `fromMs` among the users some client watches (the watch lists are
 * the clients' from the start), adversaries and leavers aside. Fills `away` with the users.
 */
export function scheduleAway(
  world: World,
  scenario: Scenario,
  streams: SeedStreams,
  fromMs: number,
  untilMs: number,
  leaves: (user: string) => boolean,
  away: Set<string>,
): void {
  const wanted = scenario.workload.awayUsers;
  if (wanted <= 0) return;
  const rng = streams.stream('away');
  world.at(fromMs, () => {
    const watched = new Set<string>();
    for (const sim of world.clients)
      if (!sim.adversary) for (const user of sim.client.watching) watched.add(user);
    const candidates = [...watched].filter((user) => !leaves(user)).sort();
    while (away.size < wanted && candidates.length > 0) {
      const user = candidates.splice(rng.int(candidates.length), 1)[0]!;
      away.add(user);
      const devices = world.clients.flatMap((sim, index) =>
        sim.user === user && !sim.adversary ? [index] : [],
      );
      world.at(fromMs + rng.float() * (untilMs - fromMs), () => {
        for (const index of devices) {
          world.clients[index]!.left = true;
          world.clientEffects(index, world.clients[index]!.client.goOffline(world.now));
        }
      });
    }
  });
}

/** Each user's clients (their indexes), in the world's order. */
export function devicesByUser(world: World): Map<string, number[]> {
  const devicesOf = new Map<string, number[]>();
  world.clients.forEach((sim, index) => {
    const devices = devicesOf.get(sim.user) ?? [];
    devices.push(index);
    devicesOf.set(sim.user, devices);
  });
  return devicesOf;
}

/**
 * Open on `node` (`n1`, `n2`, ...), and not cut silently by a timeout fault (the app would find out only
 * by silence): a device the races may count on to be there.
 */
export function openOnNode(world: World, index: number, node: string): boolean {
  const { client } = world.clients[index]!;
  return client.node === node && client.connectionState === 'open' && !world.network.closeIsLost(index);
}

/** Small groups (`[prefix]g<n>`), not large ones: the ones membership churn touches. */
export function isSmallGroup(conv: string): boolean {
  return /^(.*\.)?g\d+$/.test(conv);
}

/** How soon the admin asks again for a change answered with neither a success nor a refusal. */
const adminRetryMs = 500;

/** How often the admin looks whether the message sent before a removal is acked (`removalAfterAck`). */
const ackPollMs = 5;

/**
 * The least delay a redis-latency fault must put on a node's link for `removalRacesAtMs` to send through
 * it: the removal's path (the ack to the client, the admin's poll, its request, the fast node's store
 * round trip and publish) takes a few client hops of 5-10 ms each.
 */
const raceLinkFloorMs = 60;

/** workload.quietRacesAtMs: from a group's cursors stopping to the admin's change that races a message. */
const quietLeadMs = 500;
/** workload.quietRacesAtMs: a group a random change was drawn for this recently is left alone. */
const quietSettledMs = 2_000;
/** How long after the admin's node loses the bus a stale-node race begins, and how many at once. */
const staleRaceAfterCutMs = 30;
const staleRacesPerCut = 4;
/** The stale-node race's HTTP page; and how often, how many times, its reader marks the group read. */
const staleReadLimit = 8;
const staleReadPollMs = 10;
const staleReadPolls = 30;

/** How long the admin waits for an answer before it counts the request as unanswered (status 0). */
const adminAnswerTimeoutMs = 10_000;

/** How long an emptied group stays closed before the admin reopens it, and how long after that the phone off across both comes back. */
const reopenAfterMs = 2_000;
const reopenedBackMs = 1_000;
/**
 * When the first of a run's random membership changes falls (`perMin` a minute from `fromMs`): its
 * draw, or the window's middle when that draw falls past it, so that a scenario asking for changes
 * makes at least one (admin-answers judges them, and a run that made none could not judge).
 */
export function firstChangeAt(rng: Prng, perMin: number, fromMs: number, untilMs: number): number {
  if (perMin <= 0) return untilMs;
  const t = fromMs + rng.exponential(60_000 / perMin);
  return t < untilMs ? t : (fromMs + untilMs) / 2;
}

/**
 * An admin's POST through the first node that is up and not paused, over its HTTP API as a real admin
 * would; answered once, with status 0 when no answer came within adminAnswerTimeoutMs (or no node could
 * take it).
 */
/** The node the admin's requests go to now: the first that is up and not paused (-1: none). */
export function adminNodeIndex(world: World): number {
  return world.nodes.findIndex((node) => node.up && !node.paused);
}

/**
 * How an admin request is sent other than as the admin's well-formed JSON: a user's token (no admin
 * role) or none that signs in (no Authorization header, or a token the server cannot verify), or a body
 * that is not JSON (what the live HTTP API hands the core as `bodyError`).
 */
export type AdminSender = {
  asUser?: string;
  token?: 'none' | 'forged';
  bodyError?: string;
};

function adminPrincipal(sender: AdminSender | undefined): Principal {
  if (sender?.token === 'none') return { kind: 'none' };
  if (sender?.token === 'forged') return { kind: 'invalid', reason: 'bad signature' };
  if (sender?.asUser !== undefined) return { kind: 'user', sub: sender.asUser, admin: false };
  return { kind: 'user', sub: 'admin', admin: true };
}

export function adminPost(
  world: World,
  path: string,
  body: unknown,
  answer: (status: number, body: unknown) => void,
  sender?: AdminSender,
): void {
  const node = adminNodeIndex(world);
  let answered = false;
  const once = (status: number, reply: unknown): void => {
    if (answered) return;
    answered = true;
    answer(status, reply);
  };
  world.at(world.now + adminAnswerTimeoutMs, () => once(0, null));
  if (node < 0) return;
  world.http(
    node,
    {
      method: 'POST',
      path,
      query: {},
      principal: adminPrincipal(sender),
      body: sender?.bodyError === undefined ? body : undefined,
      ...(sender?.bodyError === undefined ? {} : { bodyError: sender.bodyError }),
    },
    once,
  );
}

/** The admin's create of a conversation through the ledger (which records it), posted as adminPost does; `created` on a 2xx. */
export function adminCreate(
  world: World,
  ledger: AdminLedger,
  request: CreateRequest,
  created?: () => void,
): void {
  ledger.create(
    request,
    (sent, answer) =>
      adminPost(
        world,
        '/v1/admin/conversations',
        { id: sent.conv, kind: sent.kind, members: sent.members },
        answer,
      ),
    () => world.now,
    created,
  );
}

/** How long before the group closes another member's phone goes off. */
const earlyOffMs = 1_000;

/** How long after the visit's removal is answered the visitor's phones come back (workload.offlineVisitors). */
const visitorBackMs = 1_500;
/** How often, and how many times, a visit looks for a member ready to send before it removes the visitor anyway. */
const visitSenderPollMs = 200;
const visitSenderPollsMax = 10;

/**
 * One admin change to a group, from the harness's own view of its members at the time (sim and live
 * draw `anyone`, `kind` and `which` from their 'membership' stream): a third re-add a removed member (a
 * second span: what they may read has a hole), a third remove a current member (who may be offline and
 * behind, and must still read what was sequenced while a member), the rest add or remove anyone.
 * A uniform pick of any user would mostly add strangers: removals and re-adds would be rare corners.
 */
export function membershipChange(
  members: readonly string[],
  former: readonly string[],
  anyone: string,
  kind: number,
  which: number,
): MembersChange {
  if (kind < 1 / 3 && former.length > 0)
    return { add: [former[Math.floor(which * former.length)]!], remove: [] };
  if (kind < 2 / 3 && members.length > 2)
    return { add: [], remove: [members[Math.floor(which * members.length)]!] };
  return members.includes(anyone) ? { add: [], remove: [anyone] } : { add: [anyone], remove: [] };
}

/**
 * Admin membership changes on groups (not large groups), through the first node that is up and not
 * paused, over its HTTP API as a real admin would. Whether to add or remove follows the harness's own
 * ledger (the answers it got), never the store. With `workload.sendAfterMembershipChange`, someone
 * sends to the group as soon as the change is answered (see followUp): on a fleet the message is
 * sequenced after the change while a node may not have heard of it yet, so its pushes must wait for
 * the new membership (a removed member must not get it), and the store's refusal of the removed user's
 * send must reach it as `forbidden`.
 */
export function scheduleMembershipChurn(
  world: World,
  scenario: Scenario,
  streams: SeedStreams,
  population: Population,
  ledger: AdminLedger,
  fromMs: number,
  untilMs: number,
  messageBody: (device: string, n: number) => string = (device, n) => `${device}.after-change.${n}`,
  heldOffline: Set<number> = new Set(),
  heldOnline: Set<number> = new Set(),
  /** Conversations another workload keeps quiet (unheard-race.ts): no change touches them from then on. */
  quiet: ReadonlySet<string> = new Set(),
  httpRead?: HttpPager,
  record?: (event: HistoryEvent) => void,
): void {
  const { membershipChangesPerMin: perMin, emptiedGroups, offlineVisitors } = scenario.workload;
  const groups = population.groups.filter(isSmallGroup);
  if ((perMin <= 0 && emptiedGroups <= 0 && offlineVisitors <= 0) || groups.length === 0) return;
  const rng = streams.stream('membership');
  const followRng = streams.stream('membership-follow');
  let followed = 0;
  let changesFollowed = 0;
  /**
   * Who sends right after a change to conv is answered: a member, in turn on another node than
   * `adminNode` (which may not have heard of the change when it sequences the message) and on the
   * admin's node (whose bus event of the message may overtake the change's on a slow bus); and a
   * device of the user just removed, whose app has not heard of it either (refused `forbidden`), and
   * which pulls the conversation too: a node that has not heard of the removal reads for it, and the
   * store's answer may already hold that member's message, which the removed user must not get.
   */
  const followUp = (conv: string, adminNode: number, removed: string | undefined): void => {
    const members = new Set(ledger.membersOf(conv));
    const ready = (users: (user: string) => boolean): number[] =>
      world.clients.flatMap((sim, index) =>
        !sim.adversary && !sim.left && users(sim.user) && sim.client.canSend() ? [index] : [],
      );
    const onAdminNode = changesFollowed++ % 2 === 1;
    const memberDevices = ready((user) => members.has(user));
    const there = memberDevices.filter(
      (index) => (world.clients[index]!.client.node === `n${adminNode + 1}`) === onAdminNode,
    );
    const senders = [there.length > 0 ? there : memberDevices];
    if (removed !== undefined) senders.push(ready((user) => user === removed));
    for (const [n, pool] of senders.entries()) {
      if (pool.length === 0) continue;
      const index = followRng.pick(pool);
      const sim = world.clients[index]!;
      world.clientEffects(
        index,
        sim.client.sendMessage(conv, messageBody(sim.device, followed++), world.now),
      );
      if (n === 1) world.clientEffects(index, sim.client.pull(conv, world.now));
    }
  };
  const beforeRng = streams.stream('membership-before');
  /**
   * workload.sendBeforeRemovalMs: a member who stays sends to the group through another node than the
   * admin's, that long before the admin asks to remove `removed`. Through a node slow to Redis, the
   * message is sequenced before the removal but its bus event may reach the other nodes after it: the
   * removed user's devices there are owed it (protocol.md promise 5), by a push to a past member whose
   * span covers it. False when no such member is ready; else the client and cmid of that message.
   */
  const sendsBefore = (conv: string, removed: readonly string[]): { index: number; cmid: string } | null => {
    const adminNode = `n${world.nodes.findIndex((node) => node.up && !node.paused) + 1}`;
    const members = ledger.membersOf(conv);
    const pool = world.clients.flatMap((sim, index) =>
      !sim.adversary &&
      !sim.left &&
      members.includes(sim.user) &&
      !removed.includes(sim.user) &&
      sim.client.canSend() &&
      sim.client.node !== adminNode
        ? [index]
        : [],
    );
    if (pool.length === 0) return null;
    const index = beforeRng.pick(pool);
    const sim = world.clients[index]!;
    const { cmid, effects } = sim.client.sendKeyed(conv, messageBody(sim.device, followed++), world.now);
    world.clientEffects(index, effects);
    return { index, cmid };
  };
  /**
   * workload.removalAfterAck: `ask` once the message `before` sent is no longer sending (acked, or given
   * up), looked at every `ackPollMs` from `sendBeforeRemovalMs` after it was sent on.
   */
  const afterAck = (before: { index: number; cmid: string }, ask: () => void): void => {
    const look = (): void => {
      if (world.clients[before.index]!.client.status(before.cmid) === 'sending' && world.now < untilMs)
        world.at(world.now + ackPollMs, look);
      else ask();
    };
    look();
  };
  /** The apps of users just added open the group (and pull it), members again if they had been. */
  const opened = (conv: string, users: readonly string[]): void =>
    world.clients.forEach((sim, index) => {
      if (!users.includes(sim.user)) return;
      if (!sim.convs.includes(conv)) sim.convs = [...sim.convs, conv];
      world.clientEffects(index, sim.client.openConversation(conv, world.now));
    });
  const transport: AdminTransport = (conv, change, answer) =>
    adminPost(world, `/v1/admin/conversations/${conv}/members`, membersChangeBody(change), answer);
  /**
   * An admin change through the first node that can take it; `retry` when none can, another change to
   * the group is in flight, or it was answered with neither a success nor a refusal (the harness does
   * not know whether it was made); `refused` on a 4xx (by default `retry` too); else `done` (the apps
   * hear of the change: users just added open the group), then a member follows it up
   * (workload.sendAfterMembershipChange): the member chosen may be one just added, whose app knew the
   * group only as a past membership (fleet-races seed 1: u101, re-added to g12, refused its own
   * follow-up as not_member when it came first).
   */
  /**
   * Users each group's changes named, asked or about to be (workload.quietRacesAtMs owes pushes to the
   * members none named, whom push reach judges), and when a random change to it was last drawn.
   */
  const named = new Map<string, Set<string>>();
  const name = (conv: string, change: MembersChange): void => {
    const users = named.get(conv) ?? new Set<string>();
    for (const user of [...change.add, ...change.remove]) users.add(user);
    named.set(conv, users);
  };
  const drawnAt = new Map<string, number>();
  const changeOrRetry = (
    conv: string,
    change: MembersChange,
    retry: () => void,
    done: (conv: string) => void,
    refused: () => void = retry,
    followed = true,
  ): void => {
    if (!world.nodes.some((node) => node.up && !node.paused)) return retry();
    name(conv, change);
    const sent = ledger.change(
      conv,
      change,
      (c, body, answer) =>
        transport(c, body, (status, reply) => {
          answer(status, reply);
          if (status >= 400 && status < 500) return refused();
          if (status < 200 || status >= 300) return retry();
          done(c);
          if (followed && scenario.workload.sendAfterMembershipChange)
            followUp(
              c,
              world.nodes.findIndex((node) => node.up && !node.paused),
              change.remove[0],
            );
        }),
      () => world.now,
    );
    if (!sent) retry();
  };
  /** Groups an admin emptied (or is emptying): the random changes leave them alone from then on. */
  const emptied = new Set<string>();
  const emptyRng = streams.stream('emptied-groups');
  const candidates = [...groups];
  for (let i = 0; i < emptiedGroups && candidates.length > 0; i++) {
    const conv = candidates.splice(emptyRng.int(candidates.length), 1)[0]!;
    // Asked again shortly while no node can take it, another change to the group is in flight, or
    // it was not answered with a success (the harness does not know whether it was made).
    const later = (): void => {
      if (world.now + 100 < untilMs) world.at(world.now + 100, empty);
    };
    let early = -1;
    const online = (index: number): void => {
      if (index >= 0 && !world.clients[index]!.left)
        world.clientEffects(index, world.clients[index]!.client.goOnline(world.now));
    };
    const empty = (): void => {
      if (quiet.has(conv)) return;
      emptied.add(conv);
      const change: MembersChange = { add: [], remove: [...ledger.membersOf(conv)] };
      if (change.remove.length === 0) return online(early);
      changeOrRetry(conv, change, later, () => {
        // One former member's phone goes off as the group closes and stays off until it reopens.
        const away = world.clients.findIndex(
          (sim) =>
            !sim.adversary &&
            !sim.left &&
            change.remove.includes(sim.user) &&
            sim.client.connectionState === 'open',
        );
        if (away >= 0) world.clientEffects(away, world.clients[away]!.client.goOffline(world.now));
        world.at(world.now + reopenAfterMs, () => reopen(change.remove, away));
      });
    };
    /**
     * The admin reopens the closed group: every former member is added back (a second span) and a
     * member sends. The phone off since before the closing comes back at once (behind in its first
     * span, racing that message); the one off since the closing comes back after it, from the end of
     * its first span: both must read the second span too.
     */
    const reopen = (former: string[], away: number): void => {
      const again = (): void => {
        if (world.now + 100 < untilMs) world.at(world.now + 100, () => reopen(former, away));
        else for (const index of [early, away]) online(index);
      };
      changeOrRetry(conv, { add: former, remove: [] }, again, (c) => {
        opened(c, former);
        online(early);
        world.at(world.now + reopenedBackMs, () => online(away));
      });
    };
    const closeAt = fromMs + (untilMs - fromMs) * (0.3 + 0.4 * emptyRng.float());
    // Another member's phone goes off a while before the group closes (behind in its first span) and
    // comes back as it reopens, before or just after the first message of the second span.
    world.at(closeAt - earlyOffMs, () => {
      const members = ledger.membersOf(conv);
      early = world.clients.findIndex(
        (sim) =>
          !sim.adversary && !sim.left && members.includes(sim.user) && sim.client.connectionState === 'open',
      );
      if (early >= 0) world.clientEffects(early, world.clients[early]!.client.goOffline(world.now));
    });
    world.at(closeAt, empty);
  }
  // workload.offlineVisitors: in the groups no admin empties, a user whose every phone is off is added,
  // a member sends, and once that message is acked the user is removed again; its phones come back
  // after. They never heard of the group, and only their welcome's past membership (v1.1 `member:
  // false`) tells them of it and of the messages sequenced while the user was a member, which no-loss
  // owes them (protocol.md promise 5: a member when sequenced gets them by push, resume or sync).
  const visitRng = streams.stream('offline-visitors');
  for (let i = 0; i < offlineVisitors && candidates.length > 0; i++) {
    const conv = visitRng.pick(candidates);
    const at = fromMs + (untilMs - fromMs) * (0.1 + 0.5 * visitRng.float());
    const draw = visitRng.float();
    world.at(at, () => visit(conv, draw));
  }
  function visit(conv: string, draw: number): void {
    if (emptied.has(conv)) return;
    const members = ledger.membersOf(conv);
    const former = ledger.formerMembersOf(conv);
    const devicesOf = devicesByUser(world);
    const strangers = [...devicesOf.entries()].filter(
      ([user, devices]) =>
        !members.includes(user) &&
        !former.includes(user) &&
        devices.every((index) => {
          const sim = world.clients[index]!;
          return !sim.adversary && !sim.left && !heldOffline.has(index) && !sim.convs.includes(conv);
        }),
    );
    if (strangers.length === 0) return;
    const [visitor, phones] = strangers[Math.floor(draw * strangers.length)]!;
    for (const index of phones) {
      heldOffline.add(index);
      world.clientEffects(index, world.clients[index]!.client.goOffline(world.now));
    }
    const back = (): void => {
      for (const index of phones) {
        heldOffline.delete(index);
        if (!world.clients[index]!.left)
          world.clientEffects(index, world.clients[index]!.client.goOnline(world.now));
      }
    };
    const later = (step: () => void): void => {
      if (world.now + adminRetryMs < untilMs) world.at(world.now + adminRetryMs, step);
      else back();
    };
    const backSoon = (): void => world.at(world.now + visitorBackMs, back);
    // Refused (another change removed the visitor first): it is out all the same.
    const remove = (): void =>
      changeOrRetry(conv, { add: [], remove: [visitor] }, () => later(remove), backSoon, backSoon);
    const sendThenRemove = (polls: number): void => {
      const pool = world.clients.flatMap((sim, index) =>
        !sim.adversary &&
        !sim.left &&
        ledger.isMember(conv, sim.user) &&
        sim.user !== visitor &&
        sim.client.canSend()
          ? [index]
          : [],
      );
      if (pool.length === 0) {
        if (polls < visitSenderPollsMax && world.now + visitSenderPollMs < untilMs)
          world.at(world.now + visitSenderPollMs, () => sendThenRemove(polls + 1));
        else remove();
        return;
      }
      const index = visitRng.pick(pool);
      const sim = world.clients[index]!;
      const { cmid, effects } = sim.client.sendKeyed(conv, messageBody(sim.device, followed++), world.now);
      world.clientEffects(index, effects);
      afterAck({ index, cmid }, remove);
    };
    const add = (): void =>
      changeOrRetry(
        conv,
        { add: [visitor], remove: [] },
        () => later(add),
        () => sendThenRemove(0),
      );
    add();
  }
  // workload.removalRacesAtMs (from the faults phase's start, which is where the load window starts).
  const raceRng = streams.stream('removal-races');
  const raced = new Set<string>();
  if (scenario.workload.removalAfterAck)
    for (const atMs of scenario.workload.removalRacesAtMs)
      if (fromMs + atMs < untilMs) world.at(fromMs + atMs, removalRace);
  /**
   * The past-member race, made to happen: through the node slowest to Redis now (a redis-latency fault
   * delays every message on its link by at least `raceLinkFloorMs`, the admin's link undelayed), a member
   * sends to a small group, and once it is acked the admin removes another member who has a device
   * open on the admin's node and none on the slow one. The slow node publishes the message only after the
   * store's reply came down its link, and the publish goes up that link: it reaches Redis at least the
   * link's floor after the ack, while the removal is asked at the ack and made through the admin's fast
   * link within a few client hops. So the removal reaches the removed user's node first, and push reach
   * owes its devices there the message (sequenced while the user was a member): a push to a past member.
   * Nothing is done when no node is so slow or no group has such a pair.
   */
  function removalRace(): void {
    const admin = world.nodes.findIndex((node) => node.up && !node.paused);
    const floor = (node: number): number => world.network.storeLinkDelayRange(node)[0];
    if (admin < 0 || world.network.storeLinkDelayRange(admin)[1] > 0) return;
    let slow = -1;
    world.nodes.forEach((node, i) => {
      if (node.up && !node.paused && floor(i) >= raceLinkFloorMs && (slow < 0 || floor(i) > floor(slow)))
        slow = i;
    });
    if (slow < 0) return;
    const slowNode = `n${slow + 1}`;
    const openOn = (index: number, node: string): boolean => openOnNode(world, index, node);
    const devicesOf = devicesByUser(world);
    const adminNode = `n${admin + 1}`;
    // A user removable here: every device an app's (no adversary, none gone or held off), none on the
    // slow node, one open on the admin's node (the first to apply the removal, and up as long as it is
    // the admin's: its devices' sessions outlast the faults, so push reach judges them).
    const removable = (user: string): boolean => {
      const devices = devicesOf.get(user) ?? [];
      return (
        devices.every((index) => {
          const sim = world.clients[index]!;
          return !sim.adversary && !sim.left && !heldOffline.has(index) && sim.client.node !== slowNode;
        }) && devices.some((index) => openOn(index, adminNode))
      );
    };
    const races = groups.flatMap((conv) => {
      if (emptied.has(conv) || raced.has(conv) || quiet.has(conv) || ledger.busy(conv)) return [];
      const members = ledger.membersOf(conv);
      if (members.length <= 2) return [];
      const senders = world.clients.flatMap((sim, index) =>
        !sim.adversary &&
        !sim.left &&
        members.includes(sim.user) &&
        sim.client.node === slowNode &&
        sim.client.canSend()
          ? [index]
          : [],
      );
      return senders.flatMap((index) =>
        members
          .filter((user) => user !== world.clients[index]!.user && removable(user))
          .map((removed) => ({ conv, index, removed })),
      );
    });
    if (races.length === 0) return;
    const { conv, index, removed } = raceRng.pick(races);
    // The random changes leave the group alone from now on: one re-adding the user would waive the push.
    raced.add(conv);
    // Its open devices there stay online (churn skips them): the push they are owed is due after the faults.
    for (const device of devicesOf.get(removed)!) if (openOn(device, adminNode)) heldOnline.add(device);
    const sim = world.clients[index]!;
    const { cmid, effects } = sim.client.sendKeyed(conv, messageBody(sim.device, followed++), world.now);
    world.clientEffects(index, effects);
    const ask = (): void =>
      changeOrRetry(
        conv,
        { add: [], remove: [removed] },
        () => {
          if (!emptied.has(conv) && world.now + adminRetryMs < untilMs)
            world.at(world.now + adminRetryMs, ask);
        },
        () => {},
        () => {},
      );
    afterAck({ index, cmid }, ask);
  }
  // workload.quietRacesAtMs (from the faults phase's start, as removalRacesAtMs).
  const quietRng = streams.stream('quiet-races');
  for (const atMs of scenario.workload.quietRacesAtMs)
    if (fromMs + atMs < untilMs) world.at(fromMs + atMs, quietRace);
  /**
   * A held push in a cursor-free group, made to happen: the admin's node slow to Redis (a redis-latency
   * fault puts at least `raceLinkFloorMs` on its link), a fast node (no delay on its link) and a third
   * node. A small group's apps stop sending cursors; `quietLeadMs` later the admin adds a user to it,
   * and at the answer a member sends to it through the fast node, whose message, decided under the new membership, reaches Redis before the admin's node has
   * published the change up its slow link: the third node hears of the message first, holds its pushes
   * and reads the group's record (a store fault on its link may fail that read: it must read again).
   * From now on no app sends a cursor of the group, and no random change touches it: a member's device
   * open on the third node (kept online) is owed the message by push reach, and the node hears nothing
   * that would make it read the record again (a cursor moved, a message under a newer membership) but
   * its own retry. Nothing is done when the nodes are not so, or no group has such members.
   */
  function quietRace(): void {
    const admin = world.nodes.findIndex((node) => node.up && !node.paused);
    if (admin < 0 || world.network.storeLinkDelayRange(admin)[0] < raceLinkFloorMs) return;
    const up = world.nodes.flatMap((node, i) => (node.up && !node.paused && i !== admin ? [i] : []));
    const fast = up.find((i) => world.network.storeLinkDelayRange(i)[1] === 0);
    const third = up.find((i) => i !== fast);
    if (fast === undefined || third === undefined) return;
    const openOn = (index: number, node: number): boolean => openOnNode(world, index, `n${node + 1}`);
    const app = (index: number): boolean => !world.clients[index]!.adversary && !world.clients[index]!.left;
    const devicesOf = devicesByUser(world);
    const races = groups.flatMap((conv) => {
      // No change of the group on its way (a random one drawn lately may still wait to be asked).
      const lastDrawn = drawnAt.get(conv);
      if (emptied.has(conv) || raced.has(conv) || ledger.busy(conv)) return [];
      if (lastDrawn !== undefined && world.now - lastDrawn < quietSettledMs) return [];
      const members = ledger.membersOf(conv);
      const devices = world.clients.flatMap((sim, index) => (members.includes(sim.user) ? [index] : []));
      // An adversary's cursors are its own: a group with one among its members is left alone.
      if (members.length < 3 || devices.some((index) => world.clients[index]!.adversary)) return [];
      const senders = devices.filter(
        (index) => app(index) && openOn(index, fast) && world.clients[index]!.client.canSend(),
      );
      // Members no change named (push reach judges those), with a device open on the third node.
      const owed = devices.filter(
        (index) =>
          app(index) &&
          !heldOffline.has(index) &&
          openOn(index, third) &&
          named.get(conv)?.has(world.clients[index]!.user) !== true,
      );
      // The user added: one whose every device is an app's (an adversary's cursors are its own).
      const outsider = world.clients.find(
        (sim) => !members.includes(sim.user) && (devicesOf.get(sim.user) ?? []).every(app),
      )?.user;
      if (senders.length === 0 || owed.length === 0 || outsider === undefined) return [];
      return [{ conv, senders, owed, outsider }];
    });
    if (races.length === 0) return;
    const { conv, senders, owed, outsider } = quietRng.pick(races);
    // The random changes leave the group alone from now on: its changes would make its nodes read it.
    raced.add(conv);
    for (const index of owed) heldOnline.add(index);
    for (const sim of world.clients) sim.client.muteCursors(conv);
    // The change waits until the group's last cursors are written: a cursor still on its way could be
    // lost to a store fault on the third node's link, and its app's resend (which a node owes a reply)
    // would make that node read the record.
    const ask = (): void =>
      changeOrRetry(
        conv,
        { add: [outsider], remove: [] },
        () => {
          if (world.now + adminRetryMs < untilMs) world.at(world.now + adminRetryMs, ask);
        },
        (c) => {
          opened(c, [outsider]);
          const ready = senders.filter((index) => world.clients[index]!.client.canSend());
          if (ready.length === 0) return;
          const index = quietRng.pick(ready);
          const sim = world.clients[index]!;
          world.clientEffects(
            index,
            sim.client.sendMessage(conv, messageBody(sim.device, followed++), world.now),
          );
        },
        () => {},
      );
    world.at(world.now + quietLeadMs, ask);
  }
  // The stale-node race, at each time the admin's node (node 0, the first the admin asks) loses the bus.
  // Its groups are left alone by the random changes from then on (as `raced`'s), not by the past-member
  // races later in the load, which need groups too (seed 1 at 200: the third found none).
  const staleRaced = new Set<string>();
  const staleRng = streams.stream('stale-node-races');
  if (scenario.workload.removalAfterAck)
    for (const fault of scenario.faults)
      if (fault.type === 'partition' && fault.target === 'bus' && fault.node === 0) {
        const at = fromMs + fault.atMs + staleRaceAfterCutMs;
        for (let n = 0; n < staleRacesPerCut; n++) if (at < untilMs) world.at(at, staleNodeRace);
      }
  /**
   * What one fleet node answers through another binds the others at once (protocol.md, "A node never
   * refuses by its own lagging view"), made to happen while the admin's node is cut from the bus (its
   * changes and messages reach the other nodes only after the cut): the admin swaps a stranger V in for
   * a member U of a small group, U with a device open on a node B (which cannot have heard of it);
   * V reads the group at once over HTTP through a third node C (also unaware: refusing V is a refusal
   * of a member, read-pages); a member on the admin's node writes one message S; once it is acked a
   * member M on C pulls the group (C's read is decided under a membership C has not heard of: it reads
   * the record) and marks S read. C publishes M's cursor; B hears of a cursor at a seq it has not seen,
   * from before the removal in its view: it must read the record first, since U's device on B may be
   * told of S only as a member (authorization: a receipt at a seq sequenced after U's removal; mutant
   * 1099 of the 74bbde3 seed-5 sample relayed it at once by B's stale view). No follow-up is sent: one
   * through B would teach B the change early. Nothing is done unless two other nodes are up.
   */
  function staleNodeRace(): void {
    const admin = world.nodes.findIndex((node) => node.up && !node.paused);
    const others = world.nodes.flatMap((node, i) => (i !== admin && node.up && !node.paused ? [i] : []));
    if (admin < 0 || others.length < 2) return;
    const adminNode = `n${admin + 1}`;
    const openOn = (index: number, node: string): boolean => openOnNode(world, index, node);
    const apps = (devices: readonly number[]): boolean =>
      devices.every((index) => {
        const sim = world.clients[index]!;
        return !sim.adversary && !sim.left && !heldOffline.has(index);
      });
    const devicesOf = devicesByUser(world);
    const races = groups.flatMap((conv) => {
      if (emptied.has(conv) || raced.has(conv) || staleRaced.has(conv) || ledger.busy(conv)) return [];
      const members = ledger.membersOf(conv);
      if (members.length <= 2) return [];
      const strangers = [...devicesOf.entries()].filter(
        ([user, devices]) => !members.includes(user) && apps(devices),
      );
      if (strangers.length === 0) return [];
      return others.flatMap((b) => {
        const c = others.find((node) => node !== b)!;
        const [nodeB, nodeC] = [`n${b + 1}`, `n${c + 1}`];
        const on = (node: string, user: string, sending: boolean): number[] =>
          (devicesOf.get(user) ?? []).filter(
            (index) =>
              openOn(index, node) &&
              !world.clients[index]!.adversary &&
              (!sending || world.clients[index]!.client.canSend()),
          );
        const removable = members.filter(
          (user) => apps(devicesOf.get(user) ?? []) && on(nodeB, user, false).length > 0,
        );
        return removable.flatMap((removed) => {
          const writers = members
            .filter((user) => user !== removed)
            .flatMap((user) => on(adminNode, user, true));
          const readers = members.filter((user) => user !== removed).flatMap((user) => on(nodeC, user, true));
          if (writers.length === 0 || readers.length === 0) return [];
          return [{ conv, removed, b, c, writers, readers, strangers: strangers.map(([user]) => user) }];
        });
      });
    });
    if (races.length === 0) return;
    const race = staleRng.pick(races);
    const { conv, removed, c } = race;
    const added = staleRng.pick(race.strangers);
    const writer = staleRng.pick(race.writers);
    const reader = staleRng.pick(race.readers);
    staleRaced.add(conv);
    // The removed user's devices on B stay online: the receipt it must not get would go to them.
    for (const device of devicesOf.get(removed)!)
      if (openOn(device, `n${race.b + 1}`)) heldOnline.add(device);
    changeOrRetry(
      conv,
      { add: [added], remove: [removed] },
      () => {},
      () => {
        httpRead?.(conv, added, 0, staleReadLimit, 1, undefined, c);
        if (record !== undefined) readReceipts(world, record, conv, added, c);
        const sim = world.clients[writer]!;
        const { cmid, effects } = sim.client.sendKeyed(conv, messageBody(sim.device, followed++), world.now);
        world.clientEffects(writer, effects);
        afterAck({ index: writer, cmid }, () => {
          const app = world.clients[reader]!;
          world.clientEffects(reader, app.client.pull(conv, world.now));
          let polls = 0;
          const markRead = (): void => {
            world.clientEffects(reader, app.client.markRead(conv, world.now));
            if (++polls < staleReadPolls && world.now < untilMs) {
              world.at(world.now + staleReadPollMs, markRead);
              return;
            }
            // The cursors through B, as a member it has always known: read from the store's record, at
            // least what devices saw of them before the read was asked (cursor-monotonicity).
            if (record !== undefined) readReceipts(world, record, conv, app.user, race.b);
            opened(conv, [added]);
          };
          world.at(world.now + staleReadPollMs, markRead);
        });
      },
      () => {},
      false,
    );
  }
  for (
    let t = firstChangeAt(rng, perMin, fromMs, untilMs);
    t < untilMs;
    t += rng.exponential(60_000 / perMin)
  ) {
    const conv = rng.pick(groups);
    const anyone = population.users[rng.int(population.users.length)]!;
    const kind = rng.float();
    const which = rng.float();
    world.at(t, () => {
      if (
        !world.nodes.some((node) => node.up && !node.paused) ||
        emptied.has(conv) ||
        raced.has(conv) ||
        quiet.has(conv) ||
        staleRaced.has(conv)
      )
        return;
      const change = membershipChange(
        ledger.membersOf(conv),
        ledger.formerMembersOf(conv),
        anyone,
        kind,
        which,
      );
      // Asked now or after sendBeforeRemovalMs: a quiet race leaves the group alone meanwhile.
      name(conv, change);
      drawnAt.set(conv, world.now);
      // A change answered with neither a success nor a refusal (5xx, or none came) may or may not have
      // been made: the admin asks again, as a real one would (made again, it changes nothing), until it
      // is answered or the load ends; admin-answers judges each answer, and a change never taken. A 4xx
      // is an answer: judged, not asked again.
      const again = (): void => {
        if (!emptied.has(conv) && world.now + adminRetryMs < untilMs) world.at(world.now + adminRetryMs, ask);
      };
      const ask = (): void =>
        changeOrRetry(
          conv,
          change,
          again,
          (c) => opened(c, change.add),
          () => {},
        );
      const { sendBeforeRemovalMs, removalAfterAck } = scenario.workload;
      const before =
        sendBeforeRemovalMs > 0 && change.remove.length > 0 ? sendsBefore(conv, change.remove) : null;
      if (before === null) ask();
      else world.at(world.now + sendBeforeRemovalMs, () => (removalAfterAck ? afterAck(before, ask) : ask()));
    });
  }
}

/**
 * A member's read of a conversation's cursors during the run (`GET /v1/conversations/:id/receipts`)
 * through `node`, recorded as a `cursor-read` with the time it was asked (status 0: no answer in time).
 */
export function readReceipts(
  world: World,
  record: (event: HistoryEvent) => void,
  conv: string,
  user: string,
  node: number,
): void {
  if (!world.nodes[node]?.up || world.nodes[node]!.paused) return;
  const askedAt = world.now;
  let answered = false;
  const answer = (status: number, body: unknown): void => {
    if (answered) return;
    answered = true;
    record({ k: 'cursor-read', at: world.now, conv, user, ...cursorsOf(status, body), askedAt });
  };
  world.at(world.now + adminAnswerTimeoutMs, () => answer(0, null));
  world.http(
    node,
    {
      method: 'GET',
      path: `/v1/conversations/${conv}/receipts`,
      query: {},
      principal: { kind: 'user', sub: user, admin: false },
      body: undefined,
    },
    answer,
  );
}

/**
 * An HTTP reader (`GET /v1/conversations/:id/messages`) that records what it asked and was answered and
 * follows the pages while the answer says `more`, `left` pages at most; through `node` when given, else
 * a node drawn from `rng` among those up and not paused.
 */
export type HttpPager = (
  conv: string,
  user: string,
  after: number,
  limit: number,
  left: number,
  bad?: MalformedRead,
  node?: number,
  /** The pager's first read, for the pages it follows on (its own id when omitted). */
  pager?: number,
) => void;

function httpPager(world: World, rng: Prng, record: (event: HistoryEvent) => void): HttpPager {
  let nextId = 0;
  const page: HttpPager = (conv, user, after, limit, left, bad, node, pager) => {
    const nodes = world.nodes.flatMap((n, index) => (n.up && !n.paused ? [index] : []));
    if (nodes.length === 0) return;
    const at = node !== undefined && nodes.includes(node) ? node : rng.pick(nodes);
    const read = { at: world.now, id: nextId++, conv, user, after, limit };
    const { event, query } = httpReadAsked({ ...read, pager: pager ?? read.id }, bad);
    record(event);
    const { id } = event;
    let answered = false;
    const answer = (status: number, body: unknown): void => {
      if (answered) return;
      answered = true;
      if (status !== 200) return record({ k: 'http-read', at: world.now, id, status });
      const { messages, lastSeq, more } = body as {
        messages: { seq: number }[];
        lastSeq: number;
        more: boolean;
      };
      const seqs = messages.map((m) => m.seq);
      record({ k: 'http-read', at: world.now, id, status, seqs, lastSeq, more });
      // An empty page saying `more` is asked again from the same `after`, as a client that trusts
      // `more` would: a server that answers it so again and again leaves the reader stuck (read-pages).
      const last = seqs.length > 0 ? seqs[seqs.length - 1]! : after;
      if (more && left > 1) page(conv, user, last, limit, left - 1, undefined, node, event.pager);
    };
    world.at(world.now + adminAnswerTimeoutMs, () => answer(0, null));
    world.http(
      at,
      {
        method: 'GET',
        path: `/v1/conversations/${conv}/messages`,
        query,
        // A forged token: what the server's verifier makes of a signature it cannot check; none: no
        // Authorization header.
        principal:
          bad?.param !== 'token'
            ? { kind: 'user', sub: user, admin: false }
            : bad.text === 'none'
              ? { kind: 'none' }
              : { kind: 'invalid', reason: 'bad signature' },
        body: undefined,
      },
      answer,
    );
  };
  return page;
}

/** Pages one HTTP reader follows while the answer says `more`. */
const httpReadPagesMax = 8;

/**
 * Users reading a conversation's messages over HTTP (`workload.httpReadsPerMin`), as an app's history
 * screen would: a random user and one of its conversations (one it was removed from included: it may
 * still read its span), from a random `after`, in pages of 1-8 through a random node, following the
 * pages while the answer says `more`; and an eighth as many each sent malformed on purpose (a 400 is
 * owed), with a forged token or none (401), and of a conversation that is not the reader's (403; malformed-reads.ts).
 * What was asked and answered goes into the history (read-pages judges it).
 */
export function scheduleHttpReads(
  world: World,
  scenario: Scenario,
  streams: SeedStreams,
  record: (event: HistoryEvent) => void,
  fromMs: number,
  untilMs: number,
): HttpPager {
  const rng = streams.stream('http-read');
  const page = httpPager(world, rng, record);
  const perMin = scenario.workload.httpReadsPerMin;
  const readers = world.clients.flatMap((sim, index) => (sim.adversary ? [] : [index]));
  if (perMin <= 0 || readers.length === 0) return page;
  for (
    let t = fromMs + rng.exponential(60_000 / perMin);
    t < untilMs;
    t += rng.exponential(60_000 / perMin)
  ) {
    const sim = world.clients[rng.pick(readers)]!;
    const conv = sim.convs.length > 0 ? sim.convs[rng.int(sim.convs.length)]! : null;
    const after = rng.int(24);
    const limit = 1 + rng.int(8);
    if (conv !== null) world.at(t, () => page(conv, sim.user, after, limit, httpReadPagesMax));
  }
  const malformed = (t: number, bad: MalformedRead, badRng: Prng): void => {
    const sim = world.clients[badRng.pick(readers)]!;
    const conv = sim.convs.length > 0 ? sim.convs[badRng.int(sim.convs.length)]! : null;
    if (conv !== null) world.at(t, () => page(conv, sim.user, bad.after, bad.limit, 1, bad));
  };
  scheduleMalformedReads(streams, perMin, fromMs, untilMs, malformed);
  scheduleUnauthenticatedReads(streams, perMin, fromMs, untilMs, malformed);
  // A reader and a conversation of another reader's that is not its own: owed a 403.
  scheduleStrangerReads(streams, perMin, fromMs, untilMs, (t, read, strangerRng) => {
    const sim = world.clients[strangerRng.pick(readers)]!;
    const other = world.clients[strangerRng.pick(readers)]!;
    const conv = other.convs.length > 0 ? other.convs[strangerRng.int(other.convs.length)]! : null;
    if (conv !== null && !sim.convs.includes(conv))
      world.at(t, () => page(conv, sim.user, read.after, read.limit, 1));
  });
  return page;
}
