// A torn write: the store's machine crashes right after a write reached the disk and before an fsync
// covered it, and the crash keeps part of that write. With `sectors: 'prefix'` a prefix survives, cut
// at a sector boundary; with `'any'` any subset of its sectors does (the kernel writes dirty pages
// back in no order), so a hole may lie before a kept sector, and intact-looking records after it; with
// `'hole'` every sector but the first does, so every whole record past the first sector lies intact
// after the hole. The restart runs the real recovery, which may drop everything after the last fsync,
// since none of it was acked, but must keep every acknowledged record and must start. With
// `writeRecordsMin` the crash waits for a write holding that many whole records (a group-commit batch;
// one large record makes a long write of one), so that whole records lie after the hole: the case
// recovery must tell from damage; with `'hole'` it also waits for a write with a frame that starts past
// its first sector boundary (frameAfterFirstBoundary), so the case is made by construction, not by the
// draw of where the batch's frames fall. With `tornAt: 'frame-length'` it waits for a write with a sector
// boundary 1-3 bytes into one of its frames and tears it there: the tail left holds part of its length
// field and nothing more, too short to say how long the frame is, the shortest torn tail recovery
// meets (a frame is not sector-aligned, so any crash may leave one; a recovery that cannot read so
// short a tail refuses a log with nothing acked lost: mutant 3047 of the 3c0f288 seed-3 sample).
// Such writes come about once a second at 200 clients, so the fault may wait seconds: the machine
// restarts half a second after the crash, and the heal only disarms it. Such a tear is counted (LogStorage's tornFrameLengths); a run that asked for one and never made
// it cannot pass liveness (verdict.ts, judgeTornFrameLengthReach).
// Judged by durable-ack and no-loss (an acked record cut with the tail), liveness (a recovery that
// refuses a log whose only damage is its unsynced tail stays down), agreement (a half-written record
// served as a message).

import { readFrame } from '../../reference-server/store/record-codec.ts';
import { sectorBytes } from '../world/sim-disk.ts';
import type { Fault } from './fault.ts';
import { storeOwner } from './store-owner.ts';

export const diskTornWrite: Fault = {
  type: 'disk-torn-write',
  start(context) {
    const owner = storeOwner(context);
    owner.disk.tearNextCrash = true;
    owner.disk.tearSectors = context.spec.sectors ?? 'prefix';
    const recordsMin = context.spec.writeRecordsMin ?? 1;
    const inLength = context.spec.tornAt === 'frame-length';
    if (inLength) owner.disk.tearBoundary = frameLengthBoundary;
    // Waiting for a write to tear in a frame's length field may take seconds: the machine then
    // restarts frameLengthRestartMs after its crash, not at the heal (which only disarms the fault).
    let down = false;
    const restart = (): void => {
      if (!down) return;
      down = false;
      owner.restart();
    };
    owner.disk.onNextWrite(
      () => {
        owner.crash();
        if (!inLength) return;
        owner.storage.noteTornFrameLength();
        down = true;
        const { world } = context;
        world.at(world.now + frameLengthRestartMs, restart);
      },
      (data, position) =>
        wholeRecordsIn(data, recordsMin) >= recordsMin &&
        (!inLength || frameLengthBoundary(data, position) !== null) &&
        (context.spec.sectors !== 'hole' || frameAfterFirstBoundary(data, position)),
    );
    return () => {
      owner.disk.onNextWrite(null);
      owner.disk.tearNextCrash = false;
      owner.disk.tearSectors = 'prefix';
      owner.disk.tearBoundary = null;
      if (inLength) restart();
      else owner.restart();
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

/**
 * Whether a write of whole log frames at `position` has a frame that starts at or past its first sector
 * boundary: a 'hole' tear (every sector kept but the first) of it leaves that frame intact after the
 * hole, the case recovery must tell from damage. Without one the tear is only a short torn tail.
 */
export function frameAfterFirstBoundary(data: Buffer, position: number): boolean {
  const boundary = (Math.floor(position / sectorBytes) + 1) * sectorBytes - position;
  for (let offset = 0; offset < data.length; ) {
    if (offset >= boundary) return true;
    const frame = readFrame(data, offset, data.length);
    if (!frame.ok) return false;
    offset = frame.end;
  }
  return false;
}

/** With tornAt 'frame-length': how long after its crash the machine restarts. */
const frameLengthRestartMs = 500;

/** The bytes of a frame's header that give its payload's length (record-codec.ts: u32, then the CRC). */
const lengthFieldBytes = 4;

/**
 * The first sector boundary inside a write of whole log frames at `position` that falls 1 to
 * lengthFieldBytes - 1 bytes into one of its frames (a prefix tear there leaves part of that frame's
 * length field), or null if none does.
 */
export function frameLengthBoundary(data: Buffer, position: number): number | null {
  const end = position + data.length;
  let boundary = (Math.floor(position / sectorBytes) + 1) * sectorBytes;
  for (let offset = 0; offset < data.length && boundary < end; ) {
    const frame = readFrame(data, offset, data.length);
    if (!frame.ok) return null;
    const frameEnd = position + frame.end;
    while (boundary < frameEnd) {
      const into = boundary - (position + offset);
      if (into > 0 && into < lengthFieldBytes) return boundary;
      boundary += sectorBytes;
    }
    offset = frame.end;
  }
  return null;
}
