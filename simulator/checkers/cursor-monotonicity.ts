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
// pushed but displayed by nobody yet (a device held 8 waiting for 7): "past the lastSeq 6".

import type { Checker, CheckResult, FinalState, HistoryEvent } from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { float64Column, int32Column, uint8Column } from './column.ts';
import { coveredResult } from './coverage.ts';
import { SlotTable } from './slot-table.ts';
import { WitnessList } from './witness-list.ts';

export const cursorMonotonicityProperty = 'cursor-monotonicity';

type CursorSent = Extract<HistoryEvent, { k: 'cursor-sent' }>;
type CursorSeen = Extract<HistoryEvent, { k: 'cursor-seen' }>;

const sourceNames = ['receipt', 'welcome'] as const;
const kindBit = (kind: 'delivered' | 'read'): number => (kind === 'read' ? 1 : 0);

export function createCursorMonotonicityChecker(options: CheckerOptions = {}): Checker {
  const { ids, limits } = resolveCheckerOptions(options);
  /** Per conv id: the highest seq the store is known to hold. */
  const storeLastSeq = int32Column(0);
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
  const witness = new WitnessList(limits.witnessCasesMax);
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
  };

  const observeSeen = (event: CursorSeen): void => {
    const cursor = cursors.intern(ids.conv(event.conv), ids.user(event.of) * 2 + kindBit(event.kind));
    const slot = seen.intern(ids.device(event.user, event.device), cursor);
    const previous = seenSeq.get(slot);
    if (event.seq < previous) seenMovingBack(event, slot, previous);
    const lastSeq = event.source === 'welcome' ? event.lastSeq : storeLastSeq.get(ids.conv(event.conv));
    if (event.seq > lastSeq) seenPastLastSeq(event, lastSeq);
    if (event.seq > previous) {
      seenSeq.set(slot, event.seq);
      seenAt.set(slot, event.at);
      seenSource.set(slot, sourceNames.indexOf(event.source));
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

  const seenPastLastSeq = (event: CursorSeen, lastSeq: number): void => {
    const known = event.source === 'welcome' ? 'its welcome gave' : 'the store held then';
    witness.add('seen cursor past lastSeq', () => ({
      problem: `${event.user}/${event.device} saw ${event.of}'s ${event.kind} cursor at ${event.seq} in ${event.conv}, past the lastSeq ${lastSeq} ${known}`,
      path: [event],
    }));
  };

  const observe = (event: HistoryEvent): void => {
    switch (event.k) {
      case 'durable':
      case 'display':
        return stored(event.message.conv, event.message.seq);
      case 'ack':
        return stored(event.conv, event.seq);
      case 'conv-frame':
        if ((event.t === 'msg' || event.t === 'batch') && event.seqs !== undefined)
          for (const seq of event.seqs) stored(event.conv, seq);
        return;
      case 'cursor-sent':
        observed++;
        sentCount++;
        return observeSent(event);
      case 'cursor-seen':
        observed++;
        seenCount++;
        observeSeen(event);
        if (event.source === 'welcome') stored(event.conv, event.lastSeq);
        return;
    }
  };

  return {
    property: cursorMonotonicityProperty,
    violationsSoFar: () => witness.count,
    observe,
    finish(_final: FinalState): CheckResult {
      return coveredResult(
        witness,
        cursorMonotonicityProperty,
        `${observed} cursor events on ${sent.size} sent and ${seen.size} seen cursors`,
        {
          judged: seenCount,
          judgedWhat: 'cursors seen (receipts, welcome)',
          done: sentCount,
          doneWhat: 'cursors sent',
        },
      );
    },
  };
}
