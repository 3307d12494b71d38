import { describe, expect, it } from 'vitest';
import { failedVerdicts, faultRunTimeoutMs, runFault } from './fault-harness.ts';

describe('slow consumer', () => {
  it(
    'fills the node send buffer of the touched clients until the node closes them with 4509; they resume',
    async () => {
      const run = await runFault(
        { type: 'slow-consumer', atMs: 0, durationMs: 3000, fraction: 0.5, bytesPerSec: 256 },
        {
          clients: { count: 80 },
          workload: { ratePer1kClients: 5000, typingProbability: 0, readProbability: 0 },
          checks: { skip: ['typing-recipients'] },
          limits: { sendBufferBytesMax: 2048 },
        },
      );
      const closed = run.of('session-lost', run.start, run.heal).filter((e) => e.reason === '4509');
      const devices = new Set(closed.map((e) => e.device));
      // About half the clients are slow; every one of them is closed at least once, nobody else is.
      expect(devices.size).toBeGreaterThan(20);
      expect(devices.size).toBeLessThan(60);
      expect(run.of('session-lost', 0, run.start).filter((e) => e.reason === '4509')).toEqual([]);
      const resumed = new Set(run.of('session', run.start).map((e) => e.device));
      for (const device of devices) expect(resumed.has(device), device).toBe(true);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );
});
