import { beforeAll, describe, expect, it } from 'vitest';
import { frameBytes } from '../world/network.ts';
import { type FaultRun, failedVerdicts, faultRunTimeoutMs, runFault } from './fault-harness.ts';

/** Bytes of pushed messages each device received between `from` and `to` (a lower bound of its link's traffic). */
function pushedBytes(run: FaultRun, from: number, to: number): Map<string, number> {
  const bytes = new Map<string, number>();
  for (const e of run.of('display', from, to))
    if (e.via === 'push')
      bytes.set(e.device, (bytes.get(e.device) ?? 0) + frameBytes({ t: 'msg', ...e.message }));
  return bytes;
}

describe('bandwidth', () => {
  const bytesPerSec = 1000;
  // A busy workload: each device is pushed several KB/s while its link is free.
  const busy = {
    workload: { ratePer1kClients: 5000, typingProbability: 0, readProbability: 0 },
    checks: { skip: ['typing-recipients'] },
  };
  let run: FaultRun;
  beforeAll(async () => {
    run = await runFault({ type: 'bandwidth', atMs: 0, durationMs: 3000, fraction: 1, bytesPerSec }, busy);
  }, faultRunTimeoutMs);

  it('limits what reaches each touched client to the configured rate', async () => {
    const seconds = (run.heal - run.start - 500) / 1000;
    const before = [...pushedBytes(run, run.start - 1500, run.start - 1500 + seconds * 1000).values()];
    const during = pushedBytes(run, run.start + 500, run.heal);
    // Free, the links carry several times the limit; limited, none carries more than it.
    expect(Math.max(...before)).toBeGreaterThan(3 * bytesPerSec * seconds);
    expect(during.size).toBeGreaterThan(20);
    for (const [device, bytes] of during)
      expect(bytes, device).toBeLessThanOrEqual(bytesPerSec * seconds + 200);
    // And the limit is what the links ran at: they were kept busy near it.
    expect(Math.max(...during.values())).toBeGreaterThan(0.5 * bytesPerSec * seconds);
  });

  it('drains the backlog after the heal and loses nothing', async () => {
    expect(failedVerdicts(run)).toEqual([]);
  });
});
