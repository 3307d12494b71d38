// The in-memory MessageStore, for tests and the simulator: the shared StoreState plus one message
// array per conversation. Everything is "durable" the moment it is decided, and lost on exit.
// Invariant: messages[conv][seq - 1] is the message with that seq.

import type { ConvId, Message } from '../protocol/frames.ts';
import { defaultStoreLimits } from './limits.ts';
import {
  type AppendRequest,
  type AppendResult,
  type ConversationRecord,
  type CreateRequest,
  type CreateResult,
  type CursorRequest,
  type CursorResult,
  type MembersRequest,
  type MembersResult,
  type MessageStore,
  type ReadRequest,
  type ReadResult,
  StoreUnavailableError,
} from './message-store.ts';
import { StoreState, type StoreStateView } from './store-state.ts';

export class MemoryStore implements MessageStore {
  private readonly state = new StoreState();
  private readonly messages = new Map<ConvId, Message[]>();
  private readonly readMessagesMax: number;
  private closed = false;

  constructor(options: { readMessagesMax?: number } = {}) {
    this.readMessagesMax = options.readMessagesMax ?? defaultStoreLimits.readMessagesMax;
  }

  /** The decisions taken so far, read-only (as LogStore's): the simulator's harness reads them to settle. */
  get decisions(): StoreStateView {
    return this.state;
  }

  /** May be called again: it then reports the current metadata. */
  async open(): Promise<ConversationRecord[]> {
    this.closed = false;
    return this.state.records();
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    this.assertOpen();
    const result = this.state.append(request);
    if (result.status === 'ok' && !result.duplicate) {
      const { conv, from, cmid, body } = request;
      this.messagesOf(conv).push({ conv, seq: result.seq, from, cmid, body, ts: result.ts });
    }
    return result;
  }

  async read(request: ReadRequest): Promise<ReadResult> {
    this.assertOpen();
    const lastSeq = this.state.lastSeq(request.conv);
    if (lastSeq === undefined) return { status: 'not_found' };
    const start = Math.max(0, request.after);
    const end = Math.min(lastSeq, start + Math.min(request.limit, this.readMessagesMax));
    const all = this.messagesOf(request.conv);
    // Copies, so a caller changing a message cannot change the store.
    const messages = start < end ? all.slice(start, end).map((m) => ({ ...m })) : [];
    return { status: 'ok', messages, lastSeq, membersVersion: this.state.membersVersion(request.conv)! };
  }

  async createConversation(request: CreateRequest): Promise<CreateResult> {
    this.assertOpen();
    return this.state.create(request);
  }

  async changeMembers(request: MembersRequest): Promise<MembersResult> {
    this.assertOpen();
    return this.state.changeMembers(request).result;
  }

  async advanceCursor(request: CursorRequest): Promise<CursorResult> {
    this.assertOpen();
    return this.state.advanceCursor(request);
  }

  async conversations(ids?: readonly ConvId[]): Promise<ConversationRecord[]> {
    this.assertOpen();
    return this.state.records(ids);
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('the memory store is closed');
  }

  private messagesOf(conv: ConvId): Message[] {
    let list = this.messages.get(conv);
    if (list === undefined) {
      list = [];
      this.messages.set(conv, list);
    }
    return list;
  }
}
