// A store outage: every store operation fails (`unavailable`) until the heal; nothing is acked
// meanwhile and clients retry under the same cmid.

import type { Fault } from './fault.ts';

export const storeOutage: Fault = {
  type: 'store-outage',
  start(context) {
    const storage = context.world.storage;
    storage.setOutage(true);
    return () => storage.setOutage(false);
  },
};
