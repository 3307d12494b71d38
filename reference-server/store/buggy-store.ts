// The live server's store bugs (bugs.ts), as a wrapper around any MessageStore, matching the simulated
// store's semantics (simulator/world/sim-store.ts) so a bug caught in simulation is the same bug live.
// 'ack-before-durable' is not here: only the store knows when an fdatasync covers a write, so it is a
// LogStore option (`ackBeforeDurable`); a wrapper could only fake it by answering from a model of seqs
// and idempotency that duplicates the store's own decisions. `withStoreBugs` checks it is built in.

import { randomBytes } from 'node:crypto';
import type { BugName } from '../known-bugs/bugs.ts';
import type { ConvId, Message, UserId } from '../protocol/frames.ts';
import { defaultStoreLimits } from './limits.ts';
import type {
  AppendRequest,
  AppendResult,
  ConversationRecord,
  CreateRequest,
  CreateResult,
  CursorRequest,
  CursorResult,
  MembersRequest,
  MembersResult,
  MessageStore,
  ReadRequest,
  ReadResult,
} from './message-store.ts';

/** The store bugs this wrapper carries out. */
export const wrappedStoreBugs: ReadonlySet<BugName> = new Set([
  'non-atomic-seq',
  'no-idempotency',
  'key-without-sender',
  'sync-skips',
]);

export type BuggyStoreOptions = {
  /** Entries of the 'key-without-sender' index; default `defaultStoreLimits.bugKeyIndexEntriesMax`. */
  keyIndexEntriesMax?: number;
  /** 'no-idempotency': the per-process prefix of rewritten cmids; random unless given (the simulator seeds it). */
  runId?: string;
};

/** A real cmid never holds this character (ids are [A-Za-z0-9_.:-]), so the rewrite is reversible. */
const cmidSuffixMark = '#';

type KeyEntry = { from: UserId; result: Promise<AppendResult> };

export class BuggyStore implements MessageStore {
  readonly bugs: ReadonlySet<BugName>;
  private readonly keyIndexEntriesMax: number;
  /** 'no-idempotency': a per-process prefix, so rewritten cmids stay unique across restarts. */
  private readonly runId: string;
  private appends = 0;
  /** 'key-without-sender': (conv, cmid) -> the first sender's append, insertion (= age) ordered. */
  private readonly keyIndex = new Map<string, KeyEntry>();
  /** 'non-atomic-seq': each conversation's lastSeq as of the last answer that reported one. */
  private readonly committedSeqs = new Map<ConvId, number>();

  constructor(
    private readonly inner: MessageStore,
    bugs: Iterable<BugName>,
    options: BuggyStoreOptions = {},
  ) {
    this.bugs = new Set([...bugs].filter((bug) => wrappedStoreBugs.has(bug)));
    this.keyIndexEntriesMax = options.keyIndexEntriesMax ?? defaultStoreLimits.bugKeyIndexEntriesMax;
    this.runId = options.runId ?? randomBytes(4).toString('hex');
  }

  async open(): Promise<ConversationRecord[]> {
    const records = await this.inner.open();
    for (const record of records) this.noteSeq(record.id, record.lastSeq);
    return records;
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    const key = request.conv + '\u0000' + request.cmid;
    if (this.bugs.has('key-without-sender')) {
      const earlier = this.keyIndex.get(key);
      if (earlier !== undefined && earlier.from !== request.from) {
        const original = await earlier.result.catch(() => null);
        if (original?.status === 'ok') return { ...original, duplicate: true };
      }
    }
    // 'non-atomic-seq', step one: read the seq before the write; concurrent appends read the same one.
    const seqSeen = this.committedSeqs.get(request.conv) ?? 0;
    const pending = this.inner.append(
      this.bugs.has('no-idempotency')
        ? { ...request, cmid: `${request.cmid}${cmidSuffixMark}${this.runId}.${this.appends++}` }
        : request,
    );
    if (this.bugs.has('key-without-sender') && !this.keyIndex.has(key))
      this.remember(key, request.from, pending);
    const result = await pending;
    if (result.status !== 'ok') return result;
    this.noteSeq(request.conv, result.seq);
    // Step two wrote at the store's real seq; the lie is in the answer (the ack and the push), not in
    // the log: a later sync shows the true order.
    if (this.bugs.has('non-atomic-seq') && !result.duplicate) return { ...result, seq: seqSeen + 1 };
    return result;
  }

  async read(request: ReadRequest): Promise<ReadResult> {
    const result = await this.inner.read(request);
    if (result.status !== 'ok') return result;
    let messages = result.messages;
    if (this.bugs.has('no-idempotency')) messages = messages.map(withOriginalCmid);
    // Reads of one message (the core's re-push of a duplicate) are left alone, as in the simulator.
    if (this.bugs.has('sync-skips') && request.limit > 1) messages = messages.filter((m) => m.seq % 7 !== 0);
    return messages === result.messages ? result : { ...result, messages };
  }

  async createConversation(request: CreateRequest): Promise<CreateResult> {
    const result = await this.inner.createConversation(request);
    this.noteSeq(result.conversation.id, result.conversation.lastSeq);
    return result;
  }

  changeMembers(request: MembersRequest): Promise<MembersResult> {
    return this.inner.changeMembers(request);
  }

  advanceCursor(request: CursorRequest): Promise<CursorResult> {
    return this.inner.advanceCursor(request);
  }

  conversations(ids?: readonly ConvId[]): Promise<ConversationRecord[]> {
    return this.inner.conversations(ids);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private noteSeq(conv: ConvId, seq: number): void {
    if (seq > (this.committedSeqs.get(conv) ?? 0)) this.committedSeqs.set(conv, seq);
  }

  /** The first append of a (conv, cmid) answers for every other sender's; a failed one is forgotten. */
  private remember(key: string, from: UserId, result: Promise<AppendResult>): void {
    const entry: KeyEntry = { from, result };
    this.keyIndex.set(key, entry);
    if (this.keyIndex.size > this.keyIndexEntriesMax) {
      const oldest = this.keyIndex.keys().next();
      if (!oldest.done) this.keyIndex.delete(oldest.value);
    }
    const forget = () => {
      if (this.keyIndex.get(key) === entry) this.keyIndex.delete(key);
    };
    result.then((outcome) => {
      if (outcome.status !== 'ok') forget();
    }, forget);
  }
}

function withOriginalCmid(message: Message): Message {
  const mark = message.cmid.indexOf(cmidSuffixMark);
  return mark < 0 ? message : { ...message, cmid: message.cmid.slice(0, mark) };
}

/** A store built into the bug itself says so (LogStore's `ackBeforeDurable`). */
function answersBeforeDurable(store: MessageStore): boolean {
  return (store as { ackBeforeDurable?: unknown }).ackBeforeDurable === true;
}

/**
 * `store` with the store bugs among `bugs` switched on: wrapped when any wrapper bug is named, as is
 * otherwise. Throws (a programmer error) when 'ack-before-durable' is named but not built into `store`.
 */
export function withStoreBugs(
  store: MessageStore,
  bugs: Iterable<BugName>,
  options: BuggyStoreOptions = {},
): MessageStore {
  const named = new Set(bugs);
  if (named.has('ack-before-durable') && !answersBeforeDurable(store))
    throw new Error(
      "the 'ack-before-durable' bug must be built into the store: pass a LogStore with ackBeforeDurable: true",
    );
  const wrapped = [...named].filter((bug) => wrappedStoreBugs.has(bug));
  return wrapped.length === 0 ? store : new BuggyStore(store, wrapped, options);
}
