// The gate's run processes give the very run this process gives: same trace hash, events and verdicts
// (a run is a pure function of its scenario and seed); a failing run's summary comes back whole.

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from '../simulator/run-scenario.ts';
import { GatePool } from './gate-pool.ts';

let pool: GatePool;
beforeAll(async () => {
  pool = await GatePool.start(2);
}, 60_000);
afterAll(() => pool.stop());

describe('GatePool', () => {
  it('runs a seed in a process of its own with the same trace as in this one', {
    timeout: 120_000,
  }, async () => {
    const [there, also] = await Promise.all([
      pool.run(0, { scenario: 'partition', seed: 5, bugs: [], clients: 60 }),
      pool.run(1, { scenario: 'steady', seed: 5, bugs: ['dropped-pushes'], clients: 60 }),
    ]);
    const here = await runScenario(loadScenario('partition'), { seed: 5, clients: 60 });
    expect(there.traceHash).toBe(here.traceHash);
    expect(there.events).toBe(here.events);
    expect(there.verdicts.map((v) => v.verdict)).toEqual(here.verdicts.map((v) => v.verdict));
    expect(there.exitCode).toBe(0);
    // A broken server's run comes back failed, with its witness.
    expect(also.exitCode).toBe(1);
    expect(also.verdicts.some((v) => v.verdict === 'fail' && v.witness.length > 0)).toBe(true);
  });

  it('says what failed when a run throws', { timeout: 60_000 }, async () => {
    await expect(pool.run(0, { scenario: 'no-such-scenario', seed: 1, bugs: [] })).rejects.toThrow(
      /a gate run failed: .*no-such-scenario/,
    );
  });

  it('stops a run process whose gate is gone, mid-run, without a crash', { timeout: 60_000 }, async () => {
    const worker = fork(fileURLToPath(new URL('./gate-worker.ts', import.meta.url)), [], {
      execArgv: ['--import', import.meta.resolve('tsx')],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    worker.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
    await new Promise((resolve) => worker.once('message', resolve));
    let answered = false;
    worker.on('message', () => {
      answered = true;
    });
    // A run of some seconds, then the channel closes as when the gate is killed.
    worker.send({ id: 1, scenario: 'steady', seed: 1, bugs: [], clients: 3000 });
    worker.disconnect();
    expect(await exited).toBe(1);
    expect(answered).toBe(false);
    expect(stderr).toContain('the gate that started this run process is gone');
    expect(stderr).not.toContain('ERR_IPC_CHANNEL_CLOSED');
  });
});
