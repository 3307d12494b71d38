// A real Pushgateway (the Debian binary) for tests, on a free port, stopped by the test that started it.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.ts';
import { testLimits } from './limits.ts';
import { freePort } from './prometheus-process.ts';

export const pushgatewayBin = '/usr/bin/prometheus-pushgateway';

export class PushgatewayProcess {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(): Promise<PushgatewayProcess> {
    const port = await freePort();
    // Its own persistence file: Debian's default path is shared by every instance on the machine.
    const dir = mkdtempSync(join(tmpdir(), 'chatsim-pgw-'));
    const args = [
      `--web.listen-address=127.0.0.1:${port}`,
      `--persistence.file=${join(dir, 'pushgateway.data')}`,
    ];
    const child = spawn(pushgatewayBin, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const gateway = new PushgatewayProcess(`http://127.0.0.1:${port}`, child);
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    await eventually(
      async () => {
        if (exited) throw new Error('pushgateway exited');
        const response = await fetch(`${gateway.url}/-/ready`);
        if (response.status !== 200) throw new Error(`ready: ${response.status}`);
      },
      testLimits.childStartTimeoutMs / testLimits.readyPollMs,
      testLimits.readyPollMs,
    );
    return gateway;
  }

  async metrics(): Promise<string> {
    return (await fetch(`${this.url}/metrics`)).text();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
