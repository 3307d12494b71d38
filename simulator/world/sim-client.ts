// A virtual client as the world sees it: the sans-I/O state machine plus where it lives (user,
// device, home node) and what the scenario made of it (its conversations, adversarial or not).

import type { VirtualClient } from '../client/virtual-client.ts';

export type SimClient = {
  client: VirtualClient;
  user: string;
  device: string;
  /** Index of the node its load balancer prefers. */
  home: number;
  /** Dials only its home node: no failover while that node is down (`clients.pinnedFraction`). */
  pinned?: boolean;
  /**
   * Conversations the user belongs to (at setup, then as added). Shared with other clients and frozen:
   * replace it, never write into it.
   */
  convs: readonly string[];
  adversary: boolean;
  /** Went offline for good when the run settled: not judged for delivery, but its presence is. */
  left: boolean;
};
