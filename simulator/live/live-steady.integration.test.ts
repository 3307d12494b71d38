// The live driver end to end against reference nodes it starts: a clean run passes every checker,
// and a deliberately broken server fails, each judged from real sockets and the HTTP final read.

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../scenarios/load-scenario.ts';
import { referenceFleet } from './reference-fleet.ts';
import { runLive } from './run-live.ts';
import { shortenScenario } from './shorten.ts';

const secret = 'live-steady-test-secret-0123456789abcdef';

function steady() {
  return shortenScenario(loadScenario('steady'), {
    faultsMs: 4000,
    warmupMs: 2000,
    healMs: 1000,
    clients: 60,
  });
}

// Runs on nodes of their own, side by side: most of a live run is waiting on its wall-clock phases.
describe.concurrent('chatsim live against the reference server', () => {
  it('passes steady with every property judged, reading the store as it goes', async () => {
    const scenario = steady();
    const summary = await runLive(scenario, {
      seed: 11,
      fleet: referenceFleet({ nodes: 1, secret, limits: scenario.limits, bugs: [] }),
      secret,
      // Every 1.5 s: the later reads cover seqs acked 1.5 s before them, judged and dropped then.
      progressiveReadEveryMs: 1500,
    });
    expect(summary.verdicts.map((v) => [v.property, v.verdict])).toEqual(
      summary.verdicts.map((v) => [v.property, 'pass']),
    );
    expect(summary.exitCode).toBe(0);
    expect(summary.messages.acked).toBeGreaterThan(20);
    expect(summary.messages.displayed).toBeGreaterThan(summary.messages.acked);
    expect(summary.live?.finalRead.conversations).toBeGreaterThan(0);
    expect(summary.live?.progressiveRead.checkpoints).toBeGreaterThan(0);
    expect(summary.live?.progressiveRead.seqs).toBeGreaterThan(0);
    expect(summary.verdicts.find((v) => v.property === 'durable-ack')?.details).toMatch(
      /judged during the run/,
    );
    expect(summary.live?.latencyMs.ack.count).toBeGreaterThan(0);
  }, 120_000);

  it('fails a server whose store forgets the sender in the idempotency key', async () => {
    const scenario = steady();
    const summary = await runLive(scenario, {
      seed: 12,
      fleet: referenceFleet({ nodes: 1, secret, limits: scenario.limits, bugs: ['key-without-sender'] }),
      secret,
      bugs: ['key-without-sender'],
      // Caught with the store read as the run goes, as in a soak.
      progressiveReadEveryMs: 1500,
    });
    expect(summary.exitCode).not.toBe(0);
    const failed = summary.verdicts.filter((v) => v.verdict === 'fail');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.witness.length).toBeGreaterThan(0);
  }, 120_000);

  it('does not pass a run whose fault could not heal: could not judge, exit 3', async () => {
    const base = steady();
    const scenario = {
      ...base,
      faults: [{ type: 'node-pause' as const, atMs: 500, durationMs: 300, node: 0 }],
    };
    const fleet = referenceFleet({ nodes: 1, secret, limits: scenario.limits, bugs: [] });
    // The node resumes, but the heal reports a failure (as a partition's heal did when its proxy process
    // could not answer in time): the run no longer follows its timeline, whatever it shows.
    const resume = fleet.resume.bind(fleet);
    fleet.resume = (node: number) => {
      resume(node);
      throw new Error('the heal was not answered');
    };
    const summary = await runLive(scenario, { seed: 13, fleet, secret });
    const schedule = summary.verdicts.find((v) => v.property === 'fault-schedule');
    expect(schedule?.verdict).toBe('unknown');
    expect(schedule?.details).toMatch(/node-pause .*could not heal: the heal was not answered/);
    expect(summary.exitCode).toBe(3);
  }, 120_000);
});

// Alone, after the others: it blocks this process's event loop, which every run in it shares.
describe('chatsim live against the reference server, its driver starved', () => {
  it('does not pass a run whose faults fired late (a driver starved of CPU): could not judge, exit 3', async () => {
    const base = steady();
    const scenario = { ...base, faults: [{ type: 'reconnect-storm' as const, atMs: 500, fraction: 0.5 }] };
    let blocked = false;
    const summary = await runLive(scenario, {
      seed: 13,
      fleet: referenceFleet({ nodes: 1, secret, limits: scenario.limits, bugs: [] }),
      secret,
      // The first progress tick (1 s in, during the warm-up) holds the driver's event loop for 4 s, so
      // the faults phase (due at 2 s) and the storm (2.5 s) fire about 3 s late.
      progress: () => {
        if (blocked) return;
        blocked = true;
        const until = Date.now() + 4000;
        while (Date.now() < until);
      },
    });
    const schedule = summary.verdicts.find((v) => v.property === 'fault-schedule');
    expect(schedule?.verdict).toBe('unknown');
    expect(schedule?.details).toMatch(/began \d+ ms late/);
    expect(summary.exitCode).toBe(3);
  }, 120_000);
});
