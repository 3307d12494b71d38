// A real Prometheus (the Debian binary) for tests: started on a free port with its own config and
// data directory, queried over its HTTP API, stopped by the test that started it. Its output is kept
// (bounded) so a failure shows what Prometheus said.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from './eventually.ts';
import { testLimits } from './limits.ts';

export const prometheusBin = '/usr/bin/prometheus';
export const promtoolBin = '/usr/bin/promtool';

const run = promisify(execFile);

/** Runs promtool; resolves with its output, rejects with it (stdout and stderr) on a non-zero exit. */
export async function promtool(args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(promtoolBin, args, { maxBuffer: 64 << 20 });
    return stdout + stderr;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`promtool ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export type PromSample = { metric: Record<string, string>; value: [number, string] };

export class PrometheusProcess {
  private readonly log: string[] = [];
  private exited = false;

  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n')) {
        if (line.length === 0) continue;
        this.log.push(line);
        if (this.log.length > testLimits.childLogLinesMax) this.log.shift();
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('exit', () => {
      this.exited = true;
    });
  }

  /** Starts Prometheus with `configYaml` on a free port; `dataDir` may hold imported blocks. */
  static async start(configYaml: string, dataDir?: string): Promise<PrometheusProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'chatsim-prom-'));
    const configPath = join(dir, 'prometheus.yml');
    writeFileSync(configPath, configYaml);
    const port = await freePort();
    const child = spawn(
      prometheusBin,
      [
        `--config.file=${configPath}`,
        `--storage.tsdb.path=${dataDir ?? join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-lifecycle',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const prometheus = new PrometheusProcess(`http://127.0.0.1:${port}`, child);
    try {
      await eventually(
        async () => {
          if (prometheus.exited) throw new Error('prometheus exited');
          const response = await fetch(`${prometheus.url}/-/ready`);
          if (response.status !== 200) throw new Error(`ready: ${response.status}`);
        },
        testLimits.childStartTimeoutMs / testLimits.readyPollMs,
        testLimits.readyPollMs,
      );
    } catch (error) {
      await prometheus.stop();
      throw new Error(`prometheus did not start: ${(error as Error).message}\n${prometheus.output()}`);
    }
    return prometheus;
  }

  output(): string {
    return this.log.join('\n');
  }

  /** An instant query; `time` in seconds since the epoch (default: now). */
  async query(expr: string, time?: number): Promise<PromSample[]> {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set('time', String(time));
    const response = await fetch(`${this.url}/api/v1/query?${params}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: { result: PromSample[] };
    };
    if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
    return body.data!.result;
  }

  /** The single value of a query that must give exactly one sample. */
  async scalar(expr: string, time?: number): Promise<number> {
    const result = await this.query(expr, time);
    if (result.length !== 1) throw new Error(`${expr}: expected one sample, got ${JSON.stringify(result)}`);
    return Number(result[0]!.value[1]);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), testLimits.childExitTimeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
