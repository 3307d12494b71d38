// A torn write: the store's machine crashes right after a write reached the disk and before an fsync
// covered it, and the crash keeps a prefix of that write cut at a sector boundary. The restart runs
// the real recovery, which must cut the torn tail and keep every acknowledged record.

import type { Fault } from './fault.ts';
import { storeOwner } from './store-owner.ts';

export const diskTornWrite: Fault = {
  type: 'disk-torn-write',
  start(context) {
    const owner = storeOwner(context);
    owner.disk.tearNextCrash = true;
    owner.disk.onNextWrite(() => owner.crash());
    return () => {
      owner.disk.onNextWrite(null);
      owner.disk.tearNextCrash = false;
      owner.restart();
    };
  },
};
