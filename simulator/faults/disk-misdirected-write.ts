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
// any later one (mostly both differ, the easiest to see). 'foreign' lands, with a crash and restart
// each, frames that pass their CRC but hold records a correct writer never writes (`forms`, see
// landForeign and foreignRecord): one for each check of record-codec.ts's decoder and of
// log-recovery.ts's replay that no other check makes for it, so a recovery missing any one takes its
// form and starts on a log the real one refuses.

import { checkpointFileName } from '../../reference-server/store/checkpoint.ts';
import {
  decodeRecord,
  encodeFrame,
  frameHeaderBytes,
  type LogRecord,
  readFrame,
} from '../../reference-server/store/record-codec.ts';
import { segmentPath } from '../../reference-server/store/segment-file.ts';
import type { ForeignRecordForm } from '../../scenarios/scenario.ts';
import { checkpointPosition } from './disk-lost-flush.ts';
import type { Fault, FaultContext, Heal } from './fault.ts';
import { type StoreOwner, storeOwner } from './store-owner.ts';

type Place = { path: string; offset: number; frame: Buffer; conv: string; seq: number };

export const diskMisdirectedWrite: Fault = {
  type: 'disk-misdirected-write',
  start(context) {
    const owner = storeOwner(context);
    if (context.spec.landing === 'foreign') return landForeign(context, owner);
    const { files, appends } = scanLog(owner, false);
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

/** The segments' synced bytes in log order, their appends, and with `byConversation` each conversation's records. */
function scanLog(
  owner: StoreOwner,
  byConversation: boolean,
): {
  files: { path: string; bytes: Buffer }[];
  appends: Place[];
  records: Map<string, Entry[]>;
  /** How many records the log holds. */
  count: number;
} {
  // Segment names sort in log order, and each file's records lie in log order.
  const files = owner.disk
    .syncedFiles((path) => path.endsWith('.seg'))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  const appends: Place[] = [];
  const records = new Map<string, Entry[]>();
  let count = 0;
  for (const { path, bytes } of files) {
    for (let offset = 0; offset < bytes.length; ) {
      const frame = readFrame(bytes, offset, bytes.length);
      if (!frame.ok) break;
      const record = decodeRecord(frame.payload);
      if (record !== null) {
        const conv = String(record.t === 'create' ? record.id : record.conv);
        const seq = record.t === 'append' ? record.seq : 0;
        const place = { path, offset, frame: bytes.subarray(offset, frame.end), conv, seq };
        if (record.t === 'append') appends.push(place);
        if (byConversation) {
          const list = records.get(conv);
          const entry = { record, place, index: count };
          if (list === undefined) records.set(conv, [entry]);
          else list.push(entry);
        }
        count++;
      }
      offset = frame.end;
    }
  }
  return { files, appends, records, count };
}

/**
 * `landing: 'foreign'`: for each of `forms` in turn (default the first, a number among a membership
 * change's `add`), the machine crashes, a frame of the same length that passes its CRC but holds a
 * record a correct writer never writes (foreignRecord) lands over the last record of a group's
 * conversation in the log (so nothing of it replays after: one that is a message when a group has
 * one), past what the checkpoint covers (so recovery replays it), and the machine restarts on it. With
 * `durationMs`, once that recovery has ended the operator's verify job reads every message back through
 * the store if it serves (LogStorage.scrub: agreement judges what it served), and a backup goes back
 * over a log the store refused, which then restarts; the next form lands once it serves again, and the
 * heal waits for the last (the fault held open meanwhile). A recovery that takes a form hides the
 * record it landed on (an acked message: durable-ack, no-loss), and serves what the form says: a
 * removed member, a body or cmid that is no string or a ts that is no finite number (agreement), a
 * cursor lower than its clients were told.
 */
function landForeign(context: FaultContext, owner: StoreOwner): Heal {
  const { world, spec } = context;
  const forms = spec.forms ?? ['members-add-number'];
  if (spec.durationMs === undefined) {
    // No backup to restore: the first form alone, and the store stays down if it refuses.
    owner.crash();
    plantForeign(context, owner, foreignLandings(owner, forms[0]!));
    owner.restart();
    return () => {};
  }
  let done = false;
  let release: (() => void) | null = null;
  const finish = (): void => {
    done = true;
    release?.();
  };
  const storage = owner.storage;
  /** Runs `then` once the recovery under way has ended, served or refused. */
  const recovered = (then: () => void): void => {
    if (storage.up || (storage.isRefused && !storage.isRecovering)) return then();
    world.at(world.now + recoveryPollMs, () => recovered(then));
  };
  const land = (index: number, tries = 0): void => {
    const form = forms[index];
    if (form === undefined) return finish();
    // A form needs a group whose last record lies past the checkpoint (and fits it): a recovery has
    // just written one, so wait for the traffic to log more, a while at most.
    const landings = foreignLandings(owner, form);
    if (landings.length === 0) {
      if (tries < landingTriesMax) world.at(world.now + recoveryPollMs, () => land(index, tries + 1));
      else land(index + 1);
      return;
    }
    // The crash loses only unsynced writes: the synced records the landings lie on stay.
    owner.crash();
    const landed = plantForeign(context, owner, landings);
    owner.restart();
    recovered(() =>
      storage.scrub(() => {
        if (landed !== null && storage.isRefused) {
          landed.restore();
          owner.restartIfFailed();
        }
        recovered(() => (storage.up ? land(index + 1) : finish()));
      }),
    );
  };
  land(0);
  return () => {
    if (!done) release = context.holdOpen?.() ?? null;
  };
}

/** How often the fault looks again whether a recovery under way has ended, or a form can land. */
const recoveryPollMs = 10;
/** How often a form that cannot land yet is tried again before it is left out (2 s in all). */
const landingTriesMax = 200;
/** How many records after a message make it settled: its ack long sent (a few group commits). */
const settledRecords = 32;

/** A record, where it lies, and how many records come before it in the log. */
type Entry = { record: LogRecord; place: Place; index: number };

type Landing = { place: Place; frame: Buffer };

/**
 * Where `form` can land (see landForeign): over the last replayed record of a group, one that is a
 * message when a group has one, each with the frame that lands there.
 */
function foreignLandings(owner: StoreOwner, form: ForeignRecordForm): Landing[] {
  const { records, count } = scanLog(owner, true);
  // Only what recovery replays: the records after the position the checkpoint covers.
  const covered = checkpointPosition(
    owner.disk.syncedFiles((path) => path.endsWith(`/${checkpointFileName}`)),
  );
  const from = covered === null ? '' : segmentPath(covered.dir, covered.segment);
  const replayed = (place: Place): boolean =>
    covered === null || place.path > from || (place.path === from && place.offset >= covered.offset);
  const lasts: Entry[][] = [];
  for (const list of records.values()) {
    const first = list[0]!.record;
    if (first.t === 'create' && first.kind === 'group' && replayed(list[list.length - 1]!.place))
      lasts.push(list);
  }
  // A message whose ack reached its sender before the crash, so that a recovery that takes the form
  // loses an acked message: one well before the log's end (the newest may still be unacked, and a
  // retry would put it back), when a group has one.
  const messages = lasts.filter((list) => list[list.length - 1]!.record.t === 'append');
  const settled = messages.filter((list) => list[list.length - 1]!.index < count - settledRecords);
  const landings: Landing[] = [];
  for (const list of settled.length > 0 ? settled : messages.length > 0 ? messages : lasts) {
    const target = list[list.length - 1]!;
    const model = modelOf(list.slice(0, -1).map((entry) => entry.record));
    const fresh = `${target.place.conv}~`;
    const record = records.has(fresh) ? null : foreignRecord(form, target.record, model, fresh);
    const frame = record === null ? null : foreignFrame(record, target.place.frame.length);
    if (frame !== null) landings.push({ place: target.place, frame });
  }
  return landings;
}

/** Lands `form` at one of its landings, as the seed picks; what restores the bytes, or null. */
function plantForeign(
  context: FaultContext,
  owner: StoreOwner,
  landings: Landing[],
): { restore(): void } | null {
  const order = landings.map((_, index) => index);
  for (let i = order.length - 1; i > 0; i--) {
    const j = context.rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  for (const index of order) {
    const { place, frame } = landings[index]!;
    const landed = owner.disk.landMisdirected(place.path, place.offset, frame);
    if (landed !== null) return landed;
  }
  return null;
}

/** A conversation as its records have it (the writer's rules, StoreState's): what a form is built from. */
export type ConvModel = {
  kind: string;
  lastSeq: number;
  current: Set<string>;
  /** Every user's cursors that has been a member (a removed member keeps them). */
  cursors: Map<string, { delivered: number; read: number }>;
  lastAppend: Extract<LogRecord, { t: 'append' }> | null;
};

export function modelOf(records: readonly LogRecord[]): ConvModel {
  const model: ConvModel = { kind: '', lastSeq: 0, current: new Set(), cursors: new Map(), lastAppend: null };
  const join = (user: string): void => {
    const old = model.cursors.get(user);
    model.current.add(user);
    model.cursors.set(user, {
      delivered: Math.max(old?.delivered ?? 0, model.lastSeq),
      read: Math.max(old?.read ?? 0, model.lastSeq),
    });
  };
  for (const record of records) {
    if (record.t === 'create') {
      model.kind = record.kind;
      for (const user of record.members) join(user);
    } else if (record.t === 'append') {
      model.lastSeq = record.seq;
      model.lastAppend = record;
    } else if (record.t === 'members') {
      for (const user of record.remove) model.current.delete(user);
      for (const user of record.add) if (!model.current.has(user)) join(user);
    } else {
      const cursors = model.cursors.get(record.user);
      if (cursors !== undefined) cursors[record.kind] = record.seq;
    }
  }
  return model;
}

/** Stands for a ts of 1e999 until the JSON is written (JSON.stringify writes no such number). */
const infiniteTs = '\u0000ts';

/**
 * The record of `form` (scenario-schema.ts's foreignRecordForms) to land over `target`, the last record
 * of a group whose records before it give `model`; `fresh` is an id no conversation has. Null when the
 * target has none (an append form over no message, no member, no cursor below lastSeq).
 */
export function foreignRecord(
  form: ForeignRecordForm,
  target: LogRecord,
  model: ConvModel,
  fresh: string,
): Record<string, unknown> | null {
  const conv = target.t === 'create' ? target.id : target.conv;
  const member =
    target.t === 'append' && model.current.has(target.from) ? target.from : [...model.current][0];
  if (member === undefined) return null;
  const message = target.t === 'append' ? target : null;
  const cursor = (user: string, kind: string, seq: number) => ({ t: 'cursor', conv, user, kind, seq });
  switch (form) {
    case 'members-add-number':
      return { t: 'members', conv, add: [7], remove: [member] };
    case 'members-remove-number':
      return { t: 'members', conv, add: [], remove: [member, 7] };
    case 'members-unchanged':
      return { t: 'members', conv, add: [member], remove: [] };
    case 'create-kind':
      return { t: 'create', id: fresh, kind: 'channel', members: [member] };
    case 'create-member-number':
      return { t: 'create', id: fresh, kind: 'group', members: [member, 7] };
    case 'create-id-number':
      return { t: 'create', id: 7, kind: 'group', members: [member] };
    case 'create-twice':
      return { t: 'create', id: conv, kind: model.kind, members: [member] };
    case 'cursor-kind':
      return cursor(member, 'seen', 0);
    case 'cursor-repeat':
      return cursor(member, 'read', model.cursors.get(member)?.read ?? 0);
    case 'cursor-past-end': {
      for (const user of model.current)
        for (const kind of ['read', 'delivered'] as const)
          if ((model.cursors.get(user)?.[kind] ?? 0) < model.lastSeq)
            return cursor(user, kind, model.lastSeq + 1);
      return null;
    }
    case 'append-body':
      return message && { ...message, body: 7 };
    case 'append-cmid':
      return message && { ...message, cmid: 7 };
    case 'append-ts':
      return message && { ...message, ts: infiniteTs };
    case 'append-seq-skip':
      return message && { ...message, seq: message.seq + 1 };
    case 'append-repeat': {
      const before = model.lastAppend;
      return message && before && { ...message, seq: before.seq, from: before.from, cmid: before.cmid };
    }
  }
}

/**
 * `record` as a frame of exactly `frameBytes` bytes that passes its CRC, null if it does not fit: its
 * `t` last, where the writer puts it first (so a test's deviant store can tell it), and padded with
 * spaces before its closing brace (JSON ignores them).
 */
export function foreignFrame(record: Record<string, unknown>, frameBytes: number): Buffer | null {
  const { t, ...fields } = record;
  const json = JSON.stringify({ ...fields, t }).replace(JSON.stringify(infiniteTs), '1e999');
  const bare = frameHeaderBytes + Buffer.byteLength(json);
  if (bare > frameBytes) return null;
  return encodeFrame(Buffer.from(`${json.slice(0, -1)}${' '.repeat(frameBytes - bare)}}`));
}
