// A fault names a node, and the fleet carries it out on that node or refuses: a crash of node 1 on a
// one-node fleet must never kill node 0 (before, node indices wrapped around the fleet's size, so
// `gate --live --nodes 1` ran node-down's crash of node 1 on the only node).

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessFleet } from './fleet.ts';

let dir: string;
let server: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chatsim-fleet-'));
  server = join(dir, 'ready.mjs');
  // The smallest server a fleet accepts: GET /readyz answers 200.
  await writeFile(
    server,
    "import { createServer } from 'node:http';\n" +
      'const port = Number(process.argv[2]);\n' +
      "createServer((_, res) => res.end('ok')).listen(port, '127.0.0.1');\n",
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ProcessFleet', () => {
  it('refuses a fault on a node it lacks and leaves its nodes running', async () => {
    const fleet = new ProcessFleet({
      nodes: 1,
      template: `${process.execPath} ${server} {port}`,
      reproFlags: '--server-cmd ready',
    });
    expect(fleet.nodeCount).toBe(1);
    await fleet.start();
    try {
      await expect(fleet.crash(1)).rejects.toThrow('no node 1: this fleet has 1 (nodes 0-0)');
      expect(() => fleet.pause(2)).toThrow('no node 2');
      await expect(fleet.drainRestart(1, 0)).rejects.toThrow('no node 1');
      const [url] = fleet.urls;
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      expect(fleet.processes()).toHaveLength(1);
    } finally {
      await fleet.stop();
    }
  });
});
