// The in-memory store against the shared MessageStore contract.

import { MemoryStore } from './memory-store.ts';
import { describeMessageStoreContract } from './message-store.contract.ts';

describeMessageStoreContract(
  'MemoryStore',
  async () => ({ store: new MemoryStore(), dispose: async () => undefined }),
  { durable: false, propertyRuns: 100 },
);
