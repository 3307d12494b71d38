// A sharded live run whose generators are told to stop at different times, as a loaded box delivers
// the driver's finish: one shard stops while another still records. Nothing the harness's own
// teardown causes may be judged as the server's behaviour (session 29's CI: spread.integration.test.ts
// failed once on a correct server, a watcher seeing a user go offline 500 ms after the final read had
// found the user online, because that user's generator had already closed its sockets while the
// watcher's still recorded). A shard stops recording first; no socket closes until every shard has.

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../scenarios/load-scenario.ts';
import { presenceConvergenceProperty } from '../checkers/presence-convergence.ts';
import { referenceFleet } from './reference-fleet.ts';
import { runLive } from './run-live.ts';
import { shortenScenario } from './shorten.ts';

const secret = 'live-staggered-stop-secret-0123456789abcdef';

/** 60 clients for 4 s, three generators, each told to stop 1.5 s after the one before. */
async function staggered(bugs: 'stuck-presence'[], leaveFraction: number) {
  const short = shortenScenario(loadScenario('steady'), {
    faultsMs: 2000,
    warmupMs: 1500,
    healMs: 500,
    clients: 60,
  });
  const run = { ...short, workload: { ...short.workload, leaveFraction } };
  const fleet = referenceFleet({ nodes: 1, secret, limits: run.limits, bugs });
  // The last generator records for 3 s after the first has stopped, long enough for every presence
  // change the first one's stop could cause to arrive.
  return runLive(run, { seed: 3, fleet, secret, bugs, generators: 3, finishStaggerMs: 1500 });
}

describe('a sharded live run whose generators stop at different times', () => {
  it('judges no presence change the first stopped generator caused: the correct server passes', async () => {
    const summary = await staggered([], loadScenario('steady').workload.leaveFraction);
    expect(summary.live!.generators).toBe(3);
    const presence = summary.verdicts.find((v) => v.property === presenceConvergenceProperty)!;
    expect(presence.verdict, JSON.stringify(presence, null, 1)).toBe('pass');
    // Judged, not passed for want of views: watchers on every shard saw users of the others.
    const judged = Number(/^(\d+) views judged/.exec(presence.details)?.[1]);
    expect(judged).toBeGreaterThan(20);
    const failed = summary.verdicts.filter((v) => v.verdict === 'fail');
    expect(failed.map((v) => v.details)).toEqual([]);
  }, 120_000);

  it('still fails a server whose presence is wrong at the end (users who left stay online)', async () => {
    // Half the users leave at settle, all their devices, before any generator stops: their watchers
    // must see them go, and a server that never says so fails however the generators stop.
    const summary = await staggered(['stuck-presence'], 0.5);
    const presence = summary.verdicts.find((v) => v.property === presenceConvergenceProperty)!;
    expect(presence.verdict, JSON.stringify(presence, null, 1)).toBe('fail');
    expect(presence.details).toMatch(/stale online/);
  }, 120_000);
});
