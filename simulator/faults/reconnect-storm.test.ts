import { describe, expect, it } from 'vitest';
import { failedVerdicts, faultRunTimeoutMs, runFault } from './fault-harness.ts';

describe('reconnect storm', () => {
  it(
    'drops the named share of clients at once, and they all come back',
    async () => {
      const run = await runFault(
        { type: 'reconnect-storm', atMs: 0, fraction: 0.3 },
        { clients: { count: 400 } },
      );
      const devices = new Set(run.of('session', 0, run.start).map((e) => e.device));
      expect(devices.size).toBe(400);
      const dropped = run.of('session-lost', run.start, run.start + 50);
      const droppedDevices = new Set(dropped.map((e) => e.device));
      // Each client is in with probability 0.3: 120 of 400 expected, a binomial sd of about 9.
      expect(droppedDevices.size).toBeGreaterThan(120 - 30);
      expect(droppedDevices.size).toBeLessThan(120 + 30);
      expect(dropped.every((e) => e.reason === 'reset')).toBe(true);
      // Nobody else lost a session around then, and every dropped device opened a new one.
      expect(run.of('session-lost', run.start - 1000, run.start + 1000).length).toBe(dropped.length);
      const back = new Set(run.of('session', run.start).map((e) => e.device));
      for (const device of droppedDevices) expect(back.has(device), device).toBe(true);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );
});
