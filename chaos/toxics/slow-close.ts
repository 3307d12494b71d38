// Toxiproxy's `slow_close`: data passes unchanged; only the close is held back `delay` ms.

import { EOF, INTERRUPTED, TIMED_OUT } from '../toxic-stub.ts';
import type { ToxicKind } from './toxic-kind.ts';

export const slowClose: ToxicKind = {
  type: 'slow_close',
  goStruct: 'SlowCloseToxic',
  attributes: [['delay', 'int64']],
  async pipe(stub, a) {
    for (;;) {
      const item = await stub.read();
      if (item === INTERRUPTED || item === TIMED_OUT) return;
      if (item === EOF) {
        if (!(await stub.sleep(a.delay!))) {
          // Interrupted while holding the close: it waits at the head of the input for what comes next.
          stub.unread(EOF);
          return;
        }
        return stub.close();
      }
      await stub.write(item);
    }
  },
};
