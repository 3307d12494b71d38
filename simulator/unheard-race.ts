// The unheard race, made to happen (workload.unheardRace): two messages whose sequencer lost the
// store's replies, which that node then learns from the store alone (a welcome's record read) and pushes
// from a gap fill, so it must still count them unheard (chat-node.ts `unheard`): the first is heard late
// on the bus (its resend is read back and published), the second is resent through that node after
// that, and only the node's read-back of it tells the other nodes. A node that counts it heard (an
// `unheard` set emptied whole, or never kept) publishes it nowhere, and in a conversation quiet from
// then on the members' devices on the other nodes never get it (push reach; no-loss: the run does not
// settle; promise 5). Session 26 found that bug by chance, in fleet-races' late window of lost replies;
// there anything that tells the other nodes of the seqs hides it: a delivered cursor from an app on the
// node that filled the gap (its `receipt` makes the others fill it too), any later message, welcome,
// change or read in the conversation, and a catch-up (fleet-races' restarted node's `node-up` comes
// just after its window). So the race runs on lost-replies' two nodes, where none of them happens.

import type { FaultSpec, Scenario } from '../scenarios/scenario.ts';
import type { AdminLedger } from './admin-ledger.ts';
import { devicesByUser, openOnNode, userLeaves, userSendsReadOnly } from './behaviours.ts';
import type { SeedStreams } from './kernel/prng.ts';
import type { World } from './world/world.ts';

/** After the window opens, the first message is sent; the second this long after it. */
const firstSendAfterMs = 400;
const secondSendAfterMs = 600;
/** After the window ends, the teaching device dials again (its welcome's record read must be answered). */
const teacherBackAfterMs = 20;
/**
 * The members' devices offline at the race stay so until the second message's push to the devices
 * open elsewhere is due (its resend's ack, after the store timeout and the backoff, plus push reach's
 * 3 s): one dialling again earlier would teach its node the seqs by its welcome.
 */
const othersBackAfterMs = 6_000;
/**
 * The window must hold both sends with room to spare, and end early enough before the first send's
 * timeout (the store timeout after it) that the node's welcome read, gap grace and fill come first.
 */
const windowMinMs = firstSendAfterMs + secondSendAfterMs + 300;
const windowMaxMs = 2_000;
/** Conversations of at most this many members (their devices are all held online). */
const membersMax = 8;

/**
 * The fault the race needs: one node's link losing every reply and no request, long enough for both
 * sends and short enough (within the store timeout after the first) that the fill comes before the
 * first send's timeout.
 */
export function lostRepliesWindow(scenario: Scenario): (FaultSpec & { type: 'store-flaky' }) | undefined {
  return scenario.faults.find(
    (fault): fault is FaultSpec & { type: 'store-flaky' } =>
      fault.type === 'store-flaky' &&
      fault.fraction === 0 &&
      fault.repliesFraction === 1 &&
      (fault.durationMs ?? 0) >= windowMinMs &&
      (fault.durationMs ?? 0) <= windowMaxMs,
  );
}

/**
 * At the lost-replies window of node A, picks a conversation (none of its members' devices away, every
 * one of them open, every member with a device on A an app sending no delivered cursor, so no receipt
 * tells the other nodes of the seqs) with a sender open on A, a second device open on A and homed there
 * (the teacher), and a device open on another node (owed the push). The conversation is quiet from
 * then on (`quiet`: no sends, reads or changes). The sender sends twice in the window: both are
 * sequenced, both replies lost. The teacher goes offline and dials A again when the window ends: its
 * welcome's record read teaches A the second seq, and A fills the gap (both seqs pushed, unheard)
 * before the first send's timeout. Its resend is a duplicate A read back and publishes (heard); the
 * second's comes after (the gap between the sends is more than the first retry's backoff) and must be
 * published too. Nothing is done when no conversation fits; `made` is called with the conversation.
 */
export function scheduleUnheardRace(
  world: World,
  scenario: Scenario,
  streams: SeedStreams,
  seed: number,
  ledger: AdminLedger,
  faultsAt: number,
  quiet: Set<string>,
  heldOnline: Set<number>,
  heldOffline: Set<number>,
  messageBody: (device: string, n: number) => string,
  made: (conv: string) => void = () => {},
): void {
  const window = scenario.workload.unheardRace ? lostRepliesWindow(scenario) : undefined;
  if (window === undefined) return;
  const node = window.node ?? 0;
  const nodeName = `n${node + 1}`;
  const opensAt = faultsAt + window.atMs;
  const closesAt = opensAt + (window.durationMs ?? 0);
  const rng = streams.stream('unheard-race');
  const readOnly = (user: string): boolean =>
    userSendsReadOnly(user, scenario.clients.readOnlyCursorsFraction, seed);
  world.at(opensAt + firstSendAfterMs, () => {
    const present = (index: number): boolean => {
      const sim = world.clients[index]!;
      return !sim.adversary && !sim.left && !heldOffline.has(index);
    };
    const open = (index: number): boolean =>
      world.clients[index]!.client.connectionState === 'open' && !world.network.closeIsLost(index);
    const on = (index: number): boolean => openOnNode(world, index, nodeName);
    const devicesOf = devicesByUser(world);
    const convs = new Set<string>();
    for (const sim of world.clients) for (const conv of sim.convs) convs.add(conv);
    const races = [...convs].sort().flatMap((conv) => {
      if (quiet.has(conv) || ledger.busy(conv) || ledger.formerMembersOf(conv).length > 0) return [];
      const members = ledger.membersOf(conv);
      if (members.length < 2 || members.length > membersMax) return [];
      const devices = members.flatMap((user) => devicesOf.get(user) ?? []).filter(present);
      const sending = (index: number): boolean => readOnly(world.clients[index]!.user);
      // A device open on A gets the gap fill's pushes: a delivered cursor from it would tell the others.
      if (!devices.filter(on).every(sending)) return [];
      // Owed the push: open on another node, and still there when it is due (past the settle's start).
      const owed = (index: number): boolean =>
        open(index) &&
        !on(index) &&
        !userLeaves(world.clients[index]!.user, scenario.workload.leaveFraction, seed);
      if (!devices.some(owed)) return [];
      const senders = devices.filter((index) => on(index) && world.clients[index]!.client.canSend());
      const teachers = devices.filter(
        (index) => sending(index) && world.clients[index]!.home % world.nodes.length === node,
      );
      return senders.flatMap((sender) =>
        teachers
          .filter((teacher) => teacher !== sender)
          .map((teacher) => ({ conv, sender, teacher, devices })),
      );
    });
    if (races.length === 0) return;
    const { conv, sender, teacher, devices } = rng.pick(races);
    quiet.add(conv);
    // The others stay as they are until the push is due: one dialling again would read the record.
    const away = devices.filter((index) => index !== teacher && !open(index));
    for (const index of devices) if (index !== teacher && open(index)) heldOnline.add(index);
    for (const index of away) heldOffline.add(index);
    heldOffline.add(teacher);
    world.clientEffects(teacher, world.clients[teacher]!.client.goOffline(world.now));
    const send = (n: number): void => {
      const sim = world.clients[sender]!;
      world.clientEffects(sender, sim.client.sendMessage(conv, messageBody(sim.device, n), world.now));
    };
    send(0);
    world.at(world.now + secondSendAfterMs, () => send(1));
    const back = (index: number): void => {
      heldOffline.delete(index);
      if (!world.clients[index]!.left)
        world.clientEffects(index, world.clients[index]!.client.goOnline(world.now));
    };
    world.at(closesAt + teacherBackAfterMs, () => back(teacher));
    world.at(closesAt + othersBackAfterMs, () => away.forEach(back));
    made(conv);
  });
}
