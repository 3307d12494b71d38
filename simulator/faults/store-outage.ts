// A store outage: every store operation fails (`unavailable`) until the heal; nothing is acked
// meanwhile and clients retry under the same cmid. When the bus is Redis beside the store, it is a
// Redis outage: every node loses the bus too, and catches up from the store when it is back.

import type { Fault } from './fault.ts';

export const storeOutage: Fault = {
  type: 'store-outage',
  start(context) {
    const { storage, bus, nodes } = context.world;
    storage.setOutage(true);
    for (const node of nodes) bus.disconnect(node.index);
    return () => {
      storage.setOutage(false);
      for (const node of nodes) bus.reconnect(node.index);
    };
  },
};
