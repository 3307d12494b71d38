// A torn write: the store's machine crashes right after a write reached the disk and before an fsync
// covered it, and the crash keeps part of that write. With `sectors: 'prefix'` a prefix survives, cut
// at a sector boundary; with `'any'` any subset of its sectors does (the kernel writes dirty pages
// back in no order), so a hole may lie before a kept sector, and intact-looking records after it; with
// `'hole'` every sector but the first does, so every whole record past the first sector lies intact
// after the hole. The restart runs the real recovery, which may drop everything after the last fsync,
// since none of it was acked, but must keep every acknowledged record and must start. With
// `writeRecordsMin` the crash waits for a write holding that many whole records (a group-commit batch;
// one large record makes a long write of one), so that whole records lie after the hole: the case
// recovery must tell from damage.
// Judged by durable-ack and no-loss (an acked record cut with the tail), liveness (a recovery that
// refuses a log whose only damage is its unsynced tail stays down), agreement (a half-written record
// served as a message).

import { readFrame } from '../../reference-server/store/record-codec.ts';
import type { Fault } from './fault.ts';
import { storeOwner } from './store-owner.ts';

export const diskTornWrite: Fault = {
  type: 'disk-torn-write',
  start(context) {
    const owner = storeOwner(context);
    owner.disk.tearNextCrash = true;
    owner.disk.tearSectors = context.spec.sectors ?? 'prefix';
    const recordsMin = context.spec.writeRecordsMin ?? 1;
    owner.disk.onNextWrite(
      () => owner.crash(),
      (data) => wholeRecordsIn(data, recordsMin) >= recordsMin,
    );
    return () => {
      owner.disk.onNextWrite(null);
      owner.disk.tearNextCrash = false;
      owner.disk.tearSectors = 'prefix';
      owner.restart();
    };
  },
};

/** Whole log frames at the start of a write (group commit writes whole frames), counted up to `enough`. */
export function wholeRecordsIn(data: Buffer, enough: number): number {
  let count = 0;
  for (let offset = 0; count < enough && offset < data.length; count++) {
    const frame = readFrame(data, offset, data.length);
    if (!frame.ok) break;
    offset = frame.end;
  }
  return count;
}
