// Test support for the MessageStore contract: what a store's test file hands the suite (a fresh store
// and, for durable stores, a way to reopen its data) and the harness that reopens it in place.

import type { MessageStore } from './message-store.ts';

export type ContractFixture = {
  /** A store over fresh, empty data, not opened yet. */
  store: MessageStore;
  /** A new store over the same data (durable stores only); the suite closes the previous one first. */
  reopen?: () => MessageStore;
  /** Removes what the fixture made (temp dirs, key prefixes). */
  dispose: () => Promise<void>;
};

/** One store under test, reopened in place when the test asks. */
export class StoreHarness {
  store: MessageStore;
  private readonly fixture: ContractFixture;

  constructor(fixture: ContractFixture) {
    this.fixture = fixture;
    this.store = fixture.store;
  }

  get durable(): boolean {
    return this.fixture.reopen !== undefined;
  }

  async reopen() {
    if (this.fixture.reopen === undefined) throw new Error('this store is not durable');
    await this.store.close();
    this.store = this.fixture.reopen();
    return this.store.open();
  }

  async dispose(): Promise<void> {
    await this.store.close().catch(() => undefined);
    await this.fixture.dispose();
  }
}
