// The live run's "final read": what a black box exposes after settle, read through protocol.md's HTTP
// API only. Each conversation's messages are read by its members (a member reads what it may read:
// a later joiner from its join on, a removed member up to its removal), reader after reader until
// 1..lastSeq is covered or no member is left to ask. The result stands where the simulator reads its
// store's truth: durable-ack, agreement, no-loss and gap-free-store judge against it. It goes to disk as
// it is read (spilled-store.ts), so the driver's memory does not grow with the run's messages.

import type { Message } from '../../reference-server/protocol/frames.ts';
import type { CursorReadMember, HistoryEvent } from '../history.ts';
import type { AdminApi } from './admin-api.ts';
import type { TokenCache } from './hs256.ts';
import { liveLimits } from './limits.ts';
import { SpilledStore } from './spilled-store.ts';

/** Where a conversation's read goes: what it has so far, and each message it is handed. */
export type ConversationSink = {
  lastSeq: number;
  reads: number;
  has(seq: number): boolean;
  put(message: Message): void;
};

/** A sink that keeps the messages in memory (a read during the run, handed to the checkers at once). */
export function memorySink(): ConversationSink & { messages: Map<number, Message> } {
  const messages = new Map<number, Message>();
  return {
    lastSeq: 0,
    reads: 0,
    messages,
    has: (seq) => messages.has(seq),
    put: (message) => {
      if (!messages.has(message.seq)) messages.set(message.seq, message);
    },
  };
}

export type FinalRead = {
  /** The messages read, on disk (spilled-store.ts); the caller closes it. */
  store: SpilledStore;
  requests: number;
  /** Conversations none of whose members could read every seq up to lastSeq (or was answered at all). */
  uncovered: string[];
};

/**
 * `readers`: conv -> every user who was ever a member, in the order they joined. Conversations are read
 * a few at a time (liveLimits.httpConcurrency), each into the store as it comes, so the driver holds
 * the pages in flight, not the run's messages.
 */
export async function finalRead(
  api: AdminApi,
  tokens: TokenCache,
  readers: ReadonlyMap<string, readonly string[]>,
): Promise<FinalRead> {
  const store = new SpilledStore();
  let requests = 0;
  const uncovered: string[] = [];
  const targets = [...readers];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const [conv, users] = targets[next++]!;
      const sink = store.conversation(conv);
      let answered = false;
      try {
        answered = await readConversation(api, tokens, conv, users, sink, 1, Number.POSITIVE_INFINITY);
      } finally {
        requests += sink.reads;
      }
      sink.done();
      if (!answered || firstMissing(sink, 1) <= sink.lastSeq) uncovered.push(conv);
    }
  };
  try {
    await Promise.all(Array.from({ length: liveLimits.httpConcurrency }, worker));
  } catch (error) {
    store.close();
    throw error;
  }
  return { store, requests, uncovered };
}

/**
 * Reads `conv`'s seqs from `from` up to `upTo` (or its lastSeq, if lower) into `stored`, member after
 * member until they are covered or no member is left to ask. A page refused (a member who may not read
 * there) passes to the next member; a request that fails throws. Returns whether any member was
 * answered (until then the conversation's lastSeq is unknown, not 0).
 */
export async function readConversation(
  api: AdminApi,
  tokens: TokenCache,
  conv: string,
  users: readonly string[],
  stored: ConversationSink,
  from: number,
  upTo: number,
): Promise<boolean> {
  let answered = false;
  for (const user of users) {
    let after = firstMissing(stored, from) - 1;
    for (;;) {
      const page = await api.readMessages(conv, tokens.of(user), after, liveLimits.readPageLimit);
      stored.reads++;
      if (page.status !== 200) break;
      answered = true;
      if (page.lastSeq > stored.lastSeq) stored.lastSeq = page.lastSeq;
      for (const message of page.messages)
        if (message.seq <= upTo && !stored.has(message.seq)) stored.put(message);
      const last = page.messages[page.messages.length - 1];
      if (last === undefined || last.seq >= Math.min(upTo, page.lastSeq) || last.seq <= after) break;
      after = last.seq;
    }
    if (answered && firstMissing(stored, from) > Math.min(upTo, stored.lastSeq)) break;
  }
  return answered;
}

function firstMissing(stored: ConversationSink, from: number): number {
  let seq = from;
  while (stored.has(seq)) seq++;
  return seq;
}

/**
 * The final cursor read: each conversation's `GET .../receipts`, as a current member (`members`: conv ->
 * its current members by the harness's own record; a refused or failed read passes to the next, up to
 * three), recorded as a `cursor-read` event for cursor-monotonicity (status 0: no answer). Returns the
 * number of requests made.
 */
export async function finalCursorRead(
  api: AdminApi,
  tokens: TokenCache,
  members: ReadonlyMap<string, readonly string[]>,
  record: (event: HistoryEvent) => void,
  now: () => number,
): Promise<number> {
  let requests = 0;
  await Promise.all(
    [...members].map(async ([conv, users]) => {
      const readers = users.slice(0, 3);
      if (readers.length === 0) return;
      let last: Extract<HistoryEvent, { k: 'cursor-read' }> = {
        k: 'cursor-read',
        at: now(),
        conv,
        user: readers[0]!,
        status: 0,
      };
      for (const user of readers) {
        requests++;
        const answer = await api.receipts(conv, tokens.of(user)).catch(() => ({ status: 0, body: null }));
        last = { k: 'cursor-read', at: now(), conv, user, ...cursorsOf(answer.status, answer.body) };
        if (last.status === 200) break;
      }
      record(last);
    }),
  );
  return requests;
}

/** A 200 whose body is not the protocol's shape counts as a failed read (502), not as cursors. */
export function cursorsOf(
  status: number,
  body: unknown,
): { status: number; lastSeq?: number; members?: CursorReadMember[] } {
  if (status !== 200) return { status };
  const { lastSeq, members } = (body ?? {}) as { lastSeq?: unknown; members?: unknown };
  if (typeof lastSeq !== 'number' || !Array.isArray(members)) return { status: 502 };
  const valid = members.every(
    (m: { user?: unknown; delivered?: unknown; read?: unknown }) =>
      typeof m?.user === 'string' && typeof m.delivered === 'number' && typeof m.read === 'number',
  );
  if (!valid) return { status: 502 };
  return {
    status,
    lastSeq,
    members: (members as CursorReadMember[]).map(({ user, delivered, read }) => ({ user, delivered, read })),
  };
}
