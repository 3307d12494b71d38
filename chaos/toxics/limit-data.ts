// Toxiproxy's `limit_data`: at most `bytes` bytes pass in its direction on each connection (counted
// across restarts of the toxic), the chunk that crosses the limit is cut, and the connection closes as
// soon as the limit is reached.

import { EOF, INTERRUPTED, TIMED_OUT } from '../toxic-stub.ts';
import type { ToxicKind } from './toxic-kind.ts';

type State = { transmitted: number };

export const limitData: ToxicKind = {
  type: 'limit_data',
  goStruct: 'LimitDataToxic',
  attributes: [['bytes', 'int64']],
  newState: (): State => ({ transmitted: 0 }),
  async pipe(stub, a) {
    const state = stub.state as State;
    for (;;) {
      const item = await stub.read();
      if (item === INTERRUPTED || item === TIMED_OUT) return;
      if (item === EOF) return stub.close();
      const remaining = Math.max(0, a.bytes! - state.transmitted);
      const data = item.data.length > remaining ? item.data.subarray(0, remaining) : item.data;
      if (data.length > 0) {
        await stub.write({ data, atMs: item.atMs });
        state.transmitted += data.length;
      }
      if (a.bytes! - state.transmitted <= 0) return stub.close();
    }
  },
};
