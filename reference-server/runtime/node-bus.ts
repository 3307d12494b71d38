// The port between a live node and its fleet: how bus events leave the node and arrive from the other
// nodes, and whether that link is up (/readyz). A single node has none; `RedisBus` is the fleet's.

import type { BusEvent } from '../core/bus-events.ts';
import type { Input } from '../core/inputs.ts';

export interface NodeBus {
  /**
   * Connects and starts feeding other nodes' events (`bus` inputs). When the link is lost it feeds
   * `bus-lost` (the node's view may fall behind), and when it is back, `bus-resumed` (the node catches up from the store: pub/sub kept nothing for it);
   * when a node stops heartbeating, `node-down`; when one taken for dead reappears, `presence-resync`.
   */
  start(nodeId: string, feed: (input: Input) => void): Promise<void>;
  /** Never blocks and never throws: what cannot be sent now is kept (bounded) and sent on reconnect. */
  publish(event: BusEvent): void;
  /** Why the bus is not usable now, or null when it is. */
  problem(): string | null;
  close(): Promise<void>;
}
