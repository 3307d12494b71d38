import { describe, expect, it } from 'vitest';
import { failedVerdicts, faultRunTimeoutMs, leavers, runFault, unackedSends } from './fault-harness.ts';

describe('store outage', () => {
  it(
    'makes nothing durable and acks nothing while it lasts; retries under the same cmid land after',
    async () => {
      const run = await runFault({ type: 'store-outage', atMs: 0, durationMs: 2000 });
      const down = [run.start + 50, run.heal] as const;
      expect(run.of('durable', ...down)).toEqual([]);
      expect(run.of('ack', ...down)).toEqual([]);
      const during = run.of('send', ...down);
      expect(during.length).toBeGreaterThan(5);
      // Each is acked after the heal, once (its retries reused the cmid: one durable message each),
      // unless a leaver left at settle before its backed-off retry.
      const left = leavers(run);
      const durable = run
        .of('durable', run.heal)
        .map((e) => `${e.message.from}/${e.message.cmid}/${e.message.conv}`);
      for (const send of during.filter((e) => !left.has(e.user)))
        expect(durable).toContain(`${send.user}/${send.cmid}/${send.conv}`);
      expect(new Set(durable).size).toBe(durable.length);
      expect(unackedSends(run)).toEqual([]);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );
});
