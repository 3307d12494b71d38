// A misdirected write (TigerBeetle's storage faults): the disk puts a record's bytes at the wrong
// place, over an older synced record of the log. Unlike a flipped bit, the bytes that land there are
// a whole frame that passes its CRC, the record of another message. The store must see that the frame
// is not the record its index expects there (seq and conv) and never serve it as that message: a read
// of it fails (reported as a corrupt read) and a recovery that replays it refuses the log.
//
// Which checker sees what: agreement (the other message's body shown or read back at the overwritten
// seq), per-conversation-order and no-duplicates (that message shown twice). The overwritten record
// itself is lost with one copy of the log, so durable-ack and no-loss fail for it however right the
// store is: never a swarm or explorer pick. With `durationMs`, a backup of the sectors is restored
// at the heal (the operator's repair) and a store that refused its log restarts: a correct store then
// loses nothing and every checker must pass, so the gate's disk-faults runs it. Before the restore, the
// operator's verify job reads every conversation back through the store (LogStorage.scrub), as a
// client's sync or HTTP read would: a store that served the record that landed as the one its index
// expects there is caught by agreement, whether or not any client happened to read that seq. The other half of a misdirected write, the
// place it was meant for keeping its old bytes, is a lost write no checksum of one copy can see
// (replicas recover it); the fault leaves it out, and the frame reaches its own place too.
// `landing` picks whose record lands: a later one of the target's own conversation (default: only the
// seq tells it apart), another conversation's record of the same seq (only the conversation does), or
// any later one (mostly both differ, the easiest to see).

import { decodeRecord, readFrame } from '../../reference-server/store/record-codec.ts';
import type { Fault } from './fault.ts';
import { storeOwner } from './store-owner.ts';

type Place = { path: string; offset: number; frame: Buffer; conv: string; seq: number };

export const diskMisdirectedWrite: Fault = {
  type: 'disk-misdirected-write',
  start(context) {
    const owner = storeOwner(context);
    // Segment names sort in log order, and each file's records lie in log order.
    const files = owner.disk
      .syncedFiles((path) => path.endsWith('.seg'))
      .sort((a, b) => (a.path < b.path ? -1 : 1));
    const appends: Place[] = [];
    for (const { path, bytes } of files) {
      for (let offset = 0; offset < bytes.length; ) {
        const frame = readFrame(bytes, offset, bytes.length);
        if (!frame.ok) break;
        const record = decodeRecord(frame.payload);
        if (record?.t === 'append')
          appends.push({
            path,
            offset,
            frame: bytes.subarray(offset, frame.end),
            conv: record.conv,
            seq: record.seq,
          });
        offset = frame.end;
      }
    }
    // The target is older than the record that lands on it (a later write went astray), so the frame
    // there names a seq or a conversation the index does not expect at that place; the whole frame
    // lands, CRC and all. Which record lands decides which half of the store's check it tests.
    const landing = context.spec.landing ?? 'same-conversation';
    const lands = (target: Place, source: Place): boolean =>
      landing === 'same-conversation'
        ? source.conv === target.conv
        : landing === 'same-seq'
          ? source.seq === target.seq && source.conv !== target.conv
          : true;
    const sizes = new Map(files.map((file) => [file.path, file.bytes.length]));
    const order = appends.slice(0, -1).map((_, index) => index);
    for (let i = order.length - 1; i > 0; i--) {
      const j = context.rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const index of order) {
      const target = appends[index]!;
      const room = sizes.get(target.path)! - target.offset;
      const sources = appends
        .slice(index + 1)
        .filter((source) => source.frame.length <= room && lands(target, source));
      if (sources.length === 0) continue;
      const source = context.rng.pick(sources);
      const landed = owner.disk.landMisdirected(target.path, target.offset, source.frame);
      if (landed !== null && context.spec.durationMs !== undefined)
        return () => {
          // The damage lasts until the backup is back: the fault stays open in the history while the
          // verify job reads (a read of the damaged seq meanwhile is refused, `unavailable`, as it should).
          const release = context.holdOpen?.();
          owner.storage.scrub(() => {
            landed.restore();
            owner.restartIfFailed();
            release?.();
          });
        };
      break;
    }
    return () => {};
  },
};
