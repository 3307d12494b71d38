// Links of some clients limited to a rate in the server-to-client direction, so frames queue and the
// node's send buffer for them grows: Toxiproxy's `bandwidth`, and slow consumers (a far lower rate,
// enough to pass the node's bound and be closed with 4509).

import type { FaultSpec } from '../../scenarios/scenario.ts';
import { type Fault, pickClients } from './fault.ts';

export function rateLimitedLink(type: FaultSpec['type'], defaultBytesPerSec: number): Fault {
  return {
    type,
    start(context) {
      const network = context.world.network;
      const clients = pickClients(context);
      network.limitBandwidth(clients, (context.spec.bytesPerSec ?? defaultBytesPerSec) / 1000);
      return () => network.limitBandwidth(clients, 0);
    },
  };
}
