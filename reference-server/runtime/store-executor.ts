// Carries out the core's `store` effects on a MessageStore and answers each with a `stored` input.
// Invariant: every store effect gets exactly one `stored` answer; a failing store becomes
// `{status: 'unavailable'}` (the core tells the client to retry), never an exception in the process.

import type { StoreOp } from '../core/effects.ts';
import type { Input, StoreOutcome } from '../core/inputs.ts';
import type { MessageStore } from '../store/message-store.ts';
import { runtimeLimits } from './limits.ts';

export type StoreExecutorOptions = {
  store: MessageStore;
  feed: (input: Input) => void;
  log: (line: string) => void;
  now?: () => number;
};

export class StoreExecutor {
  private readonly store: MessageStore;
  private readonly feed: (input: Input) => void;
  private readonly log: (line: string) => void;
  private readonly now: () => number;
  /** Failures since the last success; 0 outside a burst. */
  private failuresInBurst = 0;
  private lastLoggedAtMs = 0;

  constructor(options: StoreExecutorOptions) {
    this.store = options.store;
    this.feed = options.feed;
    this.log = options.log;
    this.now = options.now ?? Date.now;
  }

  run(id: number, op: StoreOp): void {
    let pending: Promise<StoreOutcome>;
    try {
      pending = runStoreOp(this.store, op);
    } catch (error) {
      // A store that throws synchronously is failing just the same as one that rejects.
      pending = Promise.reject(error);
    }
    // The answer is fed outside the rejection handler on purpose: an exception from the core is a bug
    // and must crash, not turn into a second `stored` for the same id.
    pending.then(
      (outcome) => {
        this.noteSuccess();
        this.feed({ type: 'stored', id, outcome });
      },
      (error: unknown) => {
        this.noteFailure(op, error);
        this.feed({ type: 'stored', id, outcome: { status: 'unavailable' } });
      },
    );
  }

  private noteSuccess(): void {
    if (this.failuresInBurst === 0) return;
    this.log(`store available again after ${this.failuresInBurst} failed operation(s)`);
    this.failuresInBurst = 0;
  }

  /** Logs the first failure of a burst, then at most once per storeErrorRelogMs while it lasts. */
  private noteFailure(op: StoreOp, error: unknown): void {
    this.failuresInBurst++;
    const now = this.now();
    const first = this.failuresInBurst === 1;
    if (!first && now - this.lastLoggedAtMs < runtimeLimits.storeErrorRelogMs) return;
    this.lastLoggedAtMs = now;
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const prefix = first ? 'store unavailable' : `store still unavailable (${this.failuresInBurst} failures)`;
    this.log(`${prefix}; answering unavailable until it recovers (${op.kind} failed with ${detail})`);
  }
}

/** Carries one store effect out on a store (the simulator's real-log storage uses it too). */
export function runStoreOp(store: MessageStore, op: StoreOp): Promise<StoreOutcome> {
  switch (op.kind) {
    case 'append':
      return store.append(op.request);
    case 'read':
      return store.read(op.request);
    case 'create':
      return store.createConversation(op.request);
    case 'members':
      return store.changeMembers(op.request);
    case 'cursor':
      return store.advanceCursor(op.request);
    case 'records':
      return store.conversations(op.convs).then((records) => ({ status: 'ok' as const, records }));
  }
}
