// The simulated pub/sub bus between nodes (Redis in a live deployment): a published event reaches
// every other running node after the bus latency. A node that is down misses it, as a Redis
// subscriber that is not connected does; catch-up is the core's business, not the bus's.

import type { BusEvent } from '../../reference-server/core/bus-events.ts';
import { type Agenda, EventKind } from './agenda.ts';
import type { SimNode } from './sim-node.ts';

export class Bus {
  constructor(
    private readonly agenda: Agenda,
    private readonly nodes: readonly SimNode[],
    private readonly latencyMs: number,
  ) {}

  publish(fromNode: number, event: BusEvent): void {
    for (const node of this.nodes) {
      if (node.index === fromNode || !node.up) continue;
      this.agenda.schedule(this.agenda.now + this.latencyMs, EventKind.nodeInput, node.index, node.epoch, {
        type: 'bus',
        event,
      });
    }
  }
}
