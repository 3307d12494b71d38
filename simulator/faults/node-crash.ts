// A node crash: the process dies (volatile state gone, its sockets reset; with the embedded store,
// writes not yet synced are lost) and restarts at the heal on the same durable store.

import { type Fault, nodeOf } from './fault.ts';

export const nodeCrash: Fault = {
  type: 'node-crash',
  start(context) {
    const node = context.world.nodes[nodeOf(context)]!;
    node.crash();
    return () => node.restart();
  },
};
