// Storage on the model store (sim-store.ts), for scale runs where the real log costs too much: store
// operations travel to it (unless the network cut the node from it), wait for the group commit (one
// simulated fsync after the first queued write), and their outcomes travel back as `stored` inputs.
// It owns the store-wide faults: an outage, and, with the store embedded in the node's process,
// losing a crashed node's unsynced writes. Disk faults need the real log (log-storage.ts).

import type { StoreOp } from '../../reference-server/core/effects.ts';
import type { Input } from '../../reference-server/core/inputs.ts';
import type { ConversationRecord, CreateRequest } from '../../reference-server/store/message-store.ts';
import type { StoreStateView } from '../../reference-server/store/store-state.ts';
import { type Agenda, EventKind } from './agenda.ts';
import type { Network, NetworkConfig } from './network.ts';
import type { SimStore, StoreReply } from './sim-store.ts';
import type { FinalStore, StorageService } from './storage.ts';

export class ModelStorage implements StorageService {
  readonly engine = 'model';
  private flushScheduled = false;

  constructor(
    readonly store: SimStore,
    private readonly agenda: Agenda,
    private readonly network: Network,
    private readonly config: NetworkConfig,
    /** 'embedded': the store lives in the node's process, so a node crash loses its unsynced writes. */
    private readonly mode: 'embedded' | 'shared',
  ) {}

  get decisions(): StoreStateView {
    return this.store.state;
  }

  createAtSetup(request: CreateRequest): void {
    this.store.state.create(request);
  }

  async open(): Promise<void> {}

  nodeStarting(_nodeIndex: number, ready: (records: readonly ConversationRecord[]) => void): void {
    ready(this.store.state.records());
  }

  async finalRead(): Promise<FinalStore> {
    return this.store;
  }

  submit(nodeIndex: number, epoch: number, id: number, op: StoreOp): void {
    const now = this.agenda.now;
    if (this.network.storeRequestRefused(nodeIndex)) {
      const input: Input = { type: 'stored', id, outcome: { status: 'unavailable' } };
      this.agenda.schedule(now, EventKind.nodeInput, nodeIndex, epoch, input);
      return;
    }
    const arrival = this.network.storeArrival(nodeIndex, 'up', now);
    if (arrival > now) this.agenda.at(arrival, () => this.arrive(nodeIndex, epoch, id, op));
    else this.arrive(nodeIndex, epoch, id, op);
  }

  /** The request reached the store (at once, unless the node's link to it is slowed). */
  private arrive(nodeIndex: number, epoch: number, id: number, op: StoreOp): void {
    const { storeLatencyMs, storeTimeoutMs, fsyncMs } = this.config;
    if (!this.network.storeRequestArrives(nodeIndex)) {
      const input: Input = { type: 'stored', id, outcome: { status: 'unavailable' } };
      this.agenda.schedule(this.agenda.now + storeTimeoutMs, EventKind.nodeInput, nodeIndex, epoch, input);
      return;
    }
    // The request's trip to the store is folded into the reply's: one event per operation, not three.
    const immediate = this.store.submit(nodeIndex, epoch, id, op);
    if (immediate) this.reply(immediate);
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.agenda.schedule(this.agenda.now + storeLatencyMs + fsyncMs, EventKind.storeFlush, 0, 0, null);
    }
  }

  /** The group commit's fsync completed: every queued operation is decided and answered. */
  flushed(): void {
    this.flushScheduled = false;
    for (const reply of this.store.flush(this.agenda.now)) this.reply(reply);
  }

  /** Every store operation fails (`unavailable`) while on; what was queued fails at once. */
  setOutage(on: boolean): void {
    this.store.outage = on;
    if (on) for (const reply of this.store.dropQueued(() => true)) this.reply(reply);
  }

  nodeCrashed(nodeIndex: number): void {
    if (this.mode === 'embedded') this.store.dropQueued((owner) => owner === nodeIndex);
  }

  /** A clean exit closes the store after its queued writes: they are kept, as a flush keeps them. */
  nodeStopped(): void {}

  private reply(reply: StoreReply): void {
    if (!this.network.storeReplyArrives(reply.node)) {
      // Carried out, its reply lost on the way back: the node's timeout answers.
      const input: Input = { type: 'stored', id: reply.id, outcome: { status: 'unavailable' } };
      this.agenda.schedule(
        this.agenda.now + this.config.storeTimeoutMs,
        EventKind.nodeInput,
        reply.node,
        reply.epoch,
        input,
      );
      return;
    }
    const input: Input = { type: 'stored', id: reply.id, outcome: reply.outcome };
    this.agenda.schedule(
      this.network.storeArrival(reply.node, 'down', this.agenda.now + 2 * this.config.storeLatencyMs),
      EventKind.nodeInput,
      reply.node,
      reply.epoch,
      input,
    );
  }
}
