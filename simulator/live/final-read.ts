// The live run's "final read": what a black box exposes after settle, read through protocol.md's HTTP
// API only. Each conversation's messages are read by its members (a member reads what it may read:
// a later joiner from its join on, a removed member up to its removal), reader after reader until
// 1..lastSeq is covered or no member is left to ask. The result stands where the simulator reads its
// store's truth: durable-ack, agreement, no-loss and gap-free-store judge against it.

import type { Message } from '../../reference-server/protocol/frames.ts';
import type { AdminApi } from './admin-api.ts';
import type { TokenCache } from './hs256.ts';
import { liveLimits } from './limits.ts';

export type StoredConversation = { lastSeq: number; messages: Map<number, Message>; reads: number };

export type FinalRead = {
  conversations: Map<string, StoredConversation>;
  requests: number;
  /** Conversations none of whose members could read every seq up to lastSeq. */
  uncovered: string[];
};

/** `readers`: conv -> every user who was ever a member, in the order they joined. */
export async function finalRead(
  api: AdminApi,
  tokens: TokenCache,
  readers: ReadonlyMap<string, readonly string[]>,
): Promise<FinalRead> {
  const conversations = new Map<string, StoredConversation>();
  let requests = 0;
  const uncovered: string[] = [];
  await Promise.all(
    [...readers].map(async ([conv, users]) => {
      const stored: StoredConversation = { lastSeq: 0, messages: new Map(), reads: 0 };
      conversations.set(conv, stored);
      await readConversation(api, tokens, conv, users, stored, 1, Number.POSITIVE_INFINITY);
      requests += stored.reads;
      if (firstMissing(stored, 1) <= stored.lastSeq) uncovered.push(conv);
    }),
  );
  return { conversations, requests, uncovered };
}

/**
 * Reads `conv`'s seqs from `from` up to `upTo` (or its lastSeq, if lower) into `stored`, member after
 * member until they are covered or no member is left to ask. A page refused (a member who may not read
 * there) passes to the next member; a request that fails throws.
 */
export async function readConversation(
  api: AdminApi,
  tokens: TokenCache,
  conv: string,
  users: readonly string[],
  stored: StoredConversation,
  from: number,
  upTo: number,
): Promise<void> {
  for (const user of users) {
    let after = firstMissing(stored, from) - 1;
    for (;;) {
      const page = await api.readMessages(conv, tokens.of(user), after, liveLimits.readPageLimit);
      stored.reads++;
      if (page.status !== 200) break;
      if (page.lastSeq > stored.lastSeq) stored.lastSeq = page.lastSeq;
      for (const message of page.messages)
        if (message.seq <= upTo && !stored.messages.has(message.seq))
          stored.messages.set(message.seq, message);
      const last = page.messages[page.messages.length - 1];
      if (last === undefined || last.seq >= Math.min(upTo, page.lastSeq) || last.seq <= after) break;
      after = last.seq;
    }
    if (firstMissing(stored, from) > Math.min(upTo, stored.lastSeq)) break;
  }
}

function firstMissing(stored: StoredConversation, from: number): number {
  let seq = from;
  while (stored.messages.has(seq)) seq++;
  return seq;
}
