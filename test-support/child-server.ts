// Runs a server as a child process, the way an operator does, for tests that kill it (crash recovery)
// or signal it (graceful drain): `chatsim serve`, or the minimal server's CLI
// (test-support/minimal-server/main.ts). Both start from a bundle built once per test process, as a
// live run's reference nodes do (simulator/live/serve-bundle.ts: the same code, loaded without tsx,
// about 0.7 s less CPU a start), unless a test of the binary itself asks for bin/chatsim.mjs.
// Ready means: it printed its address and /readyz said 200.
// Its output is kept (bounded) so a failure shows what the server said.

import { type ChildProcess, spawn } from 'node:child_process';
import { binPath, serveEntry } from '../simulator/live/serve-bundle.ts';
import { testLimits } from './limits.ts';
import { minimalServerArgs } from './minimal-server-start.ts';
import type { ServerTarget } from './server-fixture.ts';

export type ChildExit = { code: number | null; signal: NodeJS.Signals | null };
export type ChildServerOptions = {
  /** Left out for a reference node whose store is elsewhere (`--redis` in `extraArgs`). */
  dataDir?: string;
  secret: string;
  extraArgs?: string[];
  /** Default 'reference' (`chatsim serve`). Both take the same limit flags. */
  target?: ServerTarget;
  /** How `chatsim serve` is started: its bundle (default), or bin/chatsim.mjs, as `npx chatsim serve` runs. */
  launcher?: 'bundle' | 'bin';
};

/** The command line of each server: node's arguments and the environment it adds. */
async function commandOf(
  options: ChildServerOptions,
): Promise<{ args: string[]; env: Record<string, string> }> {
  const common = ['--port', '0', ...(options.dataDir !== undefined ? ['--data-dir', options.dataDir] : [])];
  if (options.target === 'minimal')
    return {
      args: [...(await minimalServerArgs()), ...common, '--jwt-secret', options.secret],
      env: {},
    };
  const entry = options.launcher === 'bin' ? binPath : await serveEntry();
  return { args: [entry, 'serve', ...common], env: { CHAT_JWT_SECRET: options.secret } };
}
const listeningPattern = /listening on (http:\/\/[^\s,]+), (ws:\/\/\S+)/;

export class ChildServer {
  readonly exited: Promise<ChildExit>;
  private readonly logLines: string[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly wsUrl: string,
    exited: Promise<ChildExit>,
    logLines: string[],
  ) {
    this.exited = exited;
    this.logLines = logLines;
  }

  static async start(options: ChildServerOptions): Promise<ChildServer> {
    const command = await commandOf(options);
    const child = spawn(process.execPath, [...command.args, ...(options.extraArgs ?? [])], {
      env: { ...process.env, ...command.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logLines: string[] = [];
    const exited = new Promise<ChildExit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const address = new Promise<{ url: string; wsUrl: string }>((resolve) => {
      const onData = (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) {
          if (line.trim() === '') continue;
          if (logLines.length >= testLimits.childLogLinesMax) logLines.shift();
          logLines.push(line);
          const match = listeningPattern.exec(line);
          if (match) resolve({ url: match[1]!, wsUrl: match[2]! });
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
    });
    const describe = () => `server output:\n${logLines.join('\n') || '(none)'}`;
    const exitedEarly = exited.then((exit) => ({ exit }));
    const started = await withTimeout(
      Promise.race([address, exitedEarly]),
      testLimits.childStartTimeoutMs,
      () => {
        child.kill('SIGKILL');
        return new Error(
          `the server did not print its address in ${testLimits.childStartTimeoutMs} ms\n${describe()}`,
        );
      },
    );
    if ('exit' in started)
      throw new Error(
        `the server exited (${started.exit.code ?? started.exit.signal}) before listening\n${describe()}`,
      );
    const server = new ChildServer(child, started.url, started.wsUrl, exited, logLines);
    await server.waitReady();
    return server;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  output(): string {
    return this.logLines.join('\n');
  }

  /** Sends `signal` and waits for the exit. */
  async stop(signal: NodeJS.Signals): Promise<ChildExit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return withTimeout(this.exited, testLimits.childExitTimeoutMs, () => {
      this.child.kill('SIGKILL');
      return new Error(
        `the server did not exit within ${testLimits.childExitTimeoutMs} ms of ${signal}\n${this.output()}`,
      );
    });
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + testLimits.childStartTimeoutMs;
    while (Date.now() < deadline) {
      const status = await fetch(`${this.url}/readyz`).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) return;
      await delay(testLimits.readyPollMs);
    }
    this.child.kill('SIGKILL');
    throw new Error(
      `the server at ${this.url} not ready within ${testLimits.childStartTimeoutMs} ms\n${this.output()}`,
    );
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `promise`, or the error `onTimeout` makes if it has not settled within `ms`; the timer never outlives it. */
async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
