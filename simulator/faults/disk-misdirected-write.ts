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
// any later one (mostly both differ, the easiest to see). 'foreign' lands a frame that passes its CRC
// but is no record of this log's format (foreignRecord), then crashes and restarts the machine.

import { checkpointFileName } from '../../reference-server/store/checkpoint.ts';
import { decodeRecord, encodeJsonFrame, readFrame } from '../../reference-server/store/record-codec.ts';
import { segmentPath } from '../../reference-server/store/segment-file.ts';
import { checkpointPosition } from './disk-lost-flush.ts';
import type { Fault, FaultContext, Heal } from './fault.ts';
import { type StoreOwner, storeOwner } from './store-owner.ts';

type Place = { path: string; offset: number; frame: Buffer; conv: string; seq: number };

export const diskMisdirectedWrite: Fault = {
  type: 'disk-misdirected-write',
  start(context) {
    const owner = storeOwner(context);
    if (context.spec.landing === 'foreign') owner.crash();
    // Segment names sort in log order, and each file's records lie in log order.
    const files = owner.disk
      .syncedFiles((path) => path.endsWith('.seg'))
      .sort((a, b) => (a.path < b.path ? -1 : 1));
    const appends: Place[] = [];
    /** Each group's current members, as its records in the log have them. */
    const groups = new Map<string, Set<string>>();
    /** Each conversation's last record, and whether it is a message. */
    const lastRecord = new Map<string, { place: Place; append: boolean }>();
    for (const { path, bytes } of files) {
      for (let offset = 0; offset < bytes.length; ) {
        const frame = readFrame(bytes, offset, bytes.length);
        if (!frame.ok) break;
        const record = decodeRecord(frame.payload);
        if (record?.t === 'create') {
          if (record.kind === 'group') groups.set(record.id, new Set(record.members));
        } else if (record !== null) {
          const members = groups.get(record.conv);
          if (record.t === 'members' && members !== undefined) {
            for (const user of record.remove) members.delete(user);
            for (const user of record.add) members.add(user);
          }
          const place = { path, offset, frame: bytes.subarray(offset, frame.end), conv: record.conv, seq: 0 };
          lastRecord.set(record.conv, { place, append: record.t === 'append' });
        }
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
    if (context.spec.landing === 'foreign') {
      // Only what recovery replays: the records after the position the checkpoint covers.
      const covered = checkpointPosition(
        owner.disk.syncedFiles((path) => path.endsWith(`/${checkpointFileName}`)),
      );
      const from = covered === null ? '' : segmentPath(covered.dir, covered.segment);
      const replayed = (place: Place): boolean =>
        covered === null || place.path > from || (place.path === from && place.offset >= covered.offset);
      const last = [...lastRecord.values()].filter(({ place }) => groups.has(place.conv) && replayed(place));
      const messages = last.filter(({ append }) => append);
      return landForeign(
        context,
        owner,
        (messages.length > 0 ? messages : last).map(({ place }) => place),
        groups,
      );
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

/**
 * `landing: 'foreign'`: over the last record of a group's conversation in the log (so nothing of it
 * replays after: one that is a message when a group has one), past what the checkpoint covers (so
 * recovery replays it), a frame of the same length that passes
 * its CRC but is no record of this log's format (foreignRecord). The machine, crashed before, restarts
 * on it: a recovery that refuses it (a record that does not decode) stays down until the heal, when the
 * backup goes back and it restarts; one that replays it takes a number for a user id, removes a member
 * the harness never removed (refused as none from then on: authorization, no-loss) and starts without
 * the record it hid.
 */
function landForeign(
  context: FaultContext,
  owner: StoreOwner,
  targets: Place[],
  groups: Map<string, Set<string>>,
): Heal {
  const order = targets.map((_, index) => index);
  for (let i = order.length - 1; i > 0; i--) {
    const j = context.rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  let landed: { restore(): void } | null = null;
  for (const index of order) {
    const target = targets[index]!;
    const member = [...(groups.get(target.conv) ?? [])][0];
    if (member === undefined) continue;
    const frame = foreignRecord(target.conv, member, target.frame.length);
    if (frame === null) continue;
    landed = owner.disk.landMisdirected(target.path, target.offset, frame);
    if (landed !== null) break;
  }
  owner.restart();
  if (landed === null || context.spec.durationMs === undefined) return () => {};
  const restore = landed;
  const { world } = context;
  // The operator restores the backup once the recovery under way has ended, refused or not.
  const heal = (): void => {
    if (owner.storage.isRecovering) return world.at(world.now + recoveryPollMs, heal);
    restore.restore();
    owner.restartIfFailed();
  };
  return heal;
}

/** How often a heal looks again whether a recovery still running has refused the log. */
const recoveryPollMs = 50;

/**
 * A frame of exactly `frameBytes` bytes holding a membership change of `conv` that removes `removed`
 * and whose `add` lists a number where this format has a user id (a format of numeric ids), padded in
 * a field of its own; null if no such frame fits.
 */
export function foreignRecord(conv: string, removed: string, frameBytes: number): Buffer | null {
  const record = { t: 'members', conv, add: [7], remove: [removed], pad: '' };
  const bare = encodeJsonFrame(record).length;
  if (bare > frameBytes) return null;
  return encodeJsonFrame({ ...record, pad: 'x'.repeat(frameBytes - bare) });
}
