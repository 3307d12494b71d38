// Toxiproxy's `bandwidth` toxic: the server-to-client direction of some links limited to a rate, so
// frames queue and the node's send buffer for them grows.

import { type Fault, pickClients } from './fault.ts';

export const bandwidth: Fault = {
  type: 'bandwidth',
  start(context) {
    const { world, spec } = context;
    const clients = pickClients(context);
    const bytesPerMs = (spec.bytesPerSec ?? 64 * 1024) / 1000;
    for (const client of clients) world.bandwidth[client] = bytesPerMs;
    return () => {
      for (const client of clients) world.bandwidth[client] = 0;
    };
  },
};
