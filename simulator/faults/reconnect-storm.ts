// A reconnect storm: a large share of clients dropped at the same instant, all coming back at once
// (with full jitter they spread out; without it they arrive as a thundering herd).

import { type Fault, pickClients } from './fault.ts';

export const reconnectStorm: Fault = {
  type: 'reconnect-storm',
  start(context) {
    const clients = pickClients({
      ...context,
      spec: { ...context.spec, fraction: context.spec.fraction ?? 0.5 },
    });
    context.world.network.reset(clients);
    return () => {};
  },
};
