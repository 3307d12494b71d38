// A crash during recovery: the store's machine crashes with a torn write, restarts, and crashes again
// a few disk operations into its replay (the seed decides how many), perhaps while it cuts the torn
// tail. At the heal it restarts once more. Recovery must be safe to interrupt and rerun any number of
// times and still keep every acknowledged record.

import type { Fault } from './fault.ts';
import { storeOwner } from './store-owner.ts';

/** How long the owner stays down before the first restart. */
const downMs = 200;

export const crashDuringRecovery: Fault = {
  type: 'crash-during-recovery',
  start(context) {
    const owner = storeOwner(context);
    const { world, rng } = context;
    owner.disk.tearNextCrash = true;
    owner.crash();
    const operations = 1 + rng.int(4);
    world.at(world.now + downMs, () => {
      owner.disk.afterMoreOperations(operations, () => {
        if (owner.storage.isRecovering) owner.crash();
      });
      owner.restart();
    });
    return () => {
      owner.disk.afterMoreOperations(0, null);
      owner.restart();
    };
  },
};
