// A torn write: the store's machine crashes right after a write reached the disk and before an fsync
// covered it, and the crash keeps part of that write. With `sectors: 'prefix'` a prefix survives, cut
// at a sector boundary; with `'any'` any subset of its sectors does (the kernel writes dirty pages
// back in no order), so a hole may lie before a kept sector, and intact-looking records after it. The
// restart runs the real recovery, which may drop everything after the last fsync, since none of it was
// acked, but must keep every acknowledged record and must start. Judged by durable-ack and no-loss
// (an acked record cut with the tail), liveness (a recovery that refuses a log whose only damage is
// its unsynced tail stays down), agreement (a half-written record served as a message).

import type { Fault } from './fault.ts';
import { storeOwner } from './store-owner.ts';

export const diskTornWrite: Fault = {
  type: 'disk-torn-write',
  start(context) {
    const owner = storeOwner(context);
    owner.disk.tearNextCrash = true;
    owner.disk.tearInAnyOrder = context.spec.sectors === 'any';
    owner.disk.onNextWrite(() => owner.crash());
    return () => {
      owner.disk.onNextWrite(null);
      owner.disk.tearNextCrash = false;
      owner.disk.tearInAnyOrder = false;
      owner.restart();
    };
  },
};
