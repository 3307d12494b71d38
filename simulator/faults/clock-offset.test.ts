import { describe, expect, it } from 'vitest';
import { failedVerdicts, faultRunTimeoutMs, quantile, runFault } from './fault-harness.ts';

describe('clock offset', () => {
  it(
    "moves the node's ts by the offset while it lasts, and nothing else",
    async () => {
      const offsetMs = 30_000;
      const run = await runFault({ type: 'clock-offset', atMs: 0, durationMs: 3000, node: 0, offsetMs });
      // An ack's ts is the node's clock when the message became durable, shortly before the ack arrives.
      const skew = (from: number, to: number) => run.of('ack', from, to).map((e) => e.ts - e.at);
      const before = quantile(skew(0, run.start), 0.5);
      const during = skew(run.start + 100, run.heal);
      const after = skew(run.heal + 100, run.heal + 3000);
      expect(during.length).toBeGreaterThan(5);
      expect(Math.abs(quantile(during, 0.5) - before - offsetMs)).toBeLessThan(50);
      expect(Math.abs(quantile(after, 0.5) - before)).toBeLessThan(50);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );
});
