// Toxiproxy's `timeout` toxic: a blackhole. Data stops flowing on the links of some clients, without a
// close; both ends find out only by silence. Unlike a partition, new connections still get through.

import { type Fault, pickClients } from './fault.ts';

export const timeout: Fault = {
  type: 'timeout',
  start(context) {
    const clients = pickClients(context);
    context.world.network.blackhole(clients);
    return () => {};
  },
};
