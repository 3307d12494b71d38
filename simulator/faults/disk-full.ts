// The disk fills up: every write that would grow a file fails with ENOSPC until the heal. Clients must
// get `unavailable` (retry with the same cmid), never an ack that was not written; at the heal, space
// is freed and a store that failed is restarted by its supervisor.

import type { Fault } from './fault.ts';
import { storeOwner } from './store-owner.ts';

export const diskFull: Fault = {
  type: 'disk-full',
  start(context) {
    const owner = storeOwner(context);
    owner.disk.capacityBytes = owner.disk.used;
    return () => {
      owner.disk.capacityBytes = Number.POSITIVE_INFINITY;
      owner.restartIfFailed();
    };
  },
};
