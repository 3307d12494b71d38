// The minimal server's whole state: conversations, their messages, members and cursors. It changes only
// through `apply(record)`, with the records the journal stores, so replaying the journal rebuilds it
// exactly. Readability follows protocol.md guarantee 6: each user has spans of seqs it may read, opened
// when it joins and closed at the last seq sequenced before it leaves.

import { isId, isSeqOrZero } from './frames.ts';

export type Message = { conv: string; seq: number; from: string; cmid: string; body: string; ts: number };
export type CursorKind = 'delivered' | 'read';
export type Cursors = { delivered: number; read: number };

export type JournalRecord =
  | { k: 'conv'; id: string; kind: 'direct' | 'group'; members: string[] }
  | { k: 'members'; conv: string; add: string[]; remove: string[] }
  | ({ k: 'msg' } & Message)
  | { k: 'cursor'; conv: string; user: string; kind: CursorKind; seq: number };

/** Seqs `from`..`to` (inclusive); `to` is Infinity while the membership lasts. */
type Span = { from: number; to: number };

export class Conversation {
  readonly messages: Message[] = [];
  readonly members = new Set<string>();
  private readonly spans = new Map<string, Span[]>();
  private readonly cursors = new Map<string, Cursors>();
  private readonly seqByKey = new Map<string, number>();

  constructor(
    readonly id: string,
    readonly kind: 'direct' | 'group',
  ) {}

  get lastSeq(): number {
    return this.messages.length;
  }

  /** The seq already given to (from, cmid), if any: the idempotency key's one message. */
  seqOf(from: string, cmid: string): number | undefined {
    return this.seqByKey.get(`${from}\n${cmid}`);
  }

  /** Whether `user` was ever a member (so may read at least its own spans). */
  mayRead(user: string): boolean {
    return this.spans.has(user);
  }

  cursorsOf(user: string): Cursors {
    return this.cursors.get(user) ?? { delivered: 0, read: 0 };
  }

  /** Up to `limit` messages `user` may read after `after`, and whether more readable ones follow. */
  readable(user: string, after: number, limit: number): { msgs: Message[]; more: boolean } {
    const msgs: Message[] = [];
    for (const span of this.spans.get(user) ?? []) {
      const last = Math.min(span.to, this.lastSeq);
      for (let seq = Math.max(span.from, after + 1); seq <= last; seq++) {
        if (msgs.length === limit) return { msgs, more: true };
        msgs.push(this.messages[seq - 1]!);
      }
    }
    return { msgs, more: false };
  }

  join(user: string): void {
    if (this.members.has(user)) return;
    this.members.add(user);
    const spans = this.spans.get(user) ?? [];
    spans.push({ from: this.lastSeq + 1, to: Number.POSITIVE_INFINITY });
    this.spans.set(user, spans);
  }

  leave(user: string): void {
    if (!this.members.delete(user)) return;
    const spans = this.spans.get(user)!;
    const span = spans.at(-1)!;
    span.to = this.lastSeq;
    if (span.to < span.from) spans.pop();
  }

  append(message: Message): void {
    this.messages.push(message);
    this.seqByKey.set(`${message.from}\n${message.cmid}`, message.seq);
  }

  moveCursor(user: string, kind: CursorKind, seq: number): void {
    const cursors = { ...this.cursorsOf(user) };
    cursors[kind] = seq;
    this.cursors.set(user, cursors);
  }
}

export class ChatState {
  readonly conversations = new Map<string, Conversation>();
  /** Current memberships, user → conversation ids, for `welcome`. */
  private readonly convsOf = new Map<string, Set<string>>();

  get(conv: string): Conversation | undefined {
    return this.conversations.get(conv);
  }

  currentConvs(user: string): Conversation[] {
    return [...(this.convsOf.get(user) ?? [])].map((id) => this.conversations.get(id)!);
  }

  /** Applies one record; throws if it does not fit the state (only a damaged journal does that). */
  apply(record: JournalRecord): void {
    switch (record.k) {
      case 'conv': {
        if (this.conversations.has(record.id)) throw new Error(`conversation ${record.id} created twice`);
        const conv = new Conversation(record.id, record.kind);
        this.conversations.set(record.id, conv);
        for (const user of record.members) this.join(conv, user);
        return;
      }
      case 'members': {
        const conv = this.mustGet(record.conv);
        for (const user of record.remove) this.leave(conv, user);
        for (const user of record.add) this.join(conv, user);
        return;
      }
      case 'msg': {
        const conv = this.mustGet(record.conv);
        if (record.seq !== conv.lastSeq + 1)
          throw new Error(`${record.conv}: seq ${record.seq} after ${conv.lastSeq}`);
        const { k: _, ...message } = record;
        conv.append(message);
        return;
      }
      case 'cursor':
        this.mustGet(record.conv).moveCursor(record.user, record.kind, record.seq);
        return;
    }
  }

  private join(conv: Conversation, user: string): void {
    conv.join(user);
    let convs = this.convsOf.get(user);
    if (!convs) {
      convs = new Set();
      this.convsOf.set(user, convs);
    }
    convs.add(conv.id);
  }

  private leave(conv: Conversation, user: string): void {
    conv.leave(user);
    this.convsOf.get(user)?.delete(conv.id);
  }

  private mustGet(id: string): Conversation {
    const conv = this.conversations.get(id);
    if (!conv) throw new Error(`conversation ${id} does not exist`);
    return conv;
  }
}

/** A replayed journal line as a record, or an error naming what is wrong with it. */
export function asRecord(value: unknown): JournalRecord {
  const r = value as Record<string, unknown>;
  const ids = (v: unknown) => Array.isArray(v) && v.every(isId);
  const ok =
    typeof r === 'object' &&
    r !== null &&
    ((r.k === 'conv' && isId(r.id) && (r.kind === 'direct' || r.kind === 'group') && ids(r.members)) ||
      (r.k === 'members' && isId(r.conv) && ids(r.add) && ids(r.remove)) ||
      (r.k === 'msg' &&
        isId(r.conv) &&
        isSeqOrZero(r.seq) &&
        isId(r.from) &&
        isId(r.cmid) &&
        typeof r.body === 'string' &&
        typeof r.ts === 'number') ||
      (r.k === 'cursor' &&
        isId(r.conv) &&
        isId(r.user) &&
        (r.kind === 'delivered' || r.kind === 'read') &&
        isSeqOrZero(r.seq)));
  if (!ok) throw new Error(`not a journal record: ${JSON.stringify(value).slice(0, 200)}`);
  return value as JournalRecord;
}
