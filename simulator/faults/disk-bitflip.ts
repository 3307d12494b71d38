// A bit flips in a synced sector of the log's checkpoint (default) or of a segment. The CRCs must
// catch it: a damaged checkpoint is set aside at the next recovery (every segment is replayed, nothing
// lost); a damaged record is never served (reads of it fail, recovery refuses the log rather than cut
// it). The final read recovers after a crash, which meets the damage when it replays those bytes.
//
// In a segment, the flip lands in the last segment, in a record the next recovery replays (after the
// position the synced checkpoint covers) that crosses a sector boundary, preferably one whose header
// puts a zero byte right before it (where a torn write's unwritten sector looks the same), with synced
// records after it: recovery must refuse it, not cut it as a torn tail; or in the last record of the
// sealed segment before it. It spares the last synced record of the log: damage there, with nothing
// after it, looks exactly like a torn write (recovery cuts it), and with one copy of the log no store
// can tell the two apart. With `durationMs`, a backup of the sector is restored at the heal
// (the operator's repair, or a replica's) and a store that refused its log is restarted: then a
// correct store loses nothing and every checker must pass, while one that cut the damage off as a torn
// tail has lost acked records for good (durable-ack, no-loss). `segment` picks the place: 'last' (the
// only segment where recovery must tell damage from a torn tail, by the intact records after it),
// 'sealed', or 'either' (the default, as the seed decides). Without it the record stays unreadable
// and its loss is the scenario's own (agreement, order and no-duplicates judge that nothing else was
// served in its place).

import { checkpointFileName } from '../../reference-server/store/checkpoint.ts';
import { frameHeaderBytes, readFrame } from '../../reference-server/store/record-codec.ts';
import { segmentPath } from '../../reference-server/store/segment-file.ts';
import type { Prng } from '../kernel/prng.ts';
import { sectorBytes } from '../world/sim-disk.ts';
import { checkpointPosition } from './disk-lost-flush.ts';
import type { Fault } from './fault.ts';
import { storeOwner } from './store-owner.ts';

export const diskBitflip: Fault = {
  type: 'disk-bitflip',
  start(context) {
    const owner = storeOwner(context);
    if (context.spec.file !== 'segment') {
      owner.storage.noteBitFlip(owner.disk.flipBit((path) => path.endsWith('checkpoint.dat')));
      return () => {};
    }
    const target = recentByte(
      owner.disk.syncedFiles((path) => path.endsWith('.seg')),
      context.rng,
      context.spec.segment ?? 'either',
      checkpointPosition(owner.disk.syncedFiles((path) => path.endsWith(`/${checkpointFileName}`))),
    );
    const flip =
      target === null
        ? null
        : owner.disk.flipBit(
            (path) => path === target.path,
            () => target.offset,
          );
    owner.storage.noteBitFlip(flip);
    if (flip === null || context.spec.durationMs === undefined) return () => {};
    return () => {
      flip.restore();
      owner.restartIfFailed();
    };
  },
};

/** How far back from the end of a segment a flip lands: data the next recovery likely replays. */
const recentBytes = 16 * 1024;

/**
 * In the last segment, a byte of the payload of a record recovery replays (after the position the
 * checkpoint covers) that crosses a sector boundary and has synced records after it: the records
 * recovery must refuse, not cut, although part of a frame across a boundary is what a torn write
 * leaves. Preferred among them, one whose header puts a zero byte right before the boundary (a
 * payload length's high bytes): a torn tail's unwritten sector is zeros there too, so only the record
 * after it tells damage from a tear (mutants 2753 and 2723 of the 4a1ec6e seed-4 and 3c0f288 seed-3
 * samples cut such damage as a torn tail). Failing those, a byte among its newest `recentBytes`
 * before its last synced record. Or, as likely as the last segment, a byte in the last record of the
 * sealed segment before it, where damage looks like a torn tail although no write of a sealed segment
 * can be torn (recovery must refuse, not cut). Null when there is no such byte.
 */
export function recentByte(
  segments: readonly { path: string; bytes: Buffer }[],
  rng: Prng,
  which: 'either' | 'last' | 'sealed',
  checkpoint: { dir: string; segment: number; offset: number } | null = null,
): { path: string; offset: number } | null {
  const ordered = [...segments].sort((a, b) => (a.path < b.path ? -1 : 1));
  const last = ordered.at(-1);
  const sealed = ordered.at(-2);
  const spans: { path: string; from: number; to: number }[] = [];
  if (last !== undefined && which !== 'sealed') {
    const covered =
      checkpoint !== null && segmentPath(checkpoint.dir, checkpoint.segment) === last.path
        ? checkpoint.offset
        : 0;
    const frames = framesOf(last.bytes).filter((frame) => frame.start >= covered);
    // Not the last frame: damage there, with nothing after it, looks exactly like a torn write.
    const across = frames.slice(0, -1).filter((frame) => boundariesIn(frame).length > 0);
    const zeroBefore = across.filter((frame) => boundariesIn(frame).some((at) => last.bytes[at - 1] === 0));
    const chosen = zeroBefore.length > 0 ? zeroBefore : across;
    if (chosen.length > 0) {
      const frame = chosen[rng.int(chosen.length)]!;
      spans.push({ path: last.path, from: frame.start + frameHeaderBytes, to: frame.end });
    } else {
      const to = frames.at(-1)?.start ?? lastFrameStart(last.bytes);
      spans.push({ path: last.path, from: Math.max(0, to - recentBytes), to });
    }
  }
  if (sealed !== undefined && which !== 'last')
    spans.push({ path: sealed.path, from: lastFrameStart(sealed.bytes), to: sealed.bytes.length });
  const usable = spans.filter((span) => span.to > span.from);
  if (usable.length === 0) return null;
  const span = usable[rng.int(usable.length)]!;
  return { path: span.path, offset: span.from + rng.int(span.to - span.from) };
}

/** The whole frames of a segment's synced bytes, in order. */
function framesOf(bytes: Buffer): { start: number; end: number }[] {
  const frames: { start: number; end: number }[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    const frame = readFrame(bytes, offset, bytes.length);
    if (!frame.ok) break;
    frames.push({ start: offset, end: frame.end });
    offset = frame.end;
  }
  return frames;
}

/** The sector boundaries strictly inside a frame. */
function boundariesIn(frame: { start: number; end: number }): number[] {
  const out: number[] = [];
  for (let at = (Math.floor(frame.start / sectorBytes) + 1) * sectorBytes; at < frame.end; at += sectorBytes)
    out.push(at);
  return out;
}

/** Where the last whole frame of a segment's synced bytes starts (0 if it holds one or none). */
function lastFrameStart(bytes: Buffer): number {
  return framesOf(bytes).at(-1)?.start ?? 0;
}
