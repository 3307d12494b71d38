// A network partition: some clients cut from every node, one node cut from every client, one node
// cut from the store (Redis: its store and, when the bus is Redis too, its bus), or one node cut from
// the bus alone (a fleet whose store is elsewhere, Cassandra with `serve --redis` for the bus: the node
// keeps sequencing, keeps its publishes until it is back, and the others hear its seqs late, after
// seqs sequenced later; it misses theirs and pushes its own past the gap). Open connections across the
// cut go dead (frames lost; the node notices by missed pongs, the client by silence) and new ones
// cannot be made until the heal.

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
    if (context.spec.target === 'bus') {
      const node = nodeOf(context);
      const bus = context.world.bus;
      bus.disconnect(node);
      return () => bus.reconnect(node);
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
