// A rolling restart live, against the reference server (`--nodes 1`) and against the minimal second
// server (`--server-cmd`): each node drained by SIGTERM, restarted on its data dir once it exited, and
// the run judged by the standard checkers (nothing acked is lost across the drain).

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../scenarios/load-scenario.ts';
import type { HistoryEvent } from '../history.ts';
import { type LiveFleet, ProcessFleet } from './fleet.ts';
import { referenceFleet } from './reference-fleet.ts';
import { runLive } from './run-live.ts';
import { shortenScenario } from './shorten.ts';

const secret = 'live-rolling-test-secret-0123456789abcdef';
const minimalServer = fileURLToPath(new URL('../../test-support/minimal-server/main.ts', import.meta.url));

async function rollingRun(fleet: LiveFleet, seed: number) {
  const steady = shortenScenario(loadScenario('steady'), {
    faultsMs: 3500,
    warmupMs: 1500,
    healMs: 1000,
    clients: 30,
  });
  const scenario = {
    ...steady,
    // A short run of 30 clients: typing on most sends, so typing-recipients has something to judge.
    workload: { ...steady.workload, typingProbability: 0.5 },
    faults: [{ type: 'rolling-restart' as const, atMs: 300, durationMs: 3000, restartDelayMs: 300 }],
    // The steady SLO is set for a simulated 5 ms network; here a node is down for a restart.
    thresholds: { ackLatency: [], failedSends: ['count<1'], fanoutLag: [], repeatedPushes: [] },
  };
  const events: HistoryEvent[] = [];
  const summary = await runLive(scenario, {
    seed,
    fleet,
    secret,
    recorder: { observe: (event) => events.push(event), tick: () => {} },
  });
  return { summary, events };
}

function expectRolled(run: Awaited<ReturnType<typeof rollingRun>>): void {
  const steps = run.events.filter(
    (e): e is Extract<HistoryEvent, { k: 'fault' }> => e.k === 'fault' && e.type === 'drain-restart',
  );
  expect(steps.map((e) => e.phase)).toEqual(['start', 'heal']);
  const [from, to] = [steps[0]!.at, steps[1]!.at];
  // The drain: sessions end by the client's close after `drain` or by the 1012, not by a reset.
  const lost = run.events.filter(
    (e): e is Extract<HistoryEvent, { k: 'session-lost' }> =>
      e.k === 'session-lost' && e.at >= from && e.at <= to,
  );
  expect(lost.length).toBeGreaterThan(15);
  expect(lost.filter((e) => e.reason !== 'client' && e.reason !== '1012')).toEqual([]);
  // Sessions open again after the restart, and sends are acked there.
  expect(run.events.some((e) => e.k === 'session' && e.at > to)).toBe(true);
  expect(run.events.some((e) => e.k === 'ack' && e.at > to)).toBe(true);
  expect(run.summary.verdicts.filter((v) => v.verdict !== 'pass').map((v) => v.details)).toEqual([]);
  expect(run.summary.slo.filter((t) => !t.pass)).toEqual([]);
  expect(run.summary.exitCode).toBe(0);
}

describe('live rolling restart', () => {
  it('drains, restarts and loses nothing on a reference node (--nodes 1)', async () => {
    const run = await rollingRun(referenceFleet({ nodes: 1, secret, limits: {}, bugs: [] }), 21);
    expectRolled(run);
  }, 180_000);

  it('drains, restarts and loses nothing on the minimal server (--server-cmd)', async () => {
    const fleet = new ProcessFleet({
      nodes: 1,
      template: `${process.execPath} --import tsx ${minimalServer} --port {port} --data-dir {dataDir}`,
      env: { ...process.env, CHAT_JWT_SECRET: secret },
      reproFlags: '--server-cmd minimal',
    });
    expectRolled(await rollingRun(fleet, 22));
  }, 180_000);
});
