import { describe, expect, it } from 'vitest';
import { frameBytes } from '../world/network.ts';
import { failedVerdicts, faultRunTimeoutMs, runFault } from './fault-harness.ts';

describe('rate-limited link (bandwidth, slow-consumer)', () => {
  it(
    'limits only the named share, and a healed link drains its backlog at full speed',
    async () => {
      const bytesPerSec = 1000;
      const run = await runFault(
        { type: 'bandwidth', atMs: 0, durationMs: 3000, fraction: 0.5, bytesPerSec },
        {
          clients: { count: 80 },
          workload: { ratePer1kClients: 5000, typingProbability: 0, readProbability: 0 },
          checks: { skip: ['typing-recipients'] },
        },
      );
      const bytes = (from: number, to: number) => {
        const out = new Map<string, number>();
        for (const e of run.of('display', from, to))
          if (e.via === 'push')
            out.set(e.device, (out.get(e.device) ?? 0) + frameBytes({ t: 'msg', ...e.message }));
        return out;
      };
      const seconds = (run.heal - run.start - 500) / 1000;
      const during = bytes(run.start + 500, run.heal);
      const limited = [...during]
        .filter(([, b]) => b <= bytesPerSec * seconds + 200)
        .map(([device]) => device);
      const devices = new Set(run.of('session', 0, run.start).map((e) => e.device));
      // About half the devices ran at the limit, the rest (with traffic over it) did not.
      expect(limited.length / devices.size).toBeGreaterThan(0.3);
      expect(limited.length / devices.size).toBeLessThan(0.8);
      // In the second after the heal the limited links carry their backlog, well above the old rate.
      const after = bytes(run.heal, run.heal + 1000);
      const drained = limited.reduce((sum, device) => sum + (after.get(device) ?? 0), 0) / limited.length;
      expect(drained).toBeGreaterThan(2 * bytesPerSec);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );
});
