// Clock offset between nodes: one node's clock runs ahead or behind. `ts` values disagree across
// nodes; nothing about order may depend on them.

import { type Fault, nodeOf } from './fault.ts';

export const clockOffset: Fault = {
  type: 'clock-offset',
  start(context) {
    const node = context.world.nodes[nodeOf(context)]!;
    node.setClockOffset(context.spec.offsetMs ?? 30_000);
    return () => node.setClockOffset(0);
  },
};
