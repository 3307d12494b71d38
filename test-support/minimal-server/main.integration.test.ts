// The minimal server's command line, as a harness starts it: `--port {port} --data-dir {dataDir}
// --jwt-secret S`. Bad input is a message naming the flag and exit 2 before anything listens; a good start prints the
// address, serves, and a restart on the same data dir has what was acknowledged before.

import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ChildServer } from '../child-server.ts';
import { HttpApi } from '../http.ts';
import { mintTestToken } from '../tokens.ts';
import { journalFileName } from './journal.ts';

const mainPath = fileURLToPath(new URL('./main.ts', import.meta.url));
const secret = 'minimal-cli-secret';

function run(args: string[], env: Record<string, string | undefined> = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', mainPath, ...args], {
    env: { ...process.env, CHAT_JWT_SECRET: undefined, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let dir: string | null = null;
let child: ChildServer | null = null;
afterEach(async () => {
  await child?.stop('SIGKILL');
  child = null;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = null;
});

describe('minimal server command line', () => {
  it.each([
    [['--jwt-secret', secret], /--port <0-65535> is required/],
    [['--port', '0'], /--jwt-secret <secret> \(or env CHAT_JWT_SECRET\) is required/],
    [['--port', 'eighty', '--jwt-secret', secret], /--port must be a non-negative integer, got 'eighty'/],
    [['--port', '0', '--jwt-secret', secret, '--heartbeat-ms', '0'], /--heartbeat-ms must be a positive/],
    [['--port', '0', '--jwt-secret', secret, '--no-such-flag'], /Unknown option '--no-such-flag'/],
  ])('refuses %j with a message that says what to do, and exit 2', (args, message) => {
    const result = run(args);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('refuses a taken port with exit 2', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = run(['--port', String(port), '--jwt-secret', secret]);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain(`port ${port} is in use`);
    } finally {
      blocker.close();
    }
  });

  it('refuses a damaged journal with exit 2, naming the line', async () => {
    dir = await mkdtemp(join(tmpdir(), 'minimal-cli-'));
    await writeFile(join(dir, journalFileName), '{"k":"conv","id":"c","kind":"group","members":[]}\n}{\n');
    const result = run(['--port', '0', '--jwt-secret', secret, '--data-dir', dir]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/line 2 is not JSON/);
  });

  it('prints where its journal is, and keeps what it acknowledged across a SIGKILL', async () => {
    dir = await mkdtemp(join(tmpdir(), 'minimal-cli-'));
    child = await ChildServer.start({ target: 'minimal', dataDir: dir, secret });
    expect(child.output()).toContain(`journal in ${dir}`);
    const admin = await mintTestToken(secret, 'admin', { admin: true });
    await new HttpApi(child.url).mustCreateConversation(admin, { id: 'kept', kind: 'group', members: ['a'] });
    expect(await child.stop('SIGKILL')).toMatchObject({ signal: 'SIGKILL' });
    child = await ChildServer.start({ target: 'minimal', dataDir: dir, secret });
    const response = await new HttpApi(child.url).createConversation(admin, {
      id: 'kept',
      kind: 'group',
      members: ['a'],
    });
    expect(response.status).toBe(200);
  });
});
