// Toxiproxy's `latency` toxic: extra delay (plus jitter) on the links of some clients.

import { type Fault, pickClients } from './fault.ts';

export const latency: Fault = {
  type: 'latency',
  start(context) {
    const { world, spec } = context;
    const clients = pickClients(context);
    const extra = (spec.latencyMs ?? 200) + (spec.jitterMs ?? 0) / 2;
    world.network.setExtraLatency(clients, extra);
    return () => world.network.setExtraLatency(clients, 0);
  },
};
