// Every known-bug variant of the reference server, started through `--server-cmd`-style command lines
// (`chatsim serve --bug NAME`), is caught live: the run fails with a witness. One bug-hunting scenario
// serves them all: steady load with a reconnect storm, a node crash, membership churn, leavers and
// adversaries, so each guarantee has a way to break where the checkers see it.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type BugName, bugNames } from '../../reference-server/known-bugs/bugs.ts';
import { loadScenario } from '../../scenarios/load-scenario.ts';
import type { Scenario } from '../../scenarios/scenario.ts';
import { ProcessFleet } from './fleet.ts';
import { runLive } from './run-live.ts';
import { shortenScenario } from './shorten.ts';

const binPath = fileURLToPath(new URL('../../bin/chatsim.mjs', import.meta.url));
const secret = 'live-known-bugs-secret-0123456789abcdef';

/**
 * A process crash loses only what the server itself still held (the OS keeps what was written), so
 * acks sent before durability show only when the node dies with acked records still queued in it:
 * a high send rate and several crashes make that window wide enough to hit.
 */
function crashHunt(): Scenario {
  const hunt = bugHunt();
  return {
    ...hunt,
    name: 'crash-hunt',
    workload: { ...hunt.workload, ratePer1kClients: 4000, membershipChangesPerMin: 0 },
    // Clients back off up to 30 s between reconnects after five crashes: settle needs longer.
    phases: { ...hunt.phases, settleMaxMs: 60_000 },
    faults: [1000, 2000, 3000, 4000, 5000].map((atMs) => ({
      type: 'node-crash',
      atMs,
      durationMs: 300,
      node: 0,
    })),
  };
}

/** A user goes offline only when all its devices leave: many leavers, so watchers must see some go. */
function presenceHunt(): Scenario {
  const hunt = bugHunt();
  return { ...hunt, name: 'presence-hunt', workload: { ...hunt.workload, leaveFraction: 0.6 } };
}

function scenarioFor(bug: BugName): Scenario {
  if (bug === 'ack-before-durable') return crashHunt();
  if (bug === 'stuck-presence') return presenceHunt();
  return bugHunt();
}

function bugHunt(): Scenario {
  const steady = shortenScenario(loadScenario('steady'), {
    faultsMs: 6000,
    warmupMs: 1500,
    healMs: 1500,
    clients: 60,
  });
  return {
    ...steady,
    name: 'bug-hunt',
    clients: { ...steady.clients, adversaries: 4 },
    workload: {
      ...steady.workload,
      ratePer1kClients: 1500,
      membershipChangesPerMin: 60,
      leaveFraction: 0.1,
    },
    faults: [
      { type: 'reconnect-storm', atMs: 1000, fraction: 0.5 },
      { type: 'node-crash', atMs: 3000, durationMs: 500, node: 0 },
    ],
  };
}

describe('known bugs caught live, through --server-cmd', () => {
  it.each(bugNames)(
    '%s is caught with a witness',
    async (bug: BugName) => {
      const fleet = new ProcessFleet({
        nodes: 1,
        template: `${process.execPath} ${binPath} serve --port {port} --data-dir {dataDir} --bug ${bug}`,
        env: { ...process.env, CHAT_JWT_SECRET: secret },
        reproFlags: `--server-cmd 'chatsim serve --bug ${bug}'`,
      });
      const scenario = scenarioFor(bug);
      const summary = await runLive(scenario, { seed: 21, fleet, secret, bugs: [bug] });
      const failed = summary.verdicts.filter((v) => v.verdict === 'fail');
      expect(summary.exitCode, JSON.stringify(summary.verdicts)).not.toBe(0);
      expect(failed.length, `${bug}: no property failed`).toBeGreaterThan(0);
      expect(failed.every((v) => v.witness.length > 0)).toBe(true);
      console.log(`${bug}: caught by ${failed.map((v) => v.property).join(', ')}`);
    },
    180_000,
  );

  it.each([
    ['bug-hunt', bugHunt],
    ['crash-hunt', crashHunt],
    ['presence-hunt', presenceHunt],
  ] as const)(
    '%s passes on the correct server (so the catches above are the bugs)',
    async (_, make) => {
      const fleet = new ProcessFleet({
        nodes: 1,
        template: `${process.execPath} ${binPath} serve --port {port} --data-dir {dataDir}`,
        env: { ...process.env, CHAT_JWT_SECRET: secret },
        reproFlags: "--server-cmd 'chatsim serve'",
      });
      const summary = await runLive(make(), { seed: 21, fleet, secret });
      expect(summary.verdicts.filter((v) => v.verdict !== 'pass')).toEqual([]);
    },
    180_000,
  );
});
