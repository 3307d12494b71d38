// `workload.listenerRacesAtMs`: on a fleet, a conversation created over HTTP must reach a member who only
// listens on another node. At each time the admin creates, through its node, a group of two: a sender
// with a device open on the admin's node and a listener with a device open on another node. The
// listener's app does nothing with the group (it has not heard of it: no open, no sync, no cursor, no
// typing), and both devices stay online; at the create's answer the sender writes to it through the
// admin's node, and 4 s later the listener's app watches the sender (its node's answer is the frame
// after the push's due time that lets push reach judge it). The listener's node hears of the group only from the bus (the create's `conversation`
// event, before the message's from the same node): push reach owes the listener's device the message
// (protocol.md promise 5). Nothing the listener does makes its node read the record, so a node that
// never hears of an HTTP create (mutant 1212 of the 74bbde3 seed-6 sample published it with an empty
// kind; its siblings drop the publish or the bus event) never pushes it. Times late in the load, after
// every fault (and the catch-ups they start) are over, leave the bus the only way a node hears of it.

import type { Scenario } from '../scenarios/scenario.ts';
import type { AdminLedger } from './admin-ledger.ts';
import { adminCreate, adminNodeIndex, openOnNode } from './behaviours.ts';
import type { SeedStreams } from './kernel/prng.ts';
import type { Population } from './population.ts';
import type { World } from './world/world.ts';

/**
 * How long after the create's answer the listener's app watches the sender: past the push's due time
 * (delivery-mode's 3 s after the ack), so the device hears its node after it (the presence answer) and
 * push reach can judge the push; in the simulator a session heard nothing from is left unjudged.
 */
const hearAfterMs = 4_000;

export function scheduleListenerRaces(
  world: World,
  scenario: Scenario,
  streams: SeedStreams,
  population: Population,
  ledger: AdminLedger,
  faultsAt: number,
  heldOffline: ReadonlySet<number>,
  heldOnline: Set<number>,
  messageBody: (device: string, n: number) => string,
): void {
  if (scenario.topology.nodes < 2) return;
  const rng = streams.stream('listener-races');
  let round = 0;
  for (const atMs of scenario.workload.listenerRacesAtMs) world.at(faultsAt + atMs, race);

  /** A device an app holds (no adversary's, no leaver's, none another workload holds) open on `node`. */
  function appOn(index: number, node: string): boolean {
    const sim = world.clients[index]!;
    return (
      !sim.adversary &&
      !sim.left &&
      !heldOffline.has(index) &&
      !heldOnline.has(index) &&
      openOnNode(world, index, node)
    );
  }

  function race(): void {
    const admin = adminNodeIndex(world);
    if (admin < 0) return;
    const adminNode = `n${admin + 1}`;
    const senders = world.clients.flatMap((sim, index) =>
      appOn(index, adminNode) && sim.client.canSend() ? [index] : [],
    );
    // The listener: a user with no device on the admin's node, one open on another node.
    const onAdmin = new Set(
      world.clients.flatMap((sim) => (sim.client.node === adminNode ? [sim.user] : [])),
    );
    const listeners = world.clients.flatMap((sim, index) =>
      !onAdmin.has(sim.user) &&
      sim.client.node !== undefined &&
      sim.client.node !== adminNode &&
      appOn(index, sim.client.node)
        ? [index]
        : [],
    );
    if (senders.length === 0 || listeners.length === 0) return;
    const listener = listeners[rng.int(listeners.length)]!;
    const listenerUser = world.clients[listener]!.user;
    const pool = senders.filter((index) => world.clients[index]!.user !== listenerUser);
    if (pool.length === 0) return;
    const sender = pool[rng.int(pool.length)]!;
    heldOnline.add(listener);
    heldOnline.add(sender);
    const sim = world.clients[sender]!;
    const conv = `${population.prefix}l${round++}`;
    adminCreate(world, ledger, { conv, kind: 'group', members: [sim.user, listenerUser] }, () => {
      // Only the sender's app opens the group, on the admin's node, and writes to it at once.
      if (!sim.convs.includes(conv)) sim.convs = [...sim.convs, conv];
      world.clientEffects(sender, sim.client.openConversation(conv, world.now));
      world.clientEffects(sender, sim.client.sendMessage(conv, messageBody(sim.device, 0), world.now));
      world.at(world.now + hearAfterMs, () => {
        const app = world.clients[listener]!;
        if (!app.left) world.clientEffects(listener, app.client.watch([sim.user], world.now));
      });
    });
  }
}
