// A bit flips in a synced sector of the log's checkpoint (default) or of a segment. The CRCs must
// catch it: a damaged checkpoint is set aside at the next recovery (every segment is replayed, nothing
// lost); a damaged record is never served (reads of it fail, recovery refuses the log). The final
// read recovers after a crash, so every run with this fault exercises the detection.

import type { Fault } from './fault.ts';
import { storeOwner } from './store-owner.ts';

export const diskBitflip: Fault = {
  type: 'disk-bitflip',
  start(context) {
    const owner = storeOwner(context);
    const suffix = context.spec.file === 'segment' ? '.seg' : 'checkpoint.dat';
    owner.storage.noteBitFlip(owner.disk.flipBit((path) => path.endsWith(suffix)));
    return () => {};
  },
};
