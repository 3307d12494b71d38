// Builds a FinalState from plain data, for checker tests and for replaying a recorded run: the store's
// messages, who was a member when, who is online, and whether the run settled.

import type { Message } from '../../reference-server/protocol/frames.ts';
import type { MembershipSpan } from '../../reference-server/store/message-store.ts';
import type { DeviceRef, FinalState } from '../history.ts';

export type FinalStateData = {
  at?: number;
  devices?: DeviceRef[];
  /** conv -> user -> spans (`to: null` while still a member). */
  membership?: Record<string, Record<string, MembershipSpan[]>>;
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
  const membership = new Map<string, ReadonlyMap<string, readonly MembershipSpan[]>>();
  for (const [conv, users] of Object.entries(data.membership ?? {})) {
    membership.set(conv, new Map(Object.entries(users)));
  }
  const convs = new Set([...membership.keys(), ...stored.keys(), ...Object.keys(data.lastSeq ?? {})]);
  const online = new Set(data.online ?? []);
  return {
    at,
    devices: data.devices ?? [],
    membership: (conv) => membership.get(conv) ?? new Map(),
    conversations: () => convs,
    storedMessage: (conv, seq) => stored.get(conv)?.get(seq),
    storedLastSeq: (conv) => data.lastSeq?.[conv] ?? Math.max(0, ...(stored.get(conv)?.keys() ?? [])),
    online: (user) => online.has(user),
    settledAt: data.settledAt === undefined ? at : data.settledAt,
  };
}

/** Membership of users who were in the conversation from its creation and never left. */
export function membersFromStart(...users: string[]): Record<string, MembershipSpan[]> {
  return Object.fromEntries(users.map((user) => [user, [{ from: 1, to: null }]]));
}
