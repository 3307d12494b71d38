// A connect storm meets a node whose event loop is stalled (GC, a burst, a starved CPU): the kernel
// completes the TCP handshakes into the listener's accept queue meanwhile, up to its backlog, and
// drops the SYNs beyond it; each dropped client waits out SYN retransmits (1 s, then 3 s, ...). With
// Node's default backlog (511) the 100,000-connection ramps overflowed it (docs/benchmarks.md): this
// test freezes a real node (SIGSTOP) and opens more connections than that at once.

import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChildServer } from '../../test-support/child-server.ts';
import { runtimeLimits } from './limits.ts';

const secret = 'listen-backlog-secret-0123456789abcdef';
/** Well past Node's default backlog of 511, within the node's own. */
const storm = 1500;
/** Shorter than the first SYN retransmit (1 s): a dropped SYN cannot connect within it. */
const waitMs = 700;

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the listener', () => {
  it(`queues a storm of ${storm} connects while the node is frozen (backlog ${runtimeLimits.listenBacklog})`, async () => {
    expect(runtimeLimits.listenBacklog).toBeGreaterThan(storm);
    dir = await mkdtemp(join(tmpdir(), 'chatsim-backlog-'));
    const server = await ChildServer.start({ dataDir: dir, secret });
    const { hostname, port } = new URL(server.url);
    const sockets: Socket[] = [];
    try {
      process.kill(server.pid!, 'SIGSTOP');
      let connected = 0;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        for (let i = 0; i < storm; i++) {
          const socket = connect({ host: hostname, port: Number(port) });
          socket.on('error', () => {});
          socket.on('connect', () => {
            connected++;
            if (connected === storm) {
              clearTimeout(timer);
              resolve();
            }
          });
          sockets.push(socket);
        }
      });
      expect(connected).toBe(storm);
    } finally {
      for (const socket of sockets) socket.destroy();
      process.kill(server.pid!, 'SIGCONT');
      await server.stop('SIGTERM');
    }
  }, 30_000);
});
