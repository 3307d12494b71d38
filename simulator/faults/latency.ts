// Toxiproxy's `latency` toxic: extra delay (plus jitter) on the links of some clients.

import { type Fault, pickClients } from './fault.ts';

export const latency: Fault = {
  type: 'latency',
  start(context) {
    const { world, spec } = context;
    const clients = pickClients(context);
    const extra = (spec.latencyMs ?? 200) + (spec.jitterMs ?? 0) / 2;
    for (const client of clients) world.extraLatencyMs[client] = extra;
    return () => {
      for (const client of clients) world.extraLatencyMs[client] = 0;
    };
  },
};
