import { beforeAll, describe, expect, it } from 'vitest';
import { DropsTimers } from '../drops-timers.ts';
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

describe('node crash, the store refusing the node as it starts', () => {
  // Two nodes over one store; churn brings clients back to the restarted node after the window.
  const fault = { type: 'node-crash', atMs: 1000, durationMs: 2000, node: 1, storeRefusedAfterStartMs: 1000 };
  const scenario = {
    topology: { nodes: 2, busLossOnDisconnect: true },
    workload: { churnFraction: 0.5, churnOfflineMs: 1000 },
  };

  it(
    "loses the restarted node's first catch-up read: it tries again and welcomes the hellos it held",
    async () => {
      const run = await runFault(fault, scenario);
      const flaky = run.of('fault').filter((e) => e.type === 'store-outage');
      expect(flaky.map((e) => [e.phase, e.nodes])).toEqual([
        ['start', ['n2']],
        ['heal', ['n2']],
      ]);
      expect(flaky[0]!.at).toBeGreaterThanOrEqual(run.heal);
      expect(flaky[1]!.at - flaky[0]!.at).toBe(1000);
      // Welcomed by the restarted node only after its retry, past the window.
      const welcomed = run.of('session', run.heal).filter((e) => e.node === 'n2');
      expect(welcomed.length).toBeGreaterThan(0);
      expect(welcomed.every((e) => e.at > flaky[1]!.at)).toBe(true);
      expect(failedVerdicts(run)).toEqual([]);
      // A node that never retries stays stale: its hellos are never welcomed, and the run never settles.
      const broken = await runFault(fault, scenario, 1, {
        chatNode: (node) => new DropsTimers(node, 'catch-up'),
      });
      expect(broken.of('session', broken.heal).filter((e) => e.node === 'n2')).toEqual([]);
      expect(failedVerdicts(broken).some((line) => line.startsWith('liveness: the run did not settle'))).toBe(
        true,
      );
    },
    faultRunTimeoutMs,
  );
});
