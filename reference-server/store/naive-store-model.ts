// The store's semantics written the slow, obvious way (arrays and linear scans), independent of
// StoreState, so the contract's property tests can compare any MessageStore against it.
// Test support only: nothing in the server imports it.

import type { Message } from '../protocol/frames.ts';
import type {
  AppendRequest,
  AppendResult,
  ConversationKind,
  ConversationRecord,
  CreateRequest,
  CreateResult,
  CursorRequest,
  CursorResult,
  MembersRequest,
  MembersResult,
  ReadRequest,
  ReadResult,
} from './message-store.ts';

type Span = { user: string; from: number; to: number | null };
type ModelConv = {
  id: string;
  kind: ConversationKind;
  spans: Span[];
  messages: Message[];
  cursors: { user: string; delivered: number; read: number }[];
};

export class NaiveStoreModel {
  private readonly convs: ModelConv[] = [];

  append(request: AppendRequest): AppendResult {
    const conv = this.find(request.conv);
    if (conv === undefined) return { status: 'not_found' };
    const original = conv.messages.find((m) => m.from === request.from && m.cmid === request.cmid);
    if (original !== undefined) return { status: 'ok', seq: original.seq, ts: original.ts, duplicate: true };
    if (!isMember(conv, request.from)) return { status: 'forbidden' };
    const seq = conv.messages.length + 1;
    conv.messages.push({ ...request, seq });
    return { status: 'ok', seq, ts: request.ts, duplicate: false };
  }

  read(request: ReadRequest): ReadResult {
    const conv = this.find(request.conv);
    if (conv === undefined) return { status: 'not_found' };
    const messages = conv.messages.filter(
      (m) => m.seq > request.after && m.seq <= request.after + request.limit,
    );
    return { status: 'ok', messages: messages.map((m) => ({ ...m })), lastSeq: conv.messages.length };
  }

  create(request: CreateRequest): CreateResult {
    const existing = this.find(request.id);
    if (existing !== undefined) {
      const current = existing.spans.filter((s) => s.to === null).map((s) => s.user);
      const wanted = [...new Set(request.members)];
      const same =
        existing.kind === request.kind &&
        current.length === wanted.length &&
        wanted.every((u) => current.includes(u));
      return { status: same ? 'exists' : 'conflict', conversation: toRecord(existing) };
    }
    const conv: ModelConv = { id: request.id, kind: request.kind, spans: [], messages: [], cursors: [] };
    for (const user of new Set(request.members)) {
      conv.spans.push({ user, from: 1, to: null });
      conv.cursors.push({ user, delivered: 0, read: 0 });
    }
    this.convs.push(conv);
    return { status: 'created', conversation: toRecord(conv) };
  }

  changeMembers(request: MembersRequest): MembersResult {
    const conv = this.find(request.conv);
    if (conv === undefined) return { status: 'not_found' };
    if (conv.kind === 'direct' && request.add.length + request.remove.length > 0)
      return { status: 'conflict' };
    const lastSeq = conv.messages.length;
    for (const user of request.remove) {
      const open = conv.spans.find((s) => s.user === user && s.to === null);
      if (open !== undefined) open.to = lastSeq;
    }
    for (const user of request.add) {
      if (isMember(conv, user)) continue;
      conv.spans.push({ user, from: lastSeq + 1, to: null });
      const cursors = conv.cursors.find((c) => c.user === user);
      if (cursors === undefined) conv.cursors.push({ user, delivered: lastSeq, read: lastSeq });
      else {
        cursors.delivered = Math.max(cursors.delivered, lastSeq);
        cursors.read = Math.max(cursors.read, lastSeq);
      }
    }
    return { status: 'ok', conversation: toRecord(conv) };
  }

  advanceCursor(request: CursorRequest): CursorResult {
    const conv = this.find(request.conv);
    if (conv === undefined) return { status: 'not_found' };
    if (!isMember(conv, request.user)) return { status: 'forbidden' };
    let cursors = conv.cursors.find((c) => c.user === request.user);
    if (cursors === undefined) {
      cursors = { user: request.user, delivered: 0, read: 0 };
      conv.cursors.push(cursors);
    }
    const wanted = Math.min(request.seq, conv.messages.length);
    if (wanted <= cursors[request.kind]) return { status: 'ok', seq: cursors[request.kind], moved: false };
    cursors[request.kind] = wanted;
    return { status: 'ok', seq: wanted, moved: true };
  }

  records(): ConversationRecord[] {
    return this.convs.map(toRecord);
  }

  private find(id: string): ModelConv | undefined {
    return this.convs.find((c) => c.id === id);
  }
}

function isMember(conv: ModelConv, user: string): boolean {
  return conv.spans.some((s) => s.user === user && s.to === null);
}

function toRecord(conv: ModelConv): ConversationRecord {
  const members: ConversationRecord['members'] = {};
  for (const span of conv.spans) {
    const spans = members[span.user] ?? [];
    spans.push({ from: span.from, to: span.to });
    members[span.user] = spans;
  }
  const cursors: ConversationRecord['cursors'] = {};
  for (const c of conv.cursors) cursors[c.user] = { delivered: c.delivered, read: c.read };
  return { id: conv.id, kind: conv.kind, lastSeq: conv.messages.length, members, cursors };
}
