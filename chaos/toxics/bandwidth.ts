// Toxiproxy's `bandwidth`: at most `rate` KB/s (KB = 1000 bytes). Big chunks leave in 100 ms slices.
// A rate of 0 holds the data for as long as the toxic stays (as Toxiproxy does); a negative rate,
// which crashes Toxiproxy, is refused.

import { EOF, INTERRUPTED, now, TIMED_OUT } from '../toxic-stub.ts';
import type { ToxicKind } from './toxic-kind.ts';

export const bandwidth: ToxicKind = {
  type: 'bandwidth',
  goStruct: 'BandwidthToxic',
  attributes: [['rate', 'int64']],
  validate: (a) => (a.rate! < 0 ? 'rate must be >= 0' : null),
  async pipe(stub, a) {
    const rate = a.rate!; // bytes per ms
    let owedMs = 0;
    for (;;) {
      const item = await stub.read();
      if (item === INTERRUPTED || item === TIMED_OUT) return;
      if (item === EOF) return stub.close();
      if (rate <= 0) {
        await stub.stall();
        await stub.write(item);
        return;
      }
      owedMs += item.data.length / rate;
      let data = item.data;
      const slice = rate * 100;
      while (data.length > slice) {
        if (!(await stub.sleep(100))) {
          await stub.write({ data, atMs: item.atMs });
          return;
        }
        await stub.write({ data: data.subarray(0, slice), atMs: item.atMs });
        data = data.subarray(slice);
        owedMs -= 100;
      }
      const start = now();
      if (!(await stub.sleep(owedMs))) {
        await stub.write({ data, atMs: item.atMs });
        return;
      }
      // Timers overshoot; the next chunk's wait is shortened by the overshoot.
      owedMs -= now() - start;
      await stub.write({ data, atMs: item.atMs });
    }
  },
};
