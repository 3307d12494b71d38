// The simulated pub/sub bus between nodes (Redis in a live deployment): a published event reaches
// every other running node after the bus latency. A node that is down misses it, as a Redis
// subscriber that is not connected does; catch-up is the core's business, not the bus's.
// With `lossOnDisconnect` the bus is Redis pub/sub beside the store: a node cut from it (a store
// outage, a node cut from the store) is fed `bus-lost`, loses every event delivered while it is away,
// even one already in flight, and keeps its own publishes until it is back (as RedisBus does,
// bounded); on the way back it is fed `bus-resumed`, which is where the catch-up from the store begins.
// What a node keeps lives in its process, as RedisBus's backlog does: a crash or an exit loses it, and
// so does a publish still on its way up to Redis (slowed by redis-latency) when the process dies. The
// fleet recovers from those losses the way it does live: gap detection and the catch-up a `node-up`
// of the restarted node starts on the others (chat-node.ts). Kept publishes past the bound are dropped
// (the oldest first); the node then ends what it sends on the way back with `events-dropped`, which
// starts the same catch-up on the others, as RedisBus does.

import type { BusEvent } from '../../reference-server/core/bus-events.ts';
import { type Agenda, EventKind } from './agenda.ts';
import { nodeId } from './liveness.ts';
import type { Network } from './network.ts';
import type { SimNode } from './sim-node.ts';

/** Own publishes a cut-off node keeps for later (RedisBus's bound); older ones are lost. */
const backlogMax = 10_000;

export class Bus {
  /** Per node: disconnections so far; a delivery published before the latest one is lost. */
  private readonly cuts = new Map<number, number>();
  /** Nodes cut from the bus, with the publishes each keeps meanwhile. */
  private readonly away = new Map<number, BusEvent[]>();
  /** Nodes whose kept publishes overflowed while away: they send `events-dropped` on the way back. */
  private readonly dropped = new Set<number>();
  /** Per node: process deaths so far; a publish still on its way up to Redis when one came is lost. */
  private readonly deaths = new Map<number, number>();
  /** `bus-resumed` inputs fed so far: each is a catch-up from the store. */
  resumes = 0;
  /** Publishes lost with their node's process: kept while it was cut off, or still on their way up. */
  lostWithProcess = 0;

  constructor(
    private readonly agenda: Agenda,
    private readonly nodes: readonly SimNode[],
    private readonly latencyMs: number,
    private readonly lossOnDisconnect = false,
    /** The nodes' links to Redis (slowed by a redis-latency fault); none: every link healthy. */
    private readonly links?: Pick<Network, 'storeArrival'>,
  ) {}

  publish(fromNode: number, event: BusEvent): void {
    const kept = this.away.get(fromNode);
    if (kept !== undefined) {
      kept.push(event);
      if (kept.length > backlogMax) {
        kept.shift();
        this.dropped.add(fromNode);
      }
      return;
    }
    // Publisher to Redis, then Redis to each subscriber, each on that node's own link.
    const now = this.agenda.now;
    const sentAt = this.links?.storeArrival(fromNode, 'up', now) ?? now;
    if (sentAt <= now) {
      this.fanOut(fromNode, event, now);
      return;
    }
    // Still in the publisher's socket: Redis has it (and fans it out) only if the process lives that long.
    const deaths = this.deaths.get(fromNode) ?? 0;
    this.agenda.at(sentAt, () => {
      if ((this.deaths.get(fromNode) ?? 0) === deaths) this.fanOut(fromNode, event, sentAt);
      else this.lostWithProcess++;
    });
  }

  /** Redis has the event at `sentAt`: it goes to every node subscribed then. */
  private fanOut(fromNode: number, event: BusEvent, sentAt: number): void {
    for (const node of this.nodes) {
      if (node.index === fromNode || !node.up) continue;
      const at = sentAt + this.latencyMs;
      const arrival = this.links?.storeArrival(node.index, 'down', at) ?? at;
      if (!this.lossOnDisconnect) {
        this.deliver(node, event, arrival);
        continue;
      }
      if (this.away.has(node.index)) continue;
      const cuts = this.cuts.get(node.index) ?? 0;
      this.agenda.at(arrival, () => {
        if ((this.cuts.get(node.index) ?? 0) === cuts) this.deliver(node, event, this.agenda.now);
      });
    }
  }

  /** The node loses the bus (no-op unless `lossOnDisconnect`) and is told so, as RedisBus tells it. */
  disconnect(nodeIndex: number): void {
    if (!this.lossOnDisconnect || this.away.has(nodeIndex)) return;
    this.away.set(nodeIndex, []);
    this.cuts.set(nodeIndex, (this.cuts.get(nodeIndex) ?? 0) + 1);
    this.tellLost(nodeIndex);
  }

  /**
   * The node's process died (a crash, or an exit after a drain): what it kept while cut off and what
   * was still on its way up to Redis die with it, as RedisBus's backlog and socket buffer do. A node
   * cut off stays cut off: its next process starts away from the bus.
   */
  processDown(nodeIndex: number): void {
    this.deaths.set(nodeIndex, (this.deaths.get(nodeIndex) ?? 0) + 1);
    // The new process knows nothing of the old one's drops: the others catch up on its node-up.
    this.dropped.delete(nodeIndex);
    const kept = this.away.get(nodeIndex);
    if (kept === undefined || kept.length === 0) return;
    this.lostWithProcess += kept.length;
    this.away.set(nodeIndex, []);
  }

  /** A node (re)started: if it starts cut from the bus, it is told so at once. */
  nodeStarted(nodeIndex: number): void {
    if (this.away.has(nodeIndex)) this.tellLost(nodeIndex);
  }

  private tellLost(nodeIndex: number): void {
    const node = this.nodes[nodeIndex]!;
    if (!node.up) return;
    this.agenda.schedule(this.agenda.now, EventKind.nodeInput, node.index, node.epoch, { type: 'bus-lost' });
  }

  /** The node is back: it sends what it kept, then is told it may have missed events. */
  reconnect(nodeIndex: number): void {
    const kept = this.away.get(nodeIndex);
    if (kept === undefined) return;
    this.away.delete(nodeIndex);
    for (const event of kept) this.publish(nodeIndex, event);
    if (this.dropped.delete(nodeIndex))
      this.publish(nodeIndex, { kind: 'events-dropped', origin: nodeId(nodeIndex) });
    const node = this.nodes[nodeIndex]!;
    if (!node.up) return;
    this.resumes++;
    this.agenda.schedule(this.agenda.now + this.latencyMs, EventKind.nodeInput, node.index, node.epoch, {
      type: 'bus-resumed',
    });
  }

  private deliver(node: SimNode, event: BusEvent, at: number): void {
    this.agenda.schedule(at, EventKind.nodeInput, node.index, node.epoch, {
      type: 'bus',
      event,
    });
  }
}
