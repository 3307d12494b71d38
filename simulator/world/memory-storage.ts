// Storage on the in-memory store (reference-server/store/memory-store.ts), as `serve --store memory`
// runs it: the real MemoryStore in the node's process, answering as soon as it has decided (it has no
// fsync to wait for). Its promises settle between agenda events, as the log's do (log-storage.ts), so a
// run stays a pure function of its seed. It keeps nothing across its process: a node crash or a clean
// exit leaves the next incarnation an empty store, as a restart does live (a scenario on it that
// crashes its node is judged for the loss). One node only: a process's memory is not shared.

import type { StoreOp } from '../../reference-server/core/effects.ts';
import type { Input, StoreOutcome } from '../../reference-server/core/inputs.ts';
import { type BugName, logBugs } from '../../reference-server/known-bugs/bugs.ts';
import type { ConvId, Message } from '../../reference-server/protocol/frames.ts';
import { runStoreOp } from '../../reference-server/runtime/store-executor.ts';
import { MemoryStore } from '../../reference-server/store/memory-store.ts';
import type {
  ConversationRecord,
  CreateRequest,
  MessageStore,
} from '../../reference-server/store/message-store.ts';
import type { StoreStateView } from '../../reference-server/store/store-state.ts';
import type { HistoryEvent } from '../history.ts';
import { type Agenda, EventKind } from './agenda.ts';
import type { Network, NetworkConfig } from './network.ts';
import type { FinalStore, StorageService } from './storage.ts';

export type MemoryStorageOptions = {
  agenda: Agenda;
  network: Network;
  config: NetworkConfig;
  record(event: HistoryEvent): void;
  /** Messages per request of the final read. */
  readMessagesMax: number;
  /** Known-bug wrappers around the store (store/buggy-store.ts), as `serve --store memory --bug` wraps it. */
  wrap?: (store: MessageStore) => MessageStore;
};

/**
 * The known bugs named that the memory store cannot carry: it answers once it has decided, with no
 * fsync to answer before (`serve` refuses ack-before-durable with it too), and it has no log.
 */
export function bugsTheMemoryStoreLacks(bugs: Iterable<string>): string[] {
  return [...bugs].filter((bug) => bug === 'ack-before-durable' || logBugs.has(bug as BugName));
}

export class MemoryStorage implements StorageService {
  readonly engine = 'memory';
  private store: MemoryStore;
  /** `store`, or the known-bug wrapper around it: what the node's operations run on. */
  private served: MessageStore;
  /** Bumped when the process holding the store ends: answers of an earlier incarnation are void. */
  private incarnation = 0;
  private outage = false;
  private readonly setupConversations: CreateRequest[] = [];

  constructor(private readonly options: MemoryStorageOptions) {
    this.store = new MemoryStore();
    this.served = this.wrapped(this.store);
  }

  get decisions(): StoreStateView {
    return this.store.decisions;
  }

  createAtSetup(request: CreateRequest): void {
    this.setupConversations.push(request);
  }

  /** Opens the store with the setup's conversations (provisioned through the port, before time 0). */
  async open(): Promise<void> {
    await this.store.open();
    for (const request of this.setupConversations) {
      const result = await this.served.createConversation(request);
      if (result.status !== 'created') throw new Error(`setup conversation ${request.id}: ${result.status}`);
    }
  }

  /** A restarted process opens the store it has: empty, unless the same process goes on. */
  nodeStarting(
    _nodeIndex: number,
    ready: (records: readonly ConversationRecord[]) => void,
    abandoned: () => boolean,
  ): void {
    const incarnation = this.incarnation;
    this.options.agenda.markAsync();
    void this.served.open().then((records) => {
      if (incarnation === this.incarnation && !abandoned()) ready(records);
    });
  }

  /** The process died: what the store held is gone; its next incarnation starts empty. */
  nodeCrashed(): void {
    this.incarnation++;
    this.store = new MemoryStore();
    this.served = this.wrapped(this.store);
  }

  /** A clean exit ends the process too: the memory store keeps nothing across it either. */
  nodeStopped(): void {
    this.nodeCrashed();
  }

  /** Every operation fails (`unavailable`) while on. */
  setOutage(on: boolean): void {
    this.outage = on;
  }

  flushed(): void {
    throw new Error('the memory store has no flush event: it answers once it has decided');
  }

  submit(nodeIndex: number, epoch: number, id: number, op: StoreOp): void {
    const { agenda, network } = this.options;
    const now = agenda.now;
    if (network.storeRequestRefused(nodeIndex)) {
      this.deliver(nodeIndex, epoch, id, { status: 'unavailable' }, now);
      return;
    }
    const arrival = network.storeArrival(nodeIndex, 'up', now);
    if (arrival > now) agenda.at(arrival, () => this.arrive(nodeIndex, epoch, id, op));
    else this.arrive(nodeIndex, epoch, id, op);
  }

  /** The whole store read back through its port, as the process holding it answers at the end. */
  async finalRead(): Promise<FinalStore> {
    const store = this.store;
    const messages = new Map<ConvId, Message[]>();
    for (const { id, lastSeq } of store.decisions.heads()) {
      const out: Message[] = [];
      while (out.length < lastSeq) {
        const page = await store.read({ conv: id, after: out.length, limit: this.options.readMessagesMax });
        if (page.status !== 'ok' || page.messages.length === 0) break;
        out.push(...page.messages);
      }
      messages.set(id, out);
    }
    return {
      state: store.decisions,
      messageAt: (conv, seq) => messages.get(conv)?.[seq - 1],
      lastSeq: (conv) => store.decisions.lastSeq(conv) ?? 0,
    };
  }

  /** The store as `serve --store memory` builds it (with its own limits), wrapped by any known bugs. */
  private wrapped(store: MemoryStore): MessageStore {
    return this.options.wrap?.(store) ?? store;
  }

  /** The request reached the store (at once, unless the node's link to it is slowed). */
  private arrive(nodeIndex: number, epoch: number, id: number, op: StoreOp): void {
    const { agenda, network, config } = this.options;
    if (!network.storeRequestArrives(nodeIndex)) {
      // Nothing comes back: the node's own timer answers (as log-storage.ts says), not the link.
      this.deliver(nodeIndex, epoch, id, { status: 'unavailable' }, agenda.now + config.storeTimeoutMs);
      return;
    }
    if (this.outage) {
      this.answer(nodeIndex, epoch, id, { status: 'unavailable' }, 2 * config.storeLatencyMs);
      return;
    }
    const incarnation = this.incarnation;
    agenda.markAsync();
    let outcome: Promise<StoreOutcome>;
    try {
      outcome = runStoreOp(this.served, op);
    } catch (error) {
      outcome = Promise.reject(error);
    }
    outcome.then(
      (result) => {
        if (incarnation !== this.incarnation) return;
        // Kept the moment it is decided: for as long as the process lives, which is all it promises.
        if (op.kind === 'append' && result.status === 'ok' && 'duplicate' in result && !result.duplicate)
          this.options.record({
            k: 'durable',
            at: agenda.now,
            message: { ...op.request, seq: result.seq, ts: result.ts },
          });
        this.answer(nodeIndex, epoch, id, result, 2 * config.storeLatencyMs);
      },
      () => {
        if (incarnation === this.incarnation)
          this.answer(nodeIndex, epoch, id, { status: 'unavailable' }, 2 * config.storeLatencyMs);
      },
    );
  }

  /** The answer travels back on the node's link. */
  private answer(nodeIndex: number, epoch: number, id: number, outcome: StoreOutcome, delayMs: number): void {
    const { agenda, network } = this.options;
    this.deliver(
      nodeIndex,
      epoch,
      id,
      outcome,
      network.storeArrival(nodeIndex, 'down', agenda.now + delayMs),
    );
  }

  private deliver(nodeIndex: number, epoch: number, id: number, outcome: StoreOutcome, at: number): void {
    const input: Input = { type: 'stored', id, outcome };
    this.options.agenda.schedule(at, EventKind.nodeInput, nodeIndex, epoch, input);
  }
}
