import { beforeAll, describe, expect, it } from 'vitest';
import { type FaultRun, failedVerdicts, faultRunTimeoutMs, leavers, runFault } from './fault-harness.ts';

const keyOf = (m: { from: string; conv: string; cmid: string }) => `${m.from}/${m.conv}/${m.cmid}`;

describe('node crash', () => {
  // A slow fsync keeps writes waiting for their group commit, so the crash finds some unsynced.
  let run: FaultRun;
  beforeAll(async () => {
    run = await runFault(
      { type: 'node-crash', atMs: 1000, durationMs: 2000, node: 0 },
      {
        network: { fsyncMs: 300 },
        clients: { count: 100 },
        // The crash would cut the presser's press off before any answer: rate-limit is judged elsewhere.
        workload: { ratePer1kClients: 1000, pressers: 0 },
        checks: { skip: ['rate-limit'] },
      },
    );
  }, faultRunTimeoutMs);

  it('takes the node away until the restart: no ack, no frame, no durable write', async () => {
    const down = [run.start + 50, run.heal] as const;
    expect(run.of('ack', ...down)).toEqual([]);
    expect(run.of('conv-frame', ...down)).toEqual([]);
    expect(run.of('durable', ...down)).toEqual([]);
    expect(run.of('session-lost', run.start, run.start + 50).length).toBeGreaterThan(50);
    expect(run.of('ack', run.heal, run.heal + 3000).length).toBeGreaterThan(5);
  });

  it('loses exactly the writes not yet synced: they become durable only when retried after the restart', async () => {
    const durableAt = new Map<string, number[]>();
    for (const e of run.of('durable'))
      durableAt.set(keyOf(e.message), [...(durableAt.get(keyOf(e.message)) ?? []), e.at]);
    const ackedBefore = new Set(run.of('ack', 0, run.start).map((e) => `${e.user}/${e.conv}/${e.cmid}`));
    // Leavers left at settle with whatever they had not yet retried: their sends are not counted.
    const left = leavers(run);
    const inFlight = run
      .of('send', 0, run.start)
      .filter((e) => !left.has(e.user))
      .map((e) => `${e.user}/${e.conv}/${e.cmid}`)
      .filter((key) => !ackedBefore.has(key));
    const synced = inFlight.filter((key) => (durableAt.get(key) ?? [])[0]! < run.start);
    const unsynced = inFlight.filter((key) => !synced.includes(key));
    expect(unsynced.length).toBeGreaterThan(0);
    // The lost ones: made durable once, after the restart (the client's retry under the same cmid).
    for (const key of unsynced) {
      expect(durableAt.get(key), key).toHaveLength(1);
      expect(durableAt.get(key)![0]!, key).toBeGreaterThanOrEqual(run.heal);
    }
    // The synced ones survive as they were: durable once, never written again.
    for (const key of synced) expect(durableAt.get(key), key).toHaveLength(1);
    expect(failedVerdicts(run)).toEqual([]);
  });
});
