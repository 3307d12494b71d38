// A network partition: some clients cut from every node, one node cut from every client, or one node
// cut from the store. Open connections across the cut go dead (frames lost; the node notices by
// missed pongs, the client by silence) and new ones cannot be made until the heal.

import { type Fault, nodeOf, pickClients } from './fault.ts';

export const partition: Fault = {
  type: 'partition',
  start(context) {
    const network = context.world.network;
    if (context.spec.target === 'store') {
      // One node cut from Redis: its store and (when the bus is Redis) its bus.
      const node = nodeOf(context);
      const bus = context.world.bus;
      network.cutFromStore(node);
      bus.disconnect(node);
      return () => {
        network.reconnectToStore(node);
        bus.reconnect(node);
      };
    }
    if (context.spec.target === 'node') {
      const node = nodeOf(context);
      network.isolateNode(node);
      return () => network.rejoinNode(node);
    }
    const clients = pickClients(context);
    network.partition(clients);
    return () => network.healPartition(clients);
  },
};
