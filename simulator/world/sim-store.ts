// The simulated durable store. Writes queue up and are decided (seq, idempotency) only when a
// simulated fsync makes them durable, all in one batch: group commit, and "decided atomically with
// the durable write". A crash before the fsync therefore loses nothing that was acknowledged.
// Reads see only durable state. Known-bug variants change exactly these rules (see bugs.ts).

import type { StoreOp } from '../../reference-server/core/effects.ts';
import type { StoreOutcome } from '../../reference-server/core/inputs.ts';
import type { ConvId, Message } from '../../reference-server/protocol/frames.ts';
import { StoreState } from '../../reference-server/store/store-state.ts';
import type { HistoryEvent } from '../history.ts';

export type StoreReply = { node: number; epoch: number; id: number; outcome: StoreOutcome };

type Queued = { node: number; epoch: number; id: number; op: StoreOp; seqSeen: number };

export type SimStoreOptions = {
  readMessagesMax: number;
  /** Bug: answer appends before they are durable (lost if the store's owner crashes first). */
  ackBeforeDurable?: boolean;
  /** Bug: no idempotency index: every append is new. */
  noIdempotency?: boolean;
  /** Bug: idempotency key without the sender. */
  keyWithoutSender?: boolean;
  /** Bug: the seq is read at submit and written at flush, so appends in one batch share it. */
  nonAtomicSeq?: boolean;
  /** Bug: reads of more than one message skip every seq that is a multiple of 7. */
  syncSkips?: boolean;
  record(event: HistoryEvent): void;
  /**
   * The store's decision rules (seqs, spans, idempotency); a test passes a deliberately broken one
   * (a policy the store is built with, never a branch in the production code).
   */
  state?: StoreState;
};

export class SimStore {
  readonly state: StoreState;
  private readonly messages = new Map<ConvId, Message[]>();
  private queue: Queued[] = [];
  /** Replies sent early under the ack-before-durable bug, not yet durable. */
  private early = new Map<Queued, StoreOutcome>();
  /** Only under the keyWithoutSender bug: (conv, cmid) -> seq. */
  private readonly cmidIndex = new Map<string, number>();
  outage = false;
  appends = 0;

  constructor(private readonly options: SimStoreOptions) {
    this.state = options.state ?? new StoreState();
  }

  get queued(): number {
    return this.queue.length;
  }

  messageAt(conv: ConvId, seq: number): Message | undefined {
    return this.messages.get(conv)?.[seq - 1];
  }

  lastSeq(conv: ConvId): number {
    return this.state.lastSeq(conv) ?? 0;
  }

  /** Takes a write; reads and early (buggy) answers come back at once, the rest at the next flush. */
  submit(node: number, epoch: number, id: number, op: StoreOp): StoreReply | null {
    if (this.outage) return { node, epoch, id, outcome: { status: 'unavailable' } };
    if (op.kind === 'read')
      return { node, epoch, id, outcome: this.read(op.request.conv, op.request.after, op.request.limit) };
    if (op.kind === 'records')
      return { node, epoch, id, outcome: { status: 'ok', records: this.state.records(op.convs) } };
    const queued = { node, epoch, id, op, seqSeen: op.kind === 'append' ? this.lastSeq(op.request.conv) : 0 };
    this.queue.push(queued);
    if (this.options.ackBeforeDurable && op.kind === 'append') {
      // Predict the outcome as if the batch were flushed now, without making it durable.
      const lastSeq =
        this.lastSeq(op.request.conv) +
        this.queue.filter((q) => q.op.kind === 'append' && q.op.request.conv === op.request.conv).length;
      const outcome: StoreOutcome = { status: 'ok', seq: lastSeq, ts: op.request.ts, duplicate: false };
      this.early.set(queued, outcome);
      return { node, epoch, id, outcome };
    }
    return null;
  }

  /** The group commit: decides and makes durable everything queued, returning the replies. */
  flush(now: number): StoreReply[] {
    const batch = this.queue;
    this.queue = [];
    const replies: StoreReply[] = [];
    for (const queued of batch) {
      const outcome = this.apply(queued, now);
      if (this.early.has(queued)) this.early.delete(queued);
      else replies.push({ node: queued.node, epoch: queued.epoch, id: queued.id, outcome });
    }
    return replies;
  }

  /** Everything queued fails (store outage begins) or is lost (its owner crashed): nothing was durable. */
  dropQueued(filter: (node: number) => boolean): StoreReply[] {
    const dropped: StoreReply[] = [];
    const kept: Queued[] = [];
    for (const queued of this.queue) {
      if (!filter(queued.node)) kept.push(queued);
      else {
        this.early.delete(queued);
        dropped.push({
          node: queued.node,
          epoch: queued.epoch,
          id: queued.id,
          outcome: { status: 'unavailable' },
        });
      }
    }
    this.queue = kept;
    return dropped;
  }

  private apply(queued: Queued, now: number): StoreOutcome {
    const op = queued.op;
    switch (op.kind) {
      case 'append': {
        const request = op.request;
        const bugKey = this.options.keyWithoutSender ? request.conv + '\u0000' + request.cmid : '';
        if (this.options.keyWithoutSender) {
          const seq = this.cmidIndex.get(bugKey);
          if (seq !== undefined)
            return { status: 'ok', seq, ts: this.messageAt(request.conv, seq)!.ts, duplicate: true };
        }
        // Under the idempotency bugs the real index never sees the same key twice.
        const decided =
          this.options.noIdempotency || this.options.keyWithoutSender
            ? this.state.append({ ...request, cmid: `${request.cmid}#${this.appends}` })
            : this.state.append(request);
        this.appends++;
        if (decided.status === 'ok' && !decided.duplicate) {
          const { conv, from, cmid, body } = request;
          if (this.options.nonAtomicSeq) decided.seq = queued.seqSeen + 1;
          const message: Message = { conv, seq: decided.seq, from, cmid, body, ts: decided.ts };
          let list = this.messages.get(conv);
          if (list === undefined) {
            list = [];
            this.messages.set(conv, list);
          }
          list.push(message);
          if (this.options.keyWithoutSender) this.cmidIndex.set(bugKey, decided.seq);
          this.options.record({ k: 'durable', at: now, message });
        }
        return decided;
      }
      case 'create':
        return this.state.create(op.request);
      case 'members':
        return this.state.changeMembers(op.request).result;
      case 'cursor':
        return this.state.advanceCursor(op.request);
      case 'read':
        return this.read(op.request.conv, op.request.after, op.request.limit);
      case 'records':
        return { status: 'ok', records: this.state.records(op.convs) };
    }
  }

  read(conv: ConvId, after: number, limit: number): StoreOutcome {
    const lastSeq = this.state.lastSeq(conv);
    if (lastSeq === undefined) return { status: 'not_found' };
    const list = this.messages.get(conv) ?? [];
    const start = Math.max(0, after);
    const end = Math.min(lastSeq, start + Math.min(limit, this.options.readMessagesMax));
    let messages = start < end ? list.slice(start, end) : [];
    if (this.options.syncSkips && limit > 1) messages = messages.filter((m) => m.seq % 7 !== 0);
    return { status: 'ok', messages, lastSeq };
  }
}
