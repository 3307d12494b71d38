// What a fault is to the runner: it starts at a time, touches some clients, nodes or the store, and
// returns how to heal it. Faults take Toxiproxy's names where one exists (latency, bandwidth, timeout,
// reset_peer) so a scenario maps onto live runs against a real proxy.

import type { FaultSpec } from '../../scenarios/scenario.ts';
import type { Prng } from '../kernel/prng.ts';
import type { World } from '../world/world.ts';

export type FaultContext = {
  world: World;
  spec: FaultSpec;
  rng: Prng;
  /** Non-adversarial and adversarial client indexes alike. */
  clientCount: number;
  /**
   * Records a step of a fault that acts on nodes one after another (a `fault` history event of its
   * own type, e.g. each node's drain-restart of a rolling restart), so the timeline shows each.
   */
  note?: (type: string, phase: 'start' | 'heal', nodes: readonly string[]) => void;
  /**
   * Records that a node the fault stopped gracefully has ended (a `node-stop` history event): by itself
   * after its drain, or `killed` once the drain ran out of time.
   */
  stopped?: (node: string, killed: boolean) => void;
  /**
   * For a heal whose repair takes time (an operator's job before a backup goes back): records the fault
   * open again from now until the returned function is called, so the history's window covers the
   * damage for as long as it lasts, not only until the heal began.
   */
  holdOpen?: () => () => void;
  /**
   * Reads a page of a conversation's messages over HTTP as `user` (after `after`, `limit` of them), as
   * the run's HTTP readers do: recorded in the history, judged by read-pages and no-spurious-unavailable.
   */
  readHistory?: (conv: string, user: string, after: number, limit: number) => void;
};

export type Heal = () => void;

export type Fault = {
  type: FaultSpec['type'];
  start(context: FaultContext): Heal;
};

/** A deterministic sample of clients: each is in with probability `fraction` (the fault's own stream). */
export function pickClients(context: FaultContext): Set<number> {
  const fraction = context.spec.fraction ?? 0.1;
  const picked = new Set<number>();
  for (let client = 0; client < context.clientCount; client++)
    if (context.rng.float() < fraction) picked.add(client);
  return picked;
}

export function nodeOf(context: FaultContext): number {
  return (context.spec.node ?? 0) % context.world.nodes.length;
}
