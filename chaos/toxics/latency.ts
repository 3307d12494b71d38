// Toxiproxy's `latency`: each chunk leaves `latency ± jitter` ms after the proxy read it. Chunks queue
// behind each other without adding up their delays, so throughput is not cut; order is kept.

import { chaosLimits } from '../limits.ts';
import { EOF, INTERRUPTED, now, TIMED_OUT } from '../toxic-stub.ts';
import type { ToxicKind } from './toxic-kind.ts';

export const latency: ToxicKind = {
  type: 'latency',
  goStruct: 'LatencyToxic',
  attributes: [
    ['latency', 'int64'],
    ['jitter', 'int64'],
  ],
  bufferChunks: chaosLimits.latencyQueueChunks,
  validate: (a) => (a.jitter! < 0 ? 'jitter must be >= 0' : null),
  async pipe(stub, a, random) {
    for (;;) {
      const item = await stub.read();
      if (item === INTERRUPTED || item === TIMED_OUT) return;
      if (item === EOF) return stub.close();
      const jitter = a.jitter!;
      const delay = a.latency! + (jitter > 0 ? Math.floor(random() * 2 * jitter) - jitter : 0);
      const sleepMs = delay - (now() - item.atMs);
      if (!(await stub.sleep(sleepMs))) {
        // Interrupted (updated or removed): this chunk leaves now, nothing is dropped.
        await stub.write(item);
        return;
      }
      // A second latency toxic counts from here, so two in a row add up.
      item.atMs += sleepMs;
      await stub.write(item);
    }
  },
};
