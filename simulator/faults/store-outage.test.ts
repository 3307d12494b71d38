import { describe, expect, it } from 'vitest';
import { failedVerdicts, faultRunTimeoutMs, runFault } from './fault-harness.ts';

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
      // Each is acked after the heal, once (its retries reused the cmid: one durable message each).
      const durable = run
        .of('durable', run.heal)
        .map((e) => `${e.message.from}/${e.message.cmid}/${e.message.conv}`);
      for (const send of during) expect(durable).toContain(`${send.user}/${send.cmid}/${send.conv}`);
      expect(new Set(durable).size).toBe(durable.length);
      expect(run.summary.messages.acked).toBe(run.summary.messages.sent);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );
});
