// Judges protocol.md guarantee 7, monotonic cursors: per observing device, per conv, per member and
// per kind, the cursors a device sends and those it sees (in receipts, or its own in welcome) never go
// back, and never pass lastSeq. A welcome carries the server's lastSeq beside the cursor, so its
// cursor must not pass the event's `lastSeq`; a receipt or a sent cursor must not pass the store's
// lastSeq so far (a receipt's `lastSeq` is only what the observer had heard of, which lags behind
// for a member who just joined). Keeps the last value per key in columns, and the store's highest
// seq per conv.
// What the store holds is known from its own `durable` events in simulation; a live run has none,
// so every sign the harness got that a seq was stored counts as well: an ack (sent once durable,
// guarantee 1), a message pushed or synced to a device (`conv-frame` seqs: fan-out after durable, the
// same frames a display comes from, whether or not the device could show it yet), and a welcome's
// lastSeq (the bound its own cursors are judged by). Live churn, seed 1, loaded box: a user added to
// g1 at lastSeq 8 starts with cursors at 8, and the members were told so while seqs 7 and 8 were
// pushed but displayed by nobody yet (a device held 8 waiting for 7): "past the lastSeq 6". A sync
// answer's (`batch`) lastSeq counts as a welcome's does: live churn on the minimal server, an empty page
// with lastSeq 14 moved a device past 14 (seqs it may not read) and it sent delivered 14.
// Those signs come late, so live a receipt past them is no violation by itself: a member added at the
// store's lastSeq 13 starts with cursors at 13 and the members are told at once, while seq 13's ack is
// still on its way to a sender on the other node (a correct two-node fleet with Redis slowed, fleet
// hunt seed 22: "u2 saw u27's delivered cursor at 13 in g0, past the lastSeq 12 the store held then").
// Such a receipt is held, and proven early only by what the harness did after it: a message first sent
// after the receipt came, acked at a seq at or below the receipt's, did not exist when it was sent (the
// clocks of the generator processes agree far closer than a send's trip to the store). At the end one
// past every seq the store ever showed is past lastSeq. A run with the store's own `durable` events
// (simulation) knows the store exactly and judges every receipt at once, as before.
// At the end the harness reads each conversation's cursors (`cursor-read`, GET .../receipts): a
// member's cursor there must not be below the highest value any device saw of it (receipt or welcome,
// since the member's last membership change), bounded by the read's lastSeq. A store that lost a
// cursor move the server had already fanned out shows it there, and nowhere else. A read that got no
// answer, when there were cursors to judge, leaves the verdict unknown ("could not judge"), never pass.
// A device's own cursors set a floor there too. A cursor frame has no answer when it works, so one sent
// before the settle phase on a session that still heard the server in it reached the server (a
// connection that went dead never hears again), and was either taken or refused with an `err`: one
// refused `forbidden`/`not_found` sets no floor, and after `unavailable`/`rate_limited` the client sends
// it again, which sets the floor (one it never sent again, an app that stopped sending the
// conversation's cursors, sets none: workload.quietRacesAtMs). A server that drops a cursor it could not
// store without a word shows it here ("cursor sent, not kept by the end").

import type {
  Checker,
  CheckResult,
  FinalState,
  HistoryEvent,
  HistoryEventOf,
  HistoryKind,
} from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { float64Column, int32Column, uint8Column } from './column.ts';
import { coveredResult } from './coverage.ts';
import { SlotTable } from './slot-table.ts';
import { WitnessList } from './witness-list.ts';

export const cursorMonotonicityProperty = 'cursor-monotonicity';

type CursorSent = Extract<HistoryEvent, { k: 'cursor-sent' }>;
type CursorSeen = Extract<HistoryEvent, { k: 'cursor-seen' }>;
type CursorRead = Extract<HistoryEvent, { k: 'cursor-read' }>;
type CursorRefused = Extract<HistoryEvent, { k: 'cursor-refused' }>;
type Ack = Extract<HistoryEvent, { k: 'ack' }>;

const sourceNames = ['receipt', 'welcome'] as const;
const kindBit = (kind: 'delivered' | 'read'): number => (kind === 'read' ? 1 : 0);

/** The kinds of event this checker reads (checker-feed.ts feeds it those only). */
const kinds = [
  'durable',
  'display',
  'ack',
  'conv-frame',
  'presence-seen',
  'cursor-sent',
  'cursor-seen',
  'session',
  'session-lost',
  'phase',
  'cursor-refused',
  'members-sent',
  'cursor-read',
] as const satisfies readonly HistoryKind[];

export function createCursorMonotonicityChecker(options: CheckerOptions = {}): Checker {
  const { ids, limits } = resolveCheckerOptions(options);
  /** Per conv id: the highest seq the store is known to hold. */
  const storeLastSeq = int32Column(0);
  /** A `durable` event came: the store is known exactly (simulation), not only by the harness's news of it. */
  let storeExact = false;
  /** Live: receipts past the store's lastSeq as the harness knew it, per conv id, judged later (see above). */
  const ahead = new Map<number, CursorSeen[]>();
  let aheadCount = 0;
  let aheadHeld = 0;
  /** (device, conv * 2 + kind) -> the last cursor that device sent. */
  const sent = new SlotTable();
  const sentSeq = int32Column(-1);
  const sentAt = float64Column();
  /** (conv, member * 2 + kind) -> a cursor; (device, that) -> the last value the device saw of it. */
  const cursors = new SlotTable();
  const seen = new SlotTable();
  const seenSeq = int32Column(-1);
  const seenAt = float64Column();
  const seenSource = uint8Column();
  /** Per cursor slot: the highest value any device saw since the member's last membership change. */
  const floorSeq = int32Column(-1);
  const floorAt = float64Column();
  const floorSource = uint8Column();
  const floorDevice = int32Column(-1);
  /** Per conv id: 1 once any device saw a cursor there (a final read is owed). */
  const convFloors = uint8Column();
  /**
   * Per sent slot: the highest cursor sent before settle on the device's session number `keptSession`,
   * and when (ms, rounded: int32 columns keep a million clients' slots small).
   */
  const keptSeq = int32Column(-1);
  const keptAt = int32Column();
  const keptSession = int32Column(-1);
  /** Per sent slot: 1 from a refusal `unavailable`/`rate_limited` until the device sends that kind again. */
  const resendOwed = uint8Column();
  /** Per device: sessions so far (the current one's number), whether one is open, and 1 once it heard the server in settle. */
  const sessions = int32Column();
  const sessionOpen = uint8Column();
  const heardInSettle = uint8Column();
  let settleAt = Number.POSITIVE_INFINITY;
  const witness = new WitnessList(limits.witnessCasesMax);
  let reads = 0;
  /** Reads during the run (`askedAt`) answered. */
  let runReads = 0;
  let readCursors = 0;
  /** Own cursors (sent before settle, session heard in it) judged against the final read. */
  let ownCursors = 0;
  /** Conversations whose final cursor read got no answer, though some device saw a cursor there. */
  const unread: string[] = [];
  let observed = 0;
  let sentCount = 0;
  let seenCount = 0;

  const stored = (conv: string, seq: number): void => {
    const convId = ids.conv(conv);
    if (seq > storeLastSeq.get(convId)) storeLastSeq.set(convId, seq);
  };

  const observeSent = (event: CursorSent): void => {
    const conv = ids.conv(event.conv);
    const slot = sent.intern(ids.device(event.user, event.device), conv * 2 + kindBit(event.kind));
    const previous = sentSeq.get(slot);
    const lastSeq = storeLastSeq.get(conv);
    if (event.seq < previous) sentMovingBack(event, slot, previous);
    else if (event.seq > lastSeq) sentPastLastSeq(event, lastSeq);
    if (event.seq > previous) {
      sentSeq.set(slot, event.seq);
      sentAt.set(slot, event.at);
    }
    resendOwed.set(slot, 0);
    const device = sent.keyA(slot);
    if (event.at >= settleAt || sessionOpen.get(device) !== 1) return;
    const session = sessions.get(device);
    if (keptSession.get(slot) !== session || event.seq > keptSeq.get(slot)) {
      keptSeq.set(slot, event.seq);
      keptAt.set(slot, Math.round(event.at));
      keptSession.set(slot, session);
    }
    // A final read of this conversation is owed.
    convFloors.set(conv, 1);
  };

  /**
   * A cursor refused as not allowed was not taken: it sets no floor. One refused `unavailable` or
   * `rate_limited` moved nothing either: the floor stands only once the device sends it again.
   */
  const observeRefused = (event: CursorRefused): void => {
    const retried = event.code === 'unavailable' || event.code === 'rate_limited';
    if (!retried && event.code !== 'forbidden' && event.code !== 'not_found') return;
    const convId = ids.findConv(event.conv);
    const device = ids.findDevice(event.user, event.device);
    if (convId === undefined || device === undefined) return;
    const slot = sent.find(device, convId * 2 + kindBit(event.kind));
    if (slot < 0) return;
    if (retried) resendOwed.set(slot, 1);
    else keptSeq.set(slot, -1);
  };

  const heard = (user: string, device: string, at: number): void => {
    if (at < settleAt) return;
    const id = ids.findDevice(user, device);
    if (id !== undefined && sessionOpen.get(id) === 1) heardInSettle.set(id, 1);
  };

  const observeSeen = (event: CursorSeen): void => {
    const cursor = cursors.intern(ids.conv(event.conv), ids.user(event.of) * 2 + kindBit(event.kind));
    const slot = seen.intern(ids.device(event.user, event.device), cursor);
    const previous = seenSeq.get(slot);
    if (event.seq < previous) seenMovingBack(event, slot, previous);
    const lastSeq = event.source === 'welcome' ? event.lastSeq : storeLastSeq.get(ids.conv(event.conv));
    if (event.seq > lastSeq) {
      if (event.source === 'receipt' && !storeExact && aheadHeld < limits.receiptsAheadMax) holdAhead(event);
      else seenPastLastSeq(event, lastSeq, 'then');
    }
    if (event.seq > previous) {
      seenSeq.set(slot, event.seq);
      seenAt.set(slot, event.at);
      seenSource.set(slot, sourceNames.indexOf(event.source));
    }
    if (event.seq > floorSeq.get(cursor)) {
      floorSeq.set(cursor, event.seq);
      floorAt.set(cursor, event.at);
      floorSource.set(cursor, sourceNames.indexOf(event.source));
      floorDevice.set(cursor, seen.keyA(slot));
      convFloors.set(cursors.keyA(cursor), 1);
    }
  };

  const holdAhead = (event: CursorSeen): void => {
    const convId = ids.conv(event.conv);
    const held = ahead.get(convId);
    if (held === undefined) ahead.set(convId, [event]);
    else held.push(event);
    aheadCount++;
    aheadHeld++;
  };

  /** A message first sent after a held receipt, acked at or below its seq: that seq did not exist yet. */
  const judgeAhead = (ack: Ack): void => {
    const convId = ids.findConv(ack.conv);
    const held = convId === undefined ? undefined : ahead.get(convId);
    if (held === undefined) return;
    const kept = held.filter((receipt) => {
      if (receipt.seq < ack.seq || ack.sentAt <= receipt.at) return true;
      seenBeforeSeq(receipt, ack);
      return false;
    });
    aheadHeld -= held.length - kept.length;
    if (kept.length === 0) ahead.delete(convId!);
    else ahead.set(convId!, kept);
  };

  /** The end: a held receipt past every seq the store ever showed (the harness's signs, the final read). */
  const finishAhead = (final: FinalState): void => {
    for (const [convId, held] of ahead) {
      const conv = ids.convName(convId);
      const lastSeq = Math.max(storeLastSeq.get(convId), final.storedLastSeq(conv));
      for (const receipt of held) if (receipt.seq > lastSeq) seenPastLastSeq(receipt, lastSeq, 'ever');
    }
    ahead.clear();
  };

  /** A membership change may reset a member's cursors: what was seen before it sets no floor. */
  const membersChanged = (conv: string, users: readonly string[]): void => {
    const convId = ids.findConv(conv);
    if (convId === undefined) return;
    for (const user of users) {
      const userId = ids.findUser(user);
      if (userId === undefined) continue;
      for (const kind of [0, 1]) {
        const cursor = cursors.find(convId, userId * 2 + kind);
        if (cursor >= 0) floorSeq.set(cursor, -1);
        for (const device of ids.devicesOfUser(user)) {
          const slot = sent.find(device, convId * 2 + kind);
          if (slot >= 0) keptSeq.set(slot, -1);
        }
      }
    }
  };

  /**
   * The final read, or one during the run (`askedAt`): every cursor a device saw before such a read was
   * asked is in the store by then (a receipt is sent once the store moved it, a welcome's cursors are the
   * store's), and what one fleet node answered binds the others at once: a node that answers from its
   * own view, behind a move another node relayed, shows a cursor going back (mutant 1213 of the 74bbde3
   * seed-5 sample). A floor seen after the ask is not judged (the read may have been served before it);
   * a read during the run that got no page owes nothing (the final read is still made).
   */
  const observeRead = (event: CursorRead): void => {
    const { askedAt } = event;
    const convId = ids.findConv(event.conv);
    if (event.status !== 200 || event.members === undefined || event.lastSeq === undefined) {
      if (askedAt === undefined && convId !== undefined && convFloors.get(convId) === 1)
        unread.push(`${event.conv} (status ${event.status})`);
      return;
    }
    if (askedAt === undefined) reads++;
    else runReads++;
    if (convId === undefined) return;
    for (const member of event.members) {
      const userId = ids.findUser(member.user);
      if (userId === undefined) continue;
      for (const kind of ['delivered', 'read'] as const) {
        if (askedAt === undefined) keptByEnd(event, member, kind, convId);
        const cursor = cursors.find(convId, userId * 2 + kindBit(kind));
        if (cursor < 0 || floorSeq.get(cursor) < 0) continue;
        if (askedAt !== undefined && !(floorAt.get(cursor) < askedAt)) continue;
        readCursors++;
        const floor = Math.min(floorSeq.get(cursor), event.lastSeq);
        if (member[kind] < floor) lostAtEnd(event, member.user, kind, cursor, floor);
      }
    }
  };

  /** The member's own devices' cursors sent before settle on sessions that heard the server in it. */
  const keptByEnd = (
    event: CursorRead,
    member: { user: string; delivered: number; read: number },
    kind: 'delivered' | 'read',
    convId: number,
  ): void => {
    for (const device of ids.devicesOfUser(member.user)) {
      const slot = sent.find(device, convId * 2 + kindBit(kind));
      if (slot < 0 || keptSeq.get(slot) < 0 || resendOwed.get(slot) === 1) continue;
      if (keptSession.get(slot) !== sessions.get(device) || sessionOpen.get(device) !== 1) continue;
      if (heardInSettle.get(device) !== 1) continue;
      ownCursors++;
      const floor = Math.min(keptSeq.get(slot), event.lastSeq!);
      if (member[kind] < floor) notKept(event, member.user, kind, device, slot, member[kind]);
    }
  };

  // The witnesses apart from observeSent and observeSeen: a closure there would make every call
  // allocate a context for what it captures.
  const sentMovingBack = (event: CursorSent, slot: number, previous: number): void => {
    const earlier = {
      k: 'cursor-sent',
      at: sentAt.get(slot),
      user: event.user,
      device: event.device,
      conv: event.conv,
      kind: event.kind,
      seq: previous,
    };
    witness.add('sent cursor moving back', () => ({
      problem: `${event.user}/${event.device} sent ${event.kind} ${event.seq} for ${event.conv} after ${previous}`,
      path: [earlier, event],
    }));
  };

  const sentPastLastSeq = (event: CursorSent, lastSeq: number): void =>
    witness.add('sent cursor past lastSeq', () => ({
      problem: `${event.user}/${event.device} sent ${event.kind} ${event.seq} for ${event.conv}, whose store holds seqs up to ${lastSeq}`,
      path: [event],
    }));

  const seenMovingBack = (event: CursorSeen, slot: number, previous: number): void => {
    const earlier = {
      k: 'cursor-seen',
      at: seenAt.get(slot),
      user: event.user,
      device: event.device,
      conv: event.conv,
      of: event.of,
      kind: event.kind,
      seq: previous,
      source: sourceNames[seenSource.get(slot)],
    };
    witness.add('seen cursor moving back', () => ({
      problem: `${event.user}/${event.device} saw ${event.of}'s ${event.kind} cursor in ${event.conv} go from ${previous} back to ${event.seq}`,
      path: [earlier, event],
    }));
  };

  const seenPastLastSeq = (event: CursorSeen, lastSeq: number, when: 'then' | 'ever'): void => {
    const known =
      event.source === 'welcome'
        ? 'its welcome gave'
        : when === 'then'
          ? 'the store held then'
          : 'the store ever showed (the harness saw no higher seq, nor did the final read)';
    witness.add('seen cursor past lastSeq', () => ({
      problem: `${event.user}/${event.device} saw ${event.of}'s ${event.kind} cursor at ${event.seq} in ${event.conv}, past the lastSeq ${lastSeq} ${known}`,
      path: [event],
    }));
  };

  const seenBeforeSeq = (event: CursorSeen, ack: Ack): void =>
    witness.add('seen cursor past lastSeq', () => ({
      problem: `${event.user}/${event.device} saw ${event.of}'s ${event.kind} cursor at ${event.seq} in ${event.conv} (t=${event.at}) before seq ${ack.seq} existed: ${ack.user}/${ack.device} first sent that message at t=${ack.sentAt}`,
      path: [event, ack],
    }));

  const notKept = (
    event: CursorRead,
    user: string,
    kind: 'delivered' | 'read',
    device: number,
    slot: number,
    found: number,
  ): void => {
    const name = ids.deviceName(device);
    const sentEvent = {
      k: 'cursor-sent',
      at: keptAt.get(slot),
      ...name,
      conv: event.conv,
      kind,
      seq: keptSeq.get(slot),
    };
    witness.add('cursor sent, not kept by the end', () => ({
      problem: `${name.user}/${name.device} sent ${user}'s ${kind} cursor in ${event.conv} at ${sentEvent.seq} (t=${sentEvent.at}) on a session that heard the server in the settle phase, and no refusal came; the final read (as ${event.user}, lastSeq ${event.lastSeq}) shows ${found}`,
      path: [sentEvent, event],
    }));
  };

  const lostAtEnd = (
    event: CursorRead,
    user: string,
    kind: 'delivered' | 'read',
    cursor: number,
    floor: number,
  ): void => {
    const device = floorDevice.get(cursor);
    const observer = device >= 0 ? ids.deviceName(device) : { user: '?', device: '?' };
    const shown = {
      k: 'cursor-seen',
      at: floorAt.get(cursor),
      ...observer,
      conv: event.conv,
      of: user,
      kind,
      seq: floorSeq.get(cursor),
      source: sourceNames[floorSource.get(cursor)],
    };
    const found = event.members?.find((member) => member.user === user)?.[kind];
    const during = event.askedAt !== undefined;
    witness.add(during ? 'cursor read behind what was seen' : 'cursor lost by the end', () => ({
      problem: `${observer.user}/${observer.device} saw ${user}'s ${kind} cursor in ${event.conv} at ${shown.seq} (${shown.source}, t=${shown.at}); the ${during ? `read asked at ${event.askedAt}` : 'final read'} (as ${event.user}, lastSeq ${event.lastSeq}) shows ${found}, below ${floor}`,
      path: [shown, event],
    }));
  };

  const observe = (event: HistoryEventOf<(typeof kinds)[number]>): void => {
    switch (event.k) {
      case 'durable':
        storeExact = true;
        return stored(event.message.conv, event.message.seq);
      case 'display':
        return stored(event.message.conv, event.message.seq);
      case 'ack':
        if (aheadHeld > 0) judgeAhead(event);
        return stored(event.conv, event.seq);
      case 'conv-frame':
        heard(event.user, event.device, event.at);
        if ((event.t === 'msg' || event.t === 'batch') && event.seqs !== undefined)
          for (const seq of event.seqs) stored(event.conv, seq);
        // A sync answer's lastSeq is the store's, as a welcome's is: a page with nothing the device may
        // read moves its app past that lastSeq, and its delivered cursor follows.
        if (event.t === 'batch' && event.lastSeq !== undefined) stored(event.conv, event.lastSeq);
        return;
      case 'presence-seen':
        return heard(event.user, event.device, event.at);
      case 'cursor-sent':
        observed++;
        sentCount++;
        return observeSent(event);
      case 'cursor-seen':
        observed++;
        seenCount++;
        heard(event.user, event.device, event.at);
        observeSeen(event);
        if (event.source === 'welcome') stored(event.conv, event.lastSeq);
        return;
      case 'session':
      case 'session-lost': {
        const device = ids.device(event.user, event.device);
        if (event.k === 'session') sessions.set(device, sessions.get(device) + 1);
        sessionOpen.set(device, event.k === 'session' ? 1 : 0);
        heardInSettle.set(device, 0);
        return;
      }
      case 'phase':
        if (event.phase === 'settle') settleAt = event.at;
        return;
      case 'cursor-refused':
        return observeRefused(event);
      case 'members-sent':
        membersChanged(event.conv, event.add);
        return membersChanged(event.conv, event.remove);
      case 'cursor-read':
        return observeRead(event);
    }
  };

  return {
    property: cursorMonotonicityProperty,
    kinds,
    violationsSoFar: () => witness.count,
    observe,
    finish(final: FinalState): CheckResult {
      finishAhead(final);
      const aheadDetails =
        aheadCount === 0
          ? ''
          : `; ${aheadCount} receipts came before the harness heard the store held their seq, judged by later sends and the end`;
      const details = `${observed} cursor events on ${sent.size} sent and ${seen.size} seen cursors; final cursor reads: ${reads} answered${runReads > 0 ? ` (and ${runReads} during the run)` : ''}, ${readCursors} cursors judged against what devices saw, ${ownCursors} against what they sent${aheadDetails}`;
      if (witness.count === 0 && unread.length > 0)
        return {
          property: cursorMonotonicityProperty,
          verdict: 'unknown',
          details: `could not judge: the final cursor read got no answer for ${unread.length} conversations where devices saw cursors (${unread.slice(0, 3).join(', ')}); ${details}`,
          witness: [],
        };
      return coveredResult(witness, cursorMonotonicityProperty, details, {
        judged: seenCount,
        judgedWhat: 'cursors seen (receipts, welcome)',
        done: sentCount,
        doneWhat: 'cursors sent',
      });
    },
  };
}
