// Which nodes of a fleet take each other for alive, as RedisLiveness does live: every node heartbeats
// into Redis, and one that has been silent for the presence TTL (crashed, stopped, or paused) is taken
// for dead, so every other node is fed `node-down` and forgets the presence it reported (its users'
// connections are gone). When a node taken for dead beats again, the others are fed
// `presence-resync`, as RedisLiveness feeds them. A node silent for less than the TTL is not noticed.
// Only a fleet has a liveness set (one node has no one to tell).

import type { Input } from '../../reference-server/core/inputs.ts';
import { type Agenda, EventKind } from './agenda.ts';
import type { SimNode } from './sim-node.ts';

export class Liveness {
  /** Per node: silences so far; a silence judged at its TTL counts only if it is still the latest. */
  private readonly silences = new Map<number, number>();
  private readonly silent = new Set<number>();
  private readonly dead = new Set<number>();
  /** Times a node was taken for dead. */
  downs = 0;

  /** `nodes` is the world's own list, filled after this is built. */
  constructor(
    private readonly agenda: Agenda,
    private readonly nodes: readonly SimNode[],
    private readonly ttlMs: number,
  ) {}

  /** The node stopped heartbeating (it crashed, stopped or froze). */
  stopped(index: number): void {
    if (this.nodes.length < 2 || this.silent.has(index)) return;
    this.silent.add(index);
    const silence = (this.silences.get(index) ?? 0) + 1;
    this.silences.set(index, silence);
    this.agenda.at(this.agenda.now + this.ttlMs, () => {
      if (this.silences.get(index) !== silence || !this.silent.has(index) || this.dead.has(index)) return;
      this.dead.add(index);
      this.downs++;
      this.tellOthers(index, { type: 'bus', event: { kind: 'node-down', origin: nodeId(index) } });
    });
  }

  /** The node heartbeats again (it booted or was resumed). */
  beating(index: number): void {
    if (!this.silent.delete(index) || !this.dead.delete(index)) return;
    this.tellOthers(index, { type: 'presence-resync' });
  }

  private tellOthers(index: number, input: Input): void {
    for (const node of this.nodes) {
      if (node.index === index || !node.up) continue;
      this.agenda.schedule(this.agenda.now, EventKind.nodeInput, node.index, node.epoch, input);
    }
  }
}

/** The node ids the world gives its cores (world.ts `newCore`). */
export function nodeId(index: number): string {
  return `n${index + 1}`;
}
