// Builds a FinalState from plain data, for checker tests and for replaying a recorded run: the final
// read's messages, who is online, and whether the run settled. Membership is not here: checkers take it
// from the history's `conv` and `members-*` events.

import type { Message } from '../../reference-server/protocol/frames.ts';
import type { DeviceRef, FinalState } from '../history.ts';
import { encodeStored, StoredColumns, storedTransfer } from '../stored-columns.ts';

export type FinalStateData = {
  at?: number;
  devices?: DeviceRef[];
  /** The conversations the harness created, besides those holding messages. */
  conversations?: string[];
  /** The store's messages after the run. */
  messages?: Message[];
  /** conv -> lastSeq, where it differs from the highest stored seq (a store that lost its tail). */
  lastSeq?: Record<string, number>;
  /** Users with a live connection at the end. */
  online?: string[];
  /** Defaults to `at` (the run settled); pass null for a run that did not. */
  settledAt?: number | null;
};

export function finalStateFixture(data: FinalStateData = {}): FinalState {
  const at = data.at ?? 1_000_000;
  const stored = new Map<string, Map<number, Message>>();
  for (const message of data.messages ?? []) {
    const conv = stored.get(message.conv) ?? new Map<number, Message>();
    conv.set(message.seq, message);
    stored.set(message.conv, conv);
  }
  const convs = new Set([
    ...(data.conversations ?? []),
    ...stored.keys(),
    ...Object.keys(data.lastSeq ?? {}),
  ]);
  const online = new Set(data.online ?? []);
  return {
    at,
    devices: data.devices ?? [],
    conversations: () => convs,
    storedMessage: (conv, seq) => stored.get(conv)?.get(seq),
    storedLastSeq: (conv) => data.lastSeq?.[conv] ?? Math.max(0, ...(stored.get(conv)?.keys() ?? [])),
    online: (user) => online.has(user),
    settledAt: data.settledAt === undefined ? at : data.settledAt,
  };
}

/**
 * The same final state as the checker thread reads it: the store's content through its columns
 * (stored-columns.ts), cloned as they cross, with each message's digest made as its part arrives.
 */
export function finalStateOverColumns(data: FinalStateData = {}): FinalState {
  const final = finalStateFixture(data);
  const convs = [...final.conversations()];
  const part = encodeStored(convs, {
    lastSeq: (conv) => final.storedLastSeq(conv),
    messageAt: (conv, seq) => final.storedMessage(conv, seq),
  });
  const columns = new StoredColumns();
  columns.add(structuredClone(part, { transfer: storedTransfer(part) }));
  return {
    ...final,
    storedMessage: (conv, seq) => columns.message(conv, seq),
    storedLastSeq: (conv) => columns.lastSeq(conv),
    storedDigest: (conv, seq) => columns.digest(conv, seq),
  };
}
