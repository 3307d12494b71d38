import { describe, expect, it } from 'vitest';
import { failedVerdicts, faultRunTimeoutMs, runFault } from './fault-harness.ts';

describe('reset_peer', () => {
  it(
    "resets the named share of clients' connections: both ends learn at once, clients reconnect",
    async () => {
      const run = await runFault({ type: 'reset_peer', atMs: 0, fraction: 0.5 }, { clients: { count: 200 } });
      const lost = run.of('session-lost', run.start, run.start + 50);
      const devices = new Set(lost.map((e) => e.device));
      expect(devices.size).toBeGreaterThan(100 - 25);
      expect(devices.size).toBeLessThan(100 + 25);
      expect(lost.every((e) => e.reason === 'reset')).toBe(true);
      const back = new Set(run.of('session', run.start).map((e) => e.device));
      for (const device of devices) expect(back.has(device), device).toBe(true);
      expect(run.summary.messages.acked).toBe(run.summary.messages.sent);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );
});
