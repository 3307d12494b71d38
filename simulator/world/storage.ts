// What the world needs of storage, whichever engine backs it: the real log store on a simulated disk
// (log-storage.ts: every fault scenario and the swarm), the model store (model-storage.ts: the
// million-client scale run) or the real memory store (memory-storage.ts: `serve --store memory`). Nodes reach it through `submit`; the harness sets conversations up before
// boot, reads its decisions to know when a run has settled, and takes a final read at the end.

import type { StoreOp } from '../../reference-server/core/effects.ts';
import type { ConvId, Message } from '../../reference-server/protocol/frames.ts';
import type { ConversationRecord, CreateRequest } from '../../reference-server/store/message-store.ts';
import type { StoreStateView } from '../../reference-server/store/store-state.ts';
import type { ReplayCheck } from '../history.ts';

/** The store's content after the run, as the checkers' final read sees it. */
export type FinalStore = {
  readonly state: StoreStateView;
  messageAt(conv: ConvId, seq: number): Message | undefined;
  lastSeq(conv: ConvId): number;
  /** The log store's recovery against a replay of every segment; absent for stores without a log. */
  readonly replayCheck?: ReplayCheck;
};

export interface StorageService {
  readonly engine: 'log' | 'model' | 'memory';
  /** The store's decisions so far (a claim: the harness uses it only to decide when to stop). */
  readonly decisions: StoreStateView;
  /** Setup, before `open`: conversations the population starts with. */
  createAtSetup(request: CreateRequest): void;
  /** Opens the store with the setup's conversations, taking no virtual time. */
  open(): Promise<void>;
  /** One store effect of a node; the outcome comes back as a `stored` input to that epoch. */
  submit(nodeIndex: number, epoch: number, id: number, op: StoreOp): void;
  /** The group commit's flush event (model store only). */
  flushed(): void;
  setOutage(on: boolean): void;
  /** A node's process died; with an embedded store, the store (and its machine's unsynced writes) too. */
  nodeCrashed(nodeIndex: number): void;
  /** A node's process exited cleanly (drained): an embedded store is closed, flushed, not crashed. */
  nodeStopped(nodeIndex: number): void;
  /**
   * A node (re)starts: `ready` gets the conversations once the store it needs is open (recovered), as
   * the store made them durable; `abandoned` says the start was given up (the process died again).
   */
  nodeStarting(
    nodeIndex: number,
    ready: (records: readonly ConversationRecord[]) => void,
    abandoned: () => boolean,
  ): void;
  /** The final read, after the run. */
  finalRead(): Promise<FinalStore>;
}
