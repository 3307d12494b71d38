// `workload.staleWelcomes`: while a fleet node other than the admin's is cut from the bus, the admin
// makes users whose devices live on that node members of something through its own node (a new group
// created with them, and an existing group one of them is added to), with those devices off; they come
// back a moment after the answers, so their hellos reach the cut node, which has not heard of the change
// and knows it (`bus-lost`). protocol.md lets a welcome leave out only what a node has not heard of yet;
// a node that knows it lost the bus must catch up from the store before it welcomes (welcome-lists,
// bus-cuts.ts). Done twice per cut: just after it starts, and 1.2 s before its heal (after a failed
// catch-up's retry may have come back while the bus is still down: a node must still not take itself
// for fresh). What the harness knows is only its own requests and their answers (the ledger).
// `workload.welcomeRacesAtMs`: at each time, while a node is slower to Redis than the admin's, the admin
// creates a group with a user whose devices are on that node (off a moment before), and the devices come
// back at the same instant: the group's bus event comes down the slow link while the welcome's records
// read is out (the read goes up after the hello, the event was published before), so the node hears of a
// conversation of the user's between its read and the answer, and must read that one too and then
// welcome (read-pages: a hello never welcomed is silence; mutant 389 of the 3c0f288 seed-3 sample read
// again forever).

import type { FaultSpec, Scenario } from '../scenarios/scenario.ts';
import type { AdminLedger } from './admin-ledger.ts';
import { adminNodeIndex, adminPost, isSmallGroup } from './behaviours.ts';
import type { Prng, SeedStreams } from './kernel/prng.ts';
import type { Population } from './population.ts';
import type { World } from './world/world.ts';

/** How long after the cut starts the first round begins (its `bus-lost` is in), and how long before its heal the last. */
const afterCutMs = 100;
const beforeHealMs = 1_200;
/** The shortest cut that gets a round, and the one that gets both. */
const cutMinMs = 600;
const twoRoundsMinMs = 1_500;
/** How long after the admin's answers the devices come back (well inside the cut). */
const backAfterMs = 200;
/** The latest the devices come back if an answer never comes. */
const backMaxMs = 3_000;
/** The least delay on a node's link to Redis for a welcome race through it (a few client hops pass first). */
const raceLinkFloorMs = 60;
/** How long a welcome race's devices are off before they come back with the create (their close is done). */
const raceOffMs = 300;

export function scheduleStaleWelcomes(
  world: World,
  scenario: Scenario,
  faults: readonly FaultSpec[],
  streams: SeedStreams,
  population: Population,
  ledger: AdminLedger,
  faultsAt: number,
  heldOffline: Set<number>,
  heldOnline: ReadonlySet<number>,
): void {
  const count = scenario.workload.staleWelcomes;
  const groups = population.groups.filter(isSmallGroup);
  let round = 0;
  if (scenario.topology.nodes >= 2 && scenario.workload.welcomeRacesAtMs.length > 0) {
    const raceRng = streams.stream('welcome-races');
    for (const atMs of scenario.workload.welcomeRacesAtMs)
      world.at(faultsAt + atMs, () => welcomeRace(raceRng));
  }
  if (count <= 0 || scenario.topology.nodes < 2) return;
  const rng = streams.stream('stale-welcomes');
  for (const fault of faults) {
    const cuts = fault.type === 'partition' && (fault.target === 'bus' || fault.target === 'store');
    const durationMs = fault.durationMs ?? 0;
    if (!cuts || durationMs < cutMinMs) continue;
    const node = (fault.node ?? 0) % scenario.topology.nodes;
    const start = faultsAt + fault.atMs;
    world.at(start + afterCutMs, () => makeMembers(node, rng));
    if (durationMs >= twoRoundsMinMs)
      world.at(start + durationMs - beforeHealMs, () => makeMembers(node, rng));
  }

  /** Users with a device open on `node` (at home there), none held by another workload: their devices there. */
  function devicesOn(node: number): Map<string, number[]> {
    const nodeName = `n${node + 1}`;
    const devicesOf = new Map<string, number[]>();
    world.clients.forEach((sim, index) => {
      if (
        sim.adversary ||
        sim.left ||
        heldOffline.has(index) ||
        heldOnline.has(index) ||
        sim.home % scenario.topology.nodes !== node ||
        sim.client.node !== nodeName ||
        sim.client.connectionState !== 'open'
      )
        return;
      devicesOf.set(sim.user, [...(devicesOf.get(sim.user) ?? []), index]);
    });
    return devicesOf;
  }

  /** The admin's create of a new group of `members` (the ledger records it); `answered` on any answer. */
  function createGroup(members: string[], answered: () => void): void {
    const conv = `${population.prefix}s${round++}`;
    ledger.create(
      { conv, kind: 'group', members },
      (request, answer) =>
        adminPost(
          world,
          '/v1/admin/conversations',
          { id: request.conv, kind: request.kind, members: request.members },
          (status, reply) => {
            answer(status, reply);
            answered();
          },
        ),
      () => world.now,
    );
  }

  function welcomeRace(raceRng: Prng): void {
    const admin = adminNodeIndex(world);
    if (admin < 0 || world.network.storeLinkDelayRange(admin)[1] > 0) return;
    const floor = (node: number): number => world.network.storeLinkDelayRange(node)[0];
    let slow = -1;
    world.nodes.forEach((node, i) => {
      if (i === admin || !node.up || node.paused || floor(i) < raceLinkFloorMs) return;
      if (slow < 0 || floor(i) > floor(slow)) slow = i;
    });
    if (slow < 0) return;
    const devicesOf = devicesOn(slow);
    const users = [...devicesOf.keys()];
    if (users.length === 0) return;
    const user = users[raceRng.int(users.length)]!;
    const phones = devicesOf.get(user)!;
    for (const index of phones) {
      heldOffline.add(index);
      world.clientEffects(index, world.clients[index]!.client.goOffline(world.now));
    }
    world.at(world.now + raceOffMs, () => {
      createGroup([user, population.users.find((other) => other !== user)!], () => {});
      for (const index of phones) {
        heldOffline.delete(index);
        if (!world.clients[index]!.left)
          world.clientEffects(index, world.clients[index]!.client.goOnline(world.now));
      }
    });
  }

  function makeMembers(node: number, rng: Prng): void {
    const admin = adminNodeIndex(world);
    if (admin < 0 || admin === node) return;
    const devicesOf = devicesOn(node);
    const users = [...devicesOf.keys()];
    const picked: string[] = [];
    while (picked.length < count && users.length > 0) picked.push(users.splice(rng.int(users.length), 1)[0]!);
    if (picked.length === 0) return;
    const phones = picked.flatMap((user) => devicesOf.get(user)!);
    for (const index of phones) {
      heldOffline.add(index);
      world.clientEffects(index, world.clients[index]!.client.goOffline(world.now));
    }
    let back = false;
    const comeBack = (): void => {
      if (back) return;
      back = true;
      for (const index of phones) {
        heldOffline.delete(index);
        if (!world.clients[index]!.left)
          world.clientEffects(index, world.clients[index]!.client.goOnline(world.now));
      }
    };
    world.at(world.now + backMaxMs, comeBack);
    let waiting = 1;
    const answered = (): void => {
      if (--waiting === 0) world.at(world.now + backAfterMs, comeBack);
    };
    // A new group of the picked users (and someone else when one was picked: a group has two at least).
    createGroup(
      picked.length >= 2 ? picked : [...picked, population.users.find((user) => user !== picked[0])!],
      answered,
    );
    // And the first picked user added to a small group it is not in, no other change to it in flight.
    const user = picked[0]!;
    const open = groups.filter((group) => !ledger.busy(group) && !ledger.isMember(group, user));
    if (open.length === 0) return;
    waiting++;
    const group = open[rng.int(open.length)]!;
    const sent = ledger.change(
      group,
      { add: [user], remove: [] },
      (c, change, answer) =>
        adminPost(world, `/v1/admin/conversations/${c}/members`, { add: change.add }, (status, reply) => {
          answer(status, reply);
          answered();
        }),
      () => world.now,
    );
    if (!sent) answered();
  }
}
