// A bit flips in a synced sector of the log's checkpoint (default) or of a segment. The CRCs must
// catch it: a damaged checkpoint is set aside at the next recovery (every segment is replayed, nothing
// lost); a damaged record is never served (reads of it fail, recovery refuses the log rather than cut
// it). The final read recovers after a crash, which meets the damage when it replays those bytes.
//
// In a segment, the flip lands in the newest bytes of the last segment (which the next recovery
// replays, unless a checkpoint covered them since: then only a read of that record meets it) or in the last record of the sealed one before
// it, but spares the last synced record of the log: damage there, with
// nothing after it, looks exactly like a torn write (recovery cuts it), and with one copy of the log
// no store can tell the two apart. With `durationMs`, a backup of the sector is restored at the heal
// (the operator's repair, or a replica's) and a store that refused its log is restarted: then a
// correct store loses nothing and every checker must pass, while one that cut the damage off as a torn
// tail has lost acked records for good (durable-ack, no-loss). `segment` picks the place: 'last' (the
// only segment where recovery must tell damage from a torn tail, by the intact records after it),
// 'sealed', or 'either' (the default, as the seed decides). Without it the record stays unreadable
// and its loss is the scenario's own (agreement, order and no-duplicates judge that nothing else was
// served in its place).

import { readFrame } from '../../reference-server/store/record-codec.ts';
import type { Prng } from '../kernel/prng.ts';
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
 * A byte among the newest `recentBytes` of the last segment, before its last synced record; or, as
 * likely, in the last record of the sealed segment before it, where damage looks like a torn tail
 * although no write of a sealed segment can be torn (recovery must refuse, not cut); or null.
 */
export function recentByte(
  segments: readonly { path: string; bytes: Buffer }[],
  rng: Prng,
  which: 'either' | 'last' | 'sealed',
): { path: string; offset: number } | null {
  const ordered = [...segments].sort((a, b) => (a.path < b.path ? -1 : 1));
  const last = ordered.at(-1);
  const sealed = ordered.at(-2);
  const spans: { path: string; from: number; to: number }[] = [];
  if (last !== undefined && which !== 'sealed') {
    const to = lastFrameStart(last.bytes);
    spans.push({ path: last.path, from: Math.max(0, to - recentBytes), to });
  }
  if (sealed !== undefined && which !== 'last')
    spans.push({ path: sealed.path, from: lastFrameStart(sealed.bytes), to: sealed.bytes.length });
  const usable = spans.filter((span) => span.to > span.from);
  if (usable.length === 0) return null;
  const span = usable[rng.int(usable.length)]!;
  return { path: span.path, offset: span.from + rng.int(span.to - span.from) };
}

/** Where the last whole frame of a segment's synced bytes starts (0 if it holds one or none). */
function lastFrameStart(bytes: Buffer): number {
  let start = 0;
  for (let offset = 0; offset < bytes.length; ) {
    const frame = readFrame(bytes, offset, bytes.length);
    if (!frame.ok) break;
    start = offset;
    offset = frame.end;
  }
  return start;
}
