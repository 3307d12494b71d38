// A network partition: some clients cut from every node, one node cut from every client, or one node
// cut from the store. Open connections across the cut go dead (frames lost; the node notices by
// missed pongs, the client by silence) and new ones cannot be made until the heal.

import { type Fault, nodeOf, pickClients } from './fault.ts';

export const partition: Fault = {
  type: 'partition',
  start(context) {
    const { world, spec } = context;
    if (spec.target === 'store') {
      const node = world.nodes[nodeOf(context)]!;
      node.cutFromStore = true;
      return () => {
        node.cutFromStore = false;
      };
    }
    if (spec.target === 'node') {
      const index = nodeOf(context);
      world.nodes[index]!.cutFromClients = true;
      world.breakConnections((conn) => conn.node === index);
      return () => {
        world.nodes[index]!.cutFromClients = false;
      };
    }
    const clients = pickClients(context);
    for (const client of clients) world.clientCut[client] = true;
    world.breakConnections((conn) => clients.has(conn.client));
    return () => {
      for (const client of clients) world.clientCut[client] = false;
    };
  },
};
