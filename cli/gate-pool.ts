// The gate's run processes: a run is single-threaded, so on a machine with more than one core the gate
// forks one process per core (cli/gate-worker.ts, through tsx like the rest of chatsim) and hands each
// run to whichever is free. Runs never share state, and each is a pure function of its scenario and
// seed, so the verdicts and trace hashes are the same as in one process; only the wall time changes.

import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunSummary } from '../simulator/run-scenario.ts';
import type { GateJob, GateJobResult } from './gate-worker.ts';

const workerPath = fileURLToPath(new URL('./gate-worker.ts', import.meta.url));
// tsx by its resolved URL: a bare 'tsx' resolves from the cwd, which need not be this package.
const tsxLoader = import.meta.resolve('tsx');

type Pending = { resolve: (summary: RunSummary) => void; reject: (error: Error) => void };

/** One forked run process: answers one job at a time. */
class GateProcess {
  private pending: Pending | null = null;
  private exited: Error | null = null;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (answer: GateJobResult) => {
      const pending = this.pending;
      if (pending === null || answer.id < 0) return;
      this.pending = null;
      if ('error' in answer) pending.reject(new Error(`a gate run failed: ${answer.error}`));
      else pending.resolve(answer.summary);
    });
    child.once('exit', (code, signal) => {
      this.exited = new Error(`a gate run process exited (${code ?? signal}) before its answer`);
      this.pending?.reject(this.exited);
      this.pending = null;
    });
  }

  static start(): Promise<GateProcess> {
    const child = fork(workerPath, [], {
      // The same young generation as `chatsim sim` (bin/chatsim.mjs); gate runs are small.
      execArgv: ['--import', tsxLoader, '--max-old-space-size=4096', '--max-semi-space-size=64'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      const failed = (code: number | null, signal: string | null): void =>
        reject(new Error(`a gate run process exited (${code ?? signal}) before it was ready`));
      child.once('exit', failed);
      child.once('message', () => {
        child.off('exit', failed);
        resolve(new GateProcess(child));
      });
    });
  }

  run(job: GateJob): Promise<RunSummary> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.child.send(job);
    });
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

export class GatePool {
  private nextId = 0;
  private readonly stopAll = (): void => this.stop();

  private constructor(private readonly processes: GateProcess[]) {
    // None outlives the gate, even when it exits on an error.
    process.on('exit', this.stopAll);
  }

  static async start(size: number): Promise<GatePool> {
    const started = await Promise.allSettled(Array.from({ length: size }, () => GateProcess.start()));
    const ready = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) {
      for (const p of ready) p.stop();
      throw failure.reason;
    }
    return new GatePool(ready);
  }

  get size(): number {
    return this.processes.length;
  }

  /** Runs `job` on process `slot` (a slot runs one job at a time: the caller keeps it so). */
  run(slot: number, job: Omit<GateJob, 'id'>): Promise<RunSummary> {
    return this.processes[slot]!.run({ ...job, id: this.nextId++ });
  }

  stop(): void {
    process.off('exit', this.stopAll);
    for (const p of this.processes) p.stop();
  }
}
