// Owns every process the benchmark starts: each child is spawned through one group, its output is
// watched for the line that says it is ready, and the group kills all of them (SIGTERM, then
// SIGKILL after a grace period) when the bench ends, fails, or is interrupted.

import { type ChildProcess, fork, spawn } from 'node:child_process';
import { benchLimits } from './limits.ts';

export class ChildStartError extends Error {
  readonly code = 'CHATSIM_ERR_BENCH_CHILD';
}

export type Child = {
  readonly name: string;
  readonly process: ChildProcess;
  /** The last bytes the child wrote to stdout and stderr, to explain a failure. */
  outputTail(): string;
  /** Resolves with the first match of `pattern` in the child's stdout or stderr. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

export type SpawnOptions = { env?: NodeJS.ProcessEnv; cwd?: string };

export class ChildGroup {
  private readonly children = new Set<Child>();
  private readonly onExit = () => this.killNow();

  constructor() {
    process.on('exit', this.onExit);
  }

  /** Starts a command with piped output. */
  spawn(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): Child {
    const proc = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return this.track(name, proc);
  }

  /** Starts a TypeScript module with an IPC channel, loaded through tsx like the rest of chatsim. */
  fork(name: string, modulePath: string, args: readonly string[] = []): Child {
    const proc = fork(modulePath, args, {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    return this.track(name, proc);
  }

  get size(): number {
    return this.children.size;
  }

  /** Terminates one child, escalating to SIGKILL; resolves once it has exited. */
  async stop(child: Child): Promise<void> {
    if (isRunning(child.process)) {
      child.process.kill('SIGTERM');
      const timer = setTimeout(() => child.process.kill('SIGKILL'), benchLimits.killGraceMs);
      await child.exited;
      clearTimeout(timer);
    }
    this.children.delete(child);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.children].map((child) => this.stop(child)));
  }

  /** Detaches from the process; call once the group is no longer needed. */
  async close(): Promise<void> {
    await this.stopAll();
    process.off('exit', this.onExit);
  }

  /** Synchronous last resort for process exit: no time is left to wait for a graceful stop. */
  private killNow(): void {
    for (const child of this.children) if (isRunning(child.process)) child.process.kill('SIGKILL');
  }

  private track(name: string, proc: ChildProcess): Child {
    let tail = '';
    const listeners = new Set<(chunk: string) => void>();
    const onData = (data: Buffer) => {
      const chunk = data.toString('utf8');
      tail = (tail + chunk).slice(-benchLimits.outputTailBytes);
      for (const listener of listeners) listener(chunk);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      proc.once('exit', (code, signal) => resolve({ code, signal }));
      proc.once('error', () => resolve({ code: null, signal: null }));
    });
    const child: Child = {
      name,
      process: proc,
      outputTail: () => tail,
      exited,
      waitForLine: (pattern, timeoutMs) =>
        new Promise((resolve, reject) => {
          let buffered = tail;
          const finish = (error: Error | null, match?: RegExpMatchArray) => {
            listeners.delete(onChunk);
            clearTimeout(timer);
            if (error) reject(error);
            else resolve(match!);
          };
          const onChunk = (chunk: string) => {
            buffered = (buffered + chunk).slice(-benchLimits.outputTailBytes);
            const match = buffered.match(pattern);
            if (match) finish(null, match);
          };
          const timer = setTimeout(
            () =>
              finish(
                new ChildStartError(`${name} printed no ${pattern} within ${timeoutMs} ms${explain(tail)}`),
              ),
            timeoutMs,
          );
          listeners.add(onChunk);
          void exited.then(({ code, signal }) =>
            finish(new ChildStartError(`${name} exited (code ${code}, signal ${signal})${explain(tail)}`)),
          );
          onChunk('');
        }),
    };
    proc.once('error', (error) => {
      tail += `\nspawn error: ${error.message}`;
    });
    this.children.add(child);
    void exited.then(() => this.children.delete(child));
    return child;
  }
}

function isRunning(proc: ChildProcess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}

function explain(tail: string): string {
  return tail.trim() === '' ? '' : `; its last output:\n${tail.trim()}`;
}
