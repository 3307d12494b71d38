// Slow consumers: clients that read far slower than the node writes. Their send buffers pass the
// node's bound and the node must close them with 4509; they reconnect and resume.

import { type Fault, pickClients } from './fault.ts';

export const slowConsumer: Fault = {
  type: 'slow-consumer',
  start(context) {
    const { world, spec } = context;
    const clients = pickClients(context);
    const bytesPerMs = (spec.bytesPerSec ?? 2 * 1024) / 1000;
    for (const client of clients) world.bandwidth[client] = bytesPerMs;
    return () => {
      for (const client of clients) world.bandwidth[client] = 0;
    };
  },
};
