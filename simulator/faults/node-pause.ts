// A node pause (SIGSTOP, a long GC): the node handles nothing and answers no ping until the heal,
// then works through what queued up. Clients may give up on it meanwhile.

import { type Fault, nodeOf } from './fault.ts';

export const nodePause: Fault = {
  type: 'node-pause',
  start(context) {
    const node = context.world.nodes[nodeOf(context)]!;
    node.pause();
    return () => node.resume();
  },
};
