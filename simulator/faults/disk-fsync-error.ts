// fsync fails with EIO until the heal, and the kernel drops the failed pages (a retried fsync would
// "succeed" without them: PostgreSQL's fsyncgate). The log store must stop acknowledging at the first
// failure and refuse everything after; at the heal its supervisor restarts it and recovery replays.

import type { Fault } from './fault.ts';
import { storeOwner } from './store-owner.ts';

export const diskFsyncError: Fault = {
  type: 'disk-fsync-error',
  start(context) {
    const owner = storeOwner(context);
    owner.disk.fsyncFails = true;
    return () => {
      owner.disk.fsyncFails = false;
      owner.restartIfFailed();
    };
  },
};
