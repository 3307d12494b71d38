// Toxiproxy's `timeout`: a blackhole. Every chunk in its direction is dropped; with timeout > 0 the
// connection closes once no chunk has arrived for that long (each chunk restarts the timer). Removing
// the toxic closes the connection, whatever the toxicity roll chose, as Toxiproxy's Cleanup does.

import { EOF, INTERRUPTED, TIMED_OUT } from '../toxic-stub.ts';
import type { ToxicKind } from './toxic-kind.ts';

export const timeout: ToxicKind = {
  type: 'timeout',
  goStruct: 'TimeoutToxic',
  attributes: [['timeout', 'int64']],
  async pipe(stub, a) {
    const idleMs = a.timeout! > 0 ? a.timeout! : undefined;
    for (;;) {
      const item = await stub.read(idleMs);
      if (item === INTERRUPTED) return;
      if (item === EOF || item === TIMED_OUT) return stub.close();
      // A data chunk: dropped on the floor.
    }
  },
  cleanup: (stub) => stub.close(),
};
