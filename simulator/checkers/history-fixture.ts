// Short constructors for history events, so checker tests read as the story of a run rather than as
// object literals. Defaults derive every field from (conv, seq, from) so two calls agree unless told not to.

import type { Message } from '../../reference-server/protocol/frames.ts';
import type { DeviceRef, HistoryEvent, HistoryEventOf, Via } from '../history.ts';

export function message(conv: string, seq: number, from: string, fields: Partial<Message> = {}): Message {
  return {
    conv,
    seq,
    from,
    cmid: `${from}-${conv}-${seq}`,
    body: `body ${conv}#${seq}`,
    ts: seq * 10,
    ...fields,
  };
}

export function device(user: string, device = 'd1'): DeviceRef {
  return { user, device };
}

/** An ack's fields but its kind: `m`'s key, seq and ts, to `by` at `at`. */
const acked = (at: number, by: DeviceRef, m: Message) => ({
  at,
  ...by,
  conv: m.conv,
  cmid: m.cmid,
  seq: m.seq,
  ts: m.ts,
});

export const history = {
  /** `by` got a welcome (a first session, 1 ms to connect). */
  session: (at: number, by: DeviceRef): HistoryEvent => ({
    k: 'session',
    at,
    connectMs: 1,
    first: true,
    ...by,
  }),
  conv: (at: number, conv: string, members: string[], kind: 'direct' | 'group' = 'group'): HistoryEvent => ({
    k: 'conv',
    at,
    conv,
    kind,
    members,
  }),
  membersSent: (
    at: number,
    id: number,
    conv: string,
    change: { add?: string[]; remove?: string[] },
  ): HistoryEvent => ({
    k: 'members-sent',
    at,
    id,
    conv,
    add: change.add ?? [],
    remove: change.remove ?? [],
  }),
  membersAnswered: (at: number, id: number, status = 200, lastSeq?: number): HistoryEvent =>
    lastSeq === undefined
      ? { k: 'members-answered', at, id, status }
      : { k: 'members-answered', at, id, status, lastSeq },
  send: (at: number, by: DeviceRef, m: Message): HistoryEvent => ({
    k: 'send',
    at,
    ...by,
    conv: m.conv,
    cmid: m.cmid,
    body: m.body,
  }),
  /** `sentAt` defaults to `at` (a send acked at once). */
  ack: (at: number, by: DeviceRef, m: Message, sentAt = at): HistoryEvent => ({
    k: 'ack',
    ...acked(at, by, m),
    sentAt,
  }),
  /** `m` made again at `resentAt` and acked as `m` (seq and ts); `first` is what the first ack said (default: m's). */
  resentAck: (
    at: number,
    by: DeviceRef,
    m: Message,
    first = { seq: m.seq, ts: m.ts },
    resentAt = at,
  ): HistoryEvent => ({ k: 'resent-ack', ...acked(at, by, m), resentAt, first }),
  /** `m` (acked before as `first`) made again at `resentAt` and answered with an err `code`. */
  resentErr: (
    at: number,
    by: DeviceRef,
    m: Message,
    code: string,
    first = { seq: m.seq, ts: m.ts },
    resentAt = at,
  ): HistoryEvent => ({ k: 'resent-err', at, ...by, conv: m.conv, cmid: m.cmid, code, resentAt, first }),
  durable: (at: number, m: Message): HistoryEvent => ({ k: 'durable', at, message: m }),
  display: (at: number, on: DeviceRef, m: Message, via: Via = 'push'): HistoryEvent => ({
    k: 'display',
    at,
    via,
    ...on,
    message: m,
  }),
  cursorSent: (
    at: number,
    by: DeviceRef,
    conv: string,
    kind: 'delivered' | 'read',
    seq: number,
  ): HistoryEvent => ({
    k: 'cursor-sent',
    at,
    ...by,
    conv,
    kind,
    seq,
  }),
  cursorRefused: (
    at: number,
    by: DeviceRef,
    conv: string,
    kind: 'delivered' | 'read',
    code: string,
  ): HistoryEvent => ({
    k: 'cursor-refused',
    at,
    ...by,
    conv,
    kind,
    code,
  }),
  /** `by`'s `sync` or `typing` about conv was refused with `code`. */
  refused: (at: number, by: DeviceRef, conv: string, ref: 'sync' | 'typing', code: string): HistoryEvent => ({
    k: 'refused',
    at,
    ...by,
    conv,
    ref,
    code,
  }),
  /** `sentAt` (when the send was first issued) defaults to `at`. */
  failed: (
    at: number,
    by: DeviceRef,
    conv: string,
    cmid: string,
    code: string,
    sentAt = at,
  ): HistoryEvent => ({
    k: 'failed',
    at,
    ...by,
    conv,
    cmid,
    code,
    sentAt,
  }),
  typingSent: (at: number, by: DeviceRef, conv: string, on = true): HistoryEvent => ({
    k: 'typing-sent',
    at,
    ...by,
    conv,
    on,
  }),
  syncSent: (at: number, by: DeviceRef, conv: string, after: number): HistoryEvent => ({
    k: 'sync-sent',
    at,
    ...by,
    conv,
    after,
  }),
  cursorSeen: (
    at: number,
    by: DeviceRef,
    seen: { conv: string; of: string; kind: 'delivered' | 'read'; seq: number; lastSeq: number },
    source: 'receipt' | 'welcome' = 'receipt',
  ): HistoryEvent => ({ k: 'cursor-seen', at, ...by, ...seen, source }),
  convFrame: (at: number, to: DeviceRef, conv: string, t: string, seqs?: number[]): HistoryEvent =>
    seqs === undefined
      ? { k: 'conv-frame', at, ...to, conv, t }
      : { k: 'conv-frame', at, ...to, conv, t, seqs },
  /** A server `typing` frame seen by `to`, saying `of` is typing. */
  typingFrame: (at: number, to: DeviceRef, conv: string, of: string): HistoryEvent => ({
    k: 'conv-frame',
    at,
    ...to,
    conv,
    t: 'typing',
    of,
  }),
  attempt: (at: number, by: DeviceRef, id: number, action: string, conv: string): HistoryEvent => ({
    k: 'attempt',
    at,
    ...by,
    id,
    action,
    conv,
  }),
  outcome: (at: number, id: number, result: string): HistoryEvent => ({ k: 'outcome', at, id, result }),
  watchSent: (at: number, by: DeviceRef, users: string[]): HistoryEvent => ({
    k: 'watch-sent',
    at,
    ...by,
    users,
  }),
  presence: (at: number, seenBy: DeviceRef, of: string, online: boolean, lastSeen = 0): HistoryEvent => ({
    k: 'presence-seen',
    at,
    ...seenBy,
    of,
    online,
    lastSeen,
  }),
  /** `node` cut from the bus alone (a partition of target bus) from a `start` to its `heal`. */
  busCut: (at: number, phase: 'start' | 'heal', node: string): HistoryEventOf<'fault'> => ({
    k: 'fault',
    at,
    type: 'partition',
    phase,
    nodes: [node],
    busOnly: true,
    target: 'bus',
  }),
  phase: (at: number, phase: 'warmup' | 'faults' | 'heal' | 'settle' | 'final'): HistoryEvent => ({
    k: 'phase',
    at,
    phase,
  }),
};
