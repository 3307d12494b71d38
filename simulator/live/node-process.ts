// One server process the live driver owns: started from a command line in its own process group
// (detached), so a shell wrapper and everything it starts get each signal; ready once GET /readyz
// answers 200 (protocol.md); killed (SIGKILL), paused (SIGSTOP/SIGCONT), drained (SIGTERM) and
// restarted with the same command, port and data dir. Invariant: at most one live process per node.

import { type ChildProcess, spawn } from 'node:child_process';
import { liveLimits } from './limits.ts';

export class NodeStartError extends Error {
  readonly code = 'CHATSIM_ERR_NODE_START';
}

export type NodeProcessOptions = {
  /** Index of the node in its fleet (for messages). */
  index: number;
  /** The shell command that starts it, already substituted. */
  command: string;
  env?: NodeJS.ProcessEnv;
  /** Where it serves (http://host:port). */
  url: string;
};

type Exit = { code: number | null; signal: NodeJS.Signals | null };

export class NodeProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<Exit> = Promise.resolve({ code: null, signal: null });
  private tail = '';
  private stopped = false;
  paused = false;
  starts = 0;

  constructor(readonly options: NodeProcessOptions) {}

  get url(): string {
    return this.options.url;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The process's last output, to explain a failure. */
  output(): string {
    return this.tail.trim();
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`node ${this.options.index} is already running`);
    this.stopped = false;
    this.paused = false;
    this.starts++;
    const child = spawn('/bin/sh', ['-c', `exec ${this.options.command}`], {
      detached: true,
      env: this.options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const onData = (data: Buffer) => {
      this.tail = (this.tail + data.toString('utf8')).slice(-liveLimits.nodeOutputTailBytes);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (error) => {
        this.tail += `\n${error.message}`;
        resolve({ code: null, signal: null });
      });
    });
    await this.waitReady(child);
  }

  /** SIGKILL to the whole group; resolves once the process is gone. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    this.paused = false;
    await this.exited;
  }

  pause(): void {
    this.signal('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    this.signal('SIGCONT');
    this.paused = false;
  }

  /** SIGTERM (a conforming server drains), SIGKILL after the grace period. */
  async terminate(graceMs: number = liveLimits.nodeStopGraceMs): Promise<Exit> {
    if (!this.running) return this.exited;
    if (this.paused) this.resume();
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** Stops for good (the end of a run); nothing is restarted after this. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.terminate();
  }

  /** Synchronous last resort at process exit. */
  killNow(): void {
    if (this.running) this.signal('SIGKILL');
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private signal(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined || !this.running) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is gone already.
    }
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + liveLimits.nodeStartTimeoutMs;
    let exit: Exit | null = null;
    void this.exited.then((e) => {
      exit = e;
    });
    while (Date.now() < deadline) {
      if (exit !== null || child.exitCode !== null) {
        const e = exit ?? { code: child.exitCode, signal: child.signalCode };
        throw new NodeStartError(
          `node ${this.options.index} (${this.options.command}) exited (${e.code ?? e.signal}) before it was ready${lastLine(this.tail)}`,
        );
      }
      const status = await fetch(`${this.options.url}/readyz`, { signal: AbortSignal.timeout(1000) }).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) return;
      await new Promise((resolve) => setTimeout(resolve, liveLimits.nodeReadyPollMs));
    }
    this.signal('SIGKILL');
    throw new NodeStartError(
      `node ${this.options.index} (${this.options.command}) did not answer ${this.options.url}/readyz with 200 within ${liveLimits.nodeStartTimeoutMs} ms${lastLine(this.tail)}`,
    );
  }
}

function lastLine(tail: string): string {
  const lines = tail
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '');
  return lines.length === 0 ? '' : `: ${lines[lines.length - 1]!.trim()}`;
}
