// A virtual client as the world sees it: the sans-I/O state machine plus where it lives (home node)
// and what the scenario made of it (its conversations, adversarial or not).

import type { VirtualClient } from '../client/virtual-client.ts';

export class SimClient {
  /**
   * Conversations the user belongs to (at setup, then as added). Shared with other clients and frozen:
   * replace it, never write into it.
   */
  convs: readonly string[];
  /**
   * Went offline for good (when the run settled, or earlier as one of `workload.awayUsers`): not
   * judged for delivery, but its presence is.
   */
  left = false;

  constructor(
    readonly client: VirtualClient,
    /** Index of the node its load balancer prefers. */
    readonly home: number,
    convs: readonly string[],
    readonly adversary: boolean,
    /** Dials only its home node: no failover while that node is down (`clients.pinnedFraction`). */
    readonly pinned: boolean,
  ) {
    this.convs = convs;
  }

  /** The machine's own (a million clients held each name twice, 16 bytes a client). */
  get user(): string {
    return this.client.user;
  }

  get device(): string {
    return this.client.device;
  }
}
