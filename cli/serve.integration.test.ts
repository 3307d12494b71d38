import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../reference-server/runtime/auth.ts';
import { ChatClient } from '../test-support/chat-client.ts';
import { ChildServer } from '../test-support/child-server.ts';
import { runCli } from '../test-support/cli-run.ts';

const binPath = fileURLToPath(new URL('../bin/chatsim.mjs', import.meta.url));
const secret = 'cli-integration-secret-0123456789abcdef';

function chatsim(args: string[], env: Record<string, string | undefined>) {
  const result = spawnSync(process.execPath, [binPath, ...args], {
    env: { ...process.env, CHAT_JWT_SECRET: undefined, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs `main` in this process, collecting what it writes. */
async function runMain(
  args: string[],
  env: Record<string, string | undefined> = { CHAT_JWT_SECRET: secret },
) {
  return runCli(args, env);
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chatsim-cli-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('chatsim serve, spawned', () => {
  it('refuses to start without CHAT_JWT_SECRET: exit 2, one line saying how to set it', () => {
    const result = chatsim(['serve', '--port', '0', '--data-dir', join(dir, 'a')], {});
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^chatsim: CHAT_JWT_SECRET is not set: export CHAT_JWT_SECRET=/);
  });

  it('refuses an unknown flag with exit 2 and one line', () => {
    const result = chatsim(['serve', '--port', '0', '--data-dir', join(dir, 'a'), '--bogus'], {
      CHAT_JWT_SECRET: secret,
    });
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/unknown option '--bogus'.*chatsim serve --help/);
  });

  it('refuses a data dir that is a file with exit 2', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'not a directory');
    const result = chatsim(['serve', '--port', '0', '--data-dir', file], { CHAT_JWT_SECRET: secret });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--data-dir/);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'listens on a free port with --port 0, is ready, and drains on %s: drain, 1012, exit 0',
    async (signal) => {
      const server = await ChildServer.start({
        dataDir: join(dir, `serve-${signal}`),
        secret,
        launcher: 'bin',
      });
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
      expect(server.wsUrl).toBe(`${server.url.replace('http', 'ws')}/v1/ws`);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      const client = await ChatClient.connect(server.wsUrl, 'ivy');
      await client.hello(await mintToken(secret, { sub: 'ivy' }));
      const created = await fetch(`${server.url}/v1/admin/conversations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await mintToken(secret, { sub: 'root', admin: true })}` },
        body: JSON.stringify({ id: 'cli-conv', kind: 'group', members: ['ivy'] }),
      });
      expect(created.status).toBe(201);
      await client.mustSend('cli-conv', 'm1', 'durable');
      // The log store's fsyncs reach /metrics through the serve command's onFsync wiring.
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(Number(/^chatsim_store_fsync_seconds_count (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);

      const exit = server.stop(signal);
      expect(await client.next((frame) => frame.t === 'drain')).toMatchObject({ t: 'drain' });
      expect((await client.waitClosed()).code).toBe(1012);
      expect(await exit).toEqual({ code: 0, signal: null });
      expect(server.output()).toContain(`${signal}: draining`);
    },
  );
});

describe('chatsim serve, in process', () => {
  it.each([
    [['serve', '--port', '70000', '--store', 'memory'], /--port <port>.*0 to 65535/],
    [['serve', '--port', 'x', '--store', 'memory'], /--port <port>.*0 to 65535/],
    [
      ['serve', '--port', '0', '--store', 'memory', '--heartbeat-ms', '0'],
      /--heartbeat-ms.*positive integer/,
    ],
    [
      ['serve', '--port', '0', '--store', 'memory', '--send-buffer-bytes-max', '-1'],
      /--send-buffer-bytes-max/,
    ],
    [['serve', '--port', '0', '--store', 'memory', '--node-id', 'bad id'], /--node-id/],
    [['serve', '--port', '0', '--store', 'disk'], /--store.*log, memory/],
    [['serve', '--store', 'memory'], /required option '--port/],
    [['serve', '--port', '0'], /--data-dir <dir> is required/],
  ])('%j exits 2 with one line', async (args, message) => {
    const result = await runMain(args);
    expect(result.code).toBe(2);
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toMatch(message);
    expect(result.err[0]).toMatch(/^chatsim: /);
  });

  it('reports a port in use with exit 2', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runMain(['serve', '--port', String(port), '--store', 'memory']);
      expect(result.code).toBe(2);
      expect(result.err).toEqual([
        `chatsim: 127.0.0.1:${port} is in use: pick another --port (0 picks a free one)`,
      ]);
    } finally {
      blocker.close();
    }
  });

  it('lists every limit flag in its help', async () => {
    const result = await runMain(['serve', '--help']);
    expect(result.code).toBe(0);
    const help = result.out.join('\n');
    for (const flag of [
      '--hello-timeout-ms',
      '--heartbeat-ms',
      '--large-group-threshold',
      '--send-buffer-bytes-max',
    ])
      expect(help).toContain(flag);
    expect(help).toContain('--user-sends-per-sec');
  });
});
