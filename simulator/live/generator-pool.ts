// The driver's side of its generator processes: forks them (from generator.ts bundled once per driver
// process, serve-bundle.ts), hands each its plan, decodes their event batches in arrival order per
// generator, answers status queries by id, and collects their reports. A generator that dies or fails ends the run
// with its message; none outlives the driver.

import { type ChildProcess, fork } from 'node:child_process';
import type { HistoryEvent } from '../history.ts';
import type { FromGenerator, GeneratorPlan, ShardStatus, ToGenerator } from './generator-messages.ts';
import { HistoryMerge } from './history-merge.ts';
import { liveLimits } from './limits.ts';
import type { ProcessRef } from './process-sampler.ts';
import { generatorEntry, throughTsx } from './serve-bundle.ts';

const tsxLoader = import.meta.resolve('tsx');

/**
 * How a generator's Node starts. `tsx` only when the bundle could not be built and generator.ts itself
 * is forked: tsx by its resolved URL (a bare 'tsx' resolves from the cwd, which need not be this
 * package). A young generation of `generatorSemiSpaceMb`: a generator's garbage is
 * mostly per-connect and per-frame objects (HTTP upgrade, streams, frames) that die young, and a
 * small young generation (as `--optimize-for-size` gave) collects them often and promotes the
 * survivors of each collection into the old space, whose collections cost far more: about a third less
 * generator CPU per connection, for a fixed ~3 x semi-space of memory per process (docs/benchmarks.md).
 * `CHATSIM_GENERATOR_CPU_PROF_DIR=dir` writes each generator's V8 CPU profile there when it exits.
 */
export function generatorExecArgv(env: Record<string, string | undefined>, tsx: boolean): string[] {
  const profileDir = env.CHATSIM_GENERATOR_CPU_PROF_DIR;
  return [
    ...(tsx ? ['--import', tsxLoader] : []),
    '--max-old-space-size=4096',
    `--max-semi-space-size=${liveLimits.generatorSemiSpaceMb}`,
    ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
  ];
}

export type GeneratorReport = Extract<FromGenerator, { type: 'report' }>;

export class GeneratorPool {
  private readonly children: ChildProcess[] = [];
  /** Generators that said they are ready (loaded, plan taken, no client connected yet). */
  private readonly ready: boolean[] = [];
  /** When each generator was last heard from (performance.now()): a live one flushes every eventFlushMs. */
  private readonly heardAt: number[] = [];
  private readonly waiters = new Map<number, (status: ShardStatus) => void>();
  private readonly reports: (GeneratorReport | null)[] = [];
  private readonly reportWaiters: ((report: GeneratorReport) => void)[] = [];
  private nextId = 1;
  private failure: Error | null = null;
  private onFailure: (error: Error) => void = () => {};
  private finishing = false;
  private readonly onExit = () => {
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGKILL');
  };

  /** The generators' histories, merged in time order before they reach the checkers. */
  private readonly merge: HistoryMerge;

  constructor(onEvent: (event: HistoryEvent) => void) {
    this.merge = new HistoryMerge(onEvent);
    process.on('exit', this.onExit);
  }

  /** Resolves with the first failure of any generator (never, on a healthy run). */
  readonly failed = new Promise<Error>((resolve) => {
    this.onFailure = resolve;
  });

  async start(plans: GeneratorPlan[]): Promise<void> {
    const ready: Promise<void>[] = [];
    const entry = await generatorEntry();
    for (const plan of plans) {
      const child = fork(entry, [], {
        execArgv: generatorExecArgv(process.env, throughTsx(entry)),
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        // V8's serializer, not JSON: an event batch is one long string, which JSON would escape in the
        // generator and unescape in the driver on top of the driver's own parse of it. The driver reads
        // every generator's history on one core, and under load it is the first to fall behind.
        serialization: 'advanced',
      });
      const index = this.children.length;
      this.children.push(child);
      this.heardAt.push(performance.now());
      this.merge.addSource();
      this.reports.push(null);
      ready.push(
        new Promise<void>((resolve, reject) => {
          child.on('message', (message: FromGenerator) => {
            this.heardAt[index] = performance.now();
            if (message.type === 'ready') {
              this.ready[index] = true;
              resolve();
            } else this.handle(index, message);
          });
          child.once('exit', (code, signal) => {
            this.merge.close(index);
            const error = new Error(`generator ${index} exited (${code ?? signal}) before its report`);
            reject(error);
            if (this.reports[index] === null) this.fail(error);
          });
        }),
      );
      child.send({ type: 'plan', plan } satisfies ToGenerator);
    }
    await withTimeout(Promise.all(ready), liveLimits.generatorAnswerTimeoutMs, 'generators to start');
  }

  /** The generator processes once ready (a first sample taken while one loads would be no baseline). */
  processes(): ProcessRef[] {
    return this.children.map((child, i) => ({
      name: `g${i}`,
      kind: 'generator',
      pid: this.ready[i] && child.exitCode === null && child.signalCode === null ? child.pid : undefined,
    }));
  }

  /** Run time up to which the generators' histories have reached the checkers. */
  get historyUpTo(): number {
    return this.merge.watermark;
  }

  broadcast(message: ToGenerator): void {
    for (const child of this.children) if (child.connected) child.send(message);
  }

  sendTo(shard: number, message: ToGenerator): void {
    const child = this.children[shard];
    if (child?.connected) child.send(message);
  }

  async status(
    query: Omit<Extract<ToGenerator, { type: 'status' }>, 'id' | 'type'> = {},
  ): Promise<ShardStatus[]> {
    const answers = this.children.map((child) => {
      const id = this.nextId++;
      const answer = new Promise<ShardStatus>((resolve) => this.waiters.set(id, resolve));
      child.send({ type: 'status', id, ...query } satisfies ToGenerator);
      return answer;
    });
    return whileHeard(Promise.all(answers), () => this.heard(), 'generator status');
  }

  /**
   * Stops every generator's recording and collects its report, then lets them close their sockets and
   * exit: none closes one before all have stopped. `staggerMs` (tests): the finish reaches generator i
   * i x staggerMs late, as a loaded box's scheduling may deliver it, so one shard stops while another
   * still records.
   */
  async finish(staggerMs = 0): Promise<GeneratorReport[]> {
    this.finishing = true;
    const reports = this.children.map(
      (_, index) =>
        new Promise<GeneratorReport>((resolve) => {
          const done = this.reports[index];
          if (done) resolve(done);
          else this.reportWaiters[index] = resolve;
        }),
    );
    const lateFinishes: NodeJS.Timeout[] = [];
    for (const [i, child] of this.children.entries()) {
      const send = () => {
        if (child.connected) child.send({ type: 'finish' } satisfies ToGenerator);
      };
      if (i * staggerMs > 0) lateFinishes.push(setTimeout(send, i * staggerMs));
      else send();
    }
    const all = await whileHeard(Promise.all(reports), () => this.heard(), 'generator reports').finally(
      () => {
        for (const timer of lateFinishes) clearTimeout(timer);
      },
    );
    // Only now may a socket close: a generator that closed its own while another still recorded would
    // show the other's devices a change of the harness's making (a user gone offline after the final
    // read found it online), judged as the server's.
    this.broadcast({ type: 'close' });
    process.off('exit', this.onExit);
    return all;
  }

  kill(): void {
    this.onExit();
    process.off('exit', this.onExit);
  }

  get error(): Error | null {
    return this.failure;
  }

  private handle(index: number, message: FromGenerator): void {
    switch (message.type) {
      case 'events':
        // Nothing a generator recorded after its report is the run's (it sends nothing then).
        if (this.reports[index] !== null) return;
        this.merge.push(index, JSON.parse(message.json) as HistoryEvent[], message.upTo);
        return;
      case 'status':
        this.waiters.get(message.id)?.(message.status);
        this.waiters.delete(message.id);
        return;
      case 'report':
        // Its last events came before the report on the same channel: all of them can go now.
        this.merge.close(index);
        this.reports[index] = message;
        this.reportWaiters[index]?.(message);
        return;
      case 'failed':
        this.fail(new Error(`generator ${index} failed: ${message.message}`));
        return;
    }
  }

  /** When each generator still due to speak was last heard from (null: it sent its report). */
  private heard(): (number | null)[] {
    return this.heardAt.map((at, i) => (this.reports[i] === null ? at : null));
  }

  private fail(error: Error): void {
    if (this.failure !== null || this.finishing) return;
    this.failure = error;
    this.onFailure(error);
  }
}

/**
 * `promise`, unless a generator falls silent for `limitMs` first (`heardAt()`: when each was last
 * heard from, performance.now(); null for one not due to speak). An answer queues behind the events its
 * generator sent before it, on the same channel: a driver with a backlog of history (short of CPU)
 * reads it late, but the generator is alive as long as its batches (one every eventFlushMs) keep
 * arriving. So the wait is bounded by a generator's silence, not by the answer's age: only a generator
 * that hangs, or a channel that stops, ends the run.
 */
export async function whileHeard<T>(
  promise: Promise<T>,
  heardAt: () => readonly (number | null)[],
  what: string,
  limitMs: number = liveLimits.generatorAnswerTimeoutMs,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const silent = new Promise<never>((_, reject) => {
    const check = (): void => {
      const now = performance.now();
      let worst = { index: -1, forMs: 0 };
      for (const [index, at] of heardAt().entries())
        if (at !== null && now - at > worst.forMs) worst = { index, forMs: now - at };
      if (worst.forMs >= limitMs) {
        reject(
          new Error(
            `generator ${worst.index} said nothing for ${Math.round(worst.forMs)} ms while the driver waited for ${what}`,
          ),
        );
        return;
      }
      timer = setTimeout(check, Math.max(liveLimits.eventFlushMs, limitMs - worst.forMs));
    };
    timer = setTimeout(check, limitMs);
  });
  try {
    return await Promise.race([promise, silent]);
  } finally {
    clearTimeout(timer);
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
