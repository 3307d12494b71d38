// Toxiproxy's `reset_peer` toxic: the connections of some clients are reset (TCP RST); both ends
// learn at once and clients reconnect.

import { type Fault, pickClients } from './fault.ts';

export const resetPeer: Fault = {
  type: 'reset_peer',
  start(context) {
    const clients = pickClients(context);
    context.world.network.reset(clients);
    return () => {};
  },
};
