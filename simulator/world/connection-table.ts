// Every connection the simulated network ever made, as columns (struct of arrays) indexed by the
// connection id: a frame's arrival reads a byte and an int, not an object of a dozen fields somewhere
// in a heap of a million of them. Ids are dense and never reused (a late event names a dead id).

import type { ServerFrame } from '../../reference-server/protocol/frames.ts';

export const ConnectionState = { connecting: 0, open: 1, closed: 2 } as const;

/**
 * Frames waiting for a rate-limited link, in order. A `frame` of null is the node's close (`code`): it
 * leaves behind the frames queued before it, as a close frame follows the data on a TCP stream.
 */
export type PendingFrames = { frame: ServerFrame | null; bytes: number; code?: number }[];

export class ConnectionTable {
  private capacity = 1024;
  count = 0;
  client = new Int32Array(this.capacity);
  node = new Int32Array(this.capacity);
  /** The node's epoch when the connection was made: frames to a later incarnation are void. */
  epoch = new Int32Array(this.capacity);
  state = new Uint8Array(this.capacity);
  broken = new Uint8Array(this.capacity);
  /** When the last frame in each direction arrives: later frames never overtake it. */
  toNodeAt = new Float64Array(this.capacity);
  toClientAt = new Float64Array(this.capacity);
  /** Bytes the node has written that the link has not carried yet (its send buffer). */
  queuedBytes = new Float64Array(this.capacity);
  /** 1 exactly while `pending` holds frames (or a close) for the connection: sendToClient reads it first. */
  draining = new Uint8Array(this.capacity);
  /** Frames waiting for a rate-limited link; absent when nothing waits (rare: bandwidth faults). */
  readonly pending = new Map<number, PendingFrames>();

  /** A new connection, connecting, unbroken, nothing sent yet; returns its id. */
  add(client: number, node: number, epoch: number): number {
    if (this.count === this.capacity) this.grow();
    const id = this.count++;
    this.client[id] = client;
    this.node[id] = node;
    this.epoch[id] = epoch;
    this.state[id] = ConnectionState.connecting;
    return id;
  }

  private grow(): void {
    this.capacity *= 2;
    const grown = <T extends Int32Array | Uint8Array | Float64Array>(
      from: T,
      make: new (n: number) => T,
    ): T => {
      const to = new make(this.capacity);
      to.set(from);
      return to;
    };
    this.client = grown(this.client, Int32Array);
    this.node = grown(this.node, Int32Array);
    this.epoch = grown(this.epoch, Int32Array);
    this.state = grown(this.state, Uint8Array);
    this.broken = grown(this.broken, Uint8Array);
    this.toNodeAt = grown(this.toNodeAt, Float64Array);
    this.toClientAt = grown(this.toClientAt, Float64Array);
    this.queuedBytes = grown(this.queuedBytes, Float64Array);
    this.draining = grown(this.draining, Uint8Array);
  }
}
