// A node crash: the process dies (volatile state gone, its sockets reset; with the embedded store,
// writes not yet synced are lost) and restarts at the heal on the same durable store. With
// `storeRefusedAfterStartMs`, the restarted node's store refuses at once every request the node sends
// for that long from its start (its records read, its core starting), as a Redis that does not take
// the restarted process's connection yet: the catch-up read a fleet node starts with fails, and the
// node, stale and holding its welcomes, has only its own retry to bring it up to date (no other node's
// start or death, nor its own bus, tells it to read again). The window is recorded as a `store-outage`
// on that node, so the checkers excuse what it fails there (an `unavailable`, a held hello) and no more.

import { type Fault, nodeOf } from './fault.ts';

export const nodeCrash: Fault = {
  type: 'node-crash',
  start(context) {
    const { world, spec, note } = context;
    const index = nodeOf(context);
    const node = world.nodes[index]!;
    node.crash();
    const lossMs = spec.storeRefusedAfterStartMs ?? 0;
    if (lossMs <= 0) return () => node.restart();
    const nodes = [`n${index + 1}`];
    return () =>
      node.restart(undefined, () => {
        note?.('store-outage', 'start', nodes);
        world.network.refuseStoreRequests([index], true);
        world.at(world.now + lossMs, () => {
          world.network.refuseStoreRequests([index], false);
          note?.('store-outage', 'heal', nodes);
        });
      });
  },
};
