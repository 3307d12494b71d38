// A slow disk: every operation, fsync included, takes `slowFactor` times longer until the heal.
// Acks slow down with it (group commit batches more per fsync); nothing may be lost or reordered.

import type { Fault } from './fault.ts';
import { storeOwner } from './store-owner.ts';

export const diskSlow: Fault = {
  type: 'disk-slow',
  start(context) {
    const disk = storeOwner(context).disk;
    disk.slowFactor = context.spec.slowFactor ?? 25;
    return () => {
      disk.slowFactor = 1;
    };
  },
};
