// Starts Debian's redis-server for tests and for `chatsim live --nodes N`: a free port, a temp dir,
// AOF on with an fsync per write (the durability the Redis store demands), no RDB snapshots. It can be
// stopped, SIGKILLed and restarted on the same port and dir: a Redis crash, and what its AOF keeps.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type RedisServerOptions = {
  /** Defaults to `appendfsync always`; 'everysec' lets a test see the durability check refuse it. */
  appendfsync?: 'always' | 'everysec' | 'no';
  appendonly?: boolean;
  /** Extra `--name value` pairs for redis-server (e.g. cluster settings). */
  extraArgs?: string[];
  /** A fixed port (restarts reuse it); default: a free one. */
  port?: number;
  /** A data dir to use (and keep); default: a fresh temp dir removed by `dispose`. */
  dir?: string;
};

const startTimeoutMs = 20_000;
const stopTimeoutMs = 10_000;
const logLinesMax = 100;

export class RedisServer {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private readonly logLines: string[] = [];

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly ownsDir: boolean,
    private readonly args: string[],
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const port = options.port ?? (await freePort());
    const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'chatsim-redis-')));
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      options.appendonly === false ? 'no' : 'yes',
      '--appendfsync',
      options.appendfsync ?? 'always',
      '--save',
      '',
      '--protected-mode',
      'no',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
      ...(options.extraArgs ?? []),
    ];
    const server = new RedisServer(port, dir, options.dir === undefined, args);
    await server.launch();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null;
  }

  output(): string {
    return this.logLines.join('\n');
  }

  /** Starts it again on the same port and dir (after `stop` or `kill`); it replays its AOF. */
  async restart(): Promise<void> {
    if (this.child !== null) throw new Error('redis-server is still running');
    await this.launch();
  }

  /** SIGTERM and wait (Redis fsyncs and exits cleanly). */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** SIGKILL: what the AOF holds is all that survives. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** Stops it (if running) and removes its temp dir. */
  async dispose(): Promise<void> {
    await this.signal('SIGKILL');
    if (this.ownsDir) await rm(this.dir, { recursive: true, force: true });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  private async launch(): Promise<void> {
    const child = spawn('redis-server', this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    // A run ended by a signal (Ctrl-C, a CI timeout) exits without dispose(): Redis must not outlive it.
    const killAtExit = () => child.kill('SIGKILL');
    process.on('exit', killAtExit);
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        process.off('exit', killAtExit);
        if (this.child === child) this.child = null;
        resolve();
      });
    });
    const spawnFailed = new Promise<Error>((resolve) => child.once('error', resolve));
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim() === '') continue;
        if (this.logLines.length >= logLinesMax) this.logLines.shift();
        this.logLines.push(line);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const deadline = Date.now() + startTimeoutMs;
    const early = Promise.race([this.exited.then(() => 'exited' as const), spawnFailed]);
    while (Date.now() < deadline) {
      const outcome = await Promise.race([early, ping(this.port).then((ok) => (ok ? 'up' : 'down'))]);
      if (outcome === 'up') return;
      if (outcome instanceof Error)
        throw new Error(
          `cannot run redis-server (${outcome.message}): install it with 'apt-get install -y redis-server'`,
        );
      if (outcome === 'exited')
        throw new Error(`redis-server exited before it was ready\n${this.output() || '(no output)'}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    child.kill('SIGKILL');
    throw new Error(
      `redis-server on port ${this.port} not ready within ${startTimeoutMs} ms\n${this.output()}`,
    );
  }
}

/** A port nobody listens on right now (the kernel picks it; a race with another process is unlikely). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** True once the server answers PING with PONG (and is not loading its AOF). */
async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}
