// Toxiproxy's `latency` toxic: extra delay on the links of some clients, varied per frame by
// ±jitterMs as Toxiproxy does (a link still delivers in order).

import { type Fault, pickClients } from './fault.ts';

export const latency: Fault = {
  type: 'latency',
  start(context) {
    const { world, spec } = context;
    const clients = pickClients(context);
    world.network.setExtraLatency(clients, spec.latencyMs ?? 200, spec.jitterMs ?? 0);
    return () => world.network.setExtraLatency(clients, 0);
  },
};
