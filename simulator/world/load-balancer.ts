// The load balancer in front of the nodes: a client goes to its home node, or, while that one is
// down or draining (its /readyz answers 503), to the next one up and not draining (round the ring);
// failing that to the next one up. With every node down it still names the home node, and the
// connection is refused there.

import type { SimNode } from './sim-node.ts';

export function pickNode(home: number, nodes: readonly SimNode[]): number {
  const count = nodes.length;
  const homeIndex = home % count;
  for (let step = 0; step < count; step++) {
    const index = (homeIndex + step) % count;
    if (nodes[index]!.up && !nodes[index]!.draining) return index;
  }
  for (let step = 0; step < count; step++) {
    const index = (homeIndex + step) % count;
    if (nodes[index]!.up) return index;
  }
  return homeIndex;
}
