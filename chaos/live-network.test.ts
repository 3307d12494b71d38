// LiveNetwork's faults have their effect on real connections: a partitioned group passes nothing while
// the fault lasts and everything after the heal; untouched groups never notice. Proxies are created
// through toxiproxy-node-client against an embedded server started here, or the one TOXIPROXY_URL names.

import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectTo, type Received, startUpstream, type Upstream } from '../test-support/tcp-fixture.ts';
import { clientsPerProxyProcessMax, LiveNetwork, LiveNetworkError } from './live-network.ts';
import { startToxiproxyServer } from './toxiproxy-server.ts';

let nodes: Upstream[];
let network: LiveNetwork;

beforeEach(async () => {
  nodes = [await startUpstream({ echo: true }), await startUpstream({ echo: true })];
  network = await LiveNetwork.start({ nodes: nodes.map((n) => n.address), groups: 4, seed: 7, env: {} });
});
afterEach(async () => {
  await network.stop();
  await Promise.all(nodes.map((node) => node.close()));
});

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `text` and waits until the echo of all of it came back. */
async function roundTrip(connection: Received, text: string): Promise<number> {
  const before = connection.bytes().length;
  const started = performance.now();
  connection.socket.write(text);
  await expect.poll(() => connection.bytes().length - before, { timeout: 10_000 }).toBe(text.length);
  return performance.now() - started;
}

describe('LiveNetwork', () => {
  it('gives every (group, node) its own proxy to that node', async () => {
    const table = network.addresses();
    expect(table).toHaveLength(4);
    expect(new Set(table.flat()).size).toBe(8);
    expect(network.groupOf(5)).toBe(1);
    for (const node of [0, 1]) {
      const connection = await connectTo(network.address(3, node));
      await roundTrip(connection, `to node ${node}`);
      expect(nodes[node]!.accepted.at(-1)!.bytes().toString()).toBe(`to node ${node}`);
      connection.socket.destroy();
    }
  });

  it('a partition passes nothing on touched groups while it lasts, everything after the heal', async () => {
    const fault = await network.apply({ type: 'partition', atMs: 0, durationMs: 1000, fraction: 0.5 }, 0);
    expect(fault.groups).toHaveLength(2);
    expect(fault.fraction).toBe(0.5);
    expect(fault.describe).toMatch(/2 of 4 client groups \(50% of clients\)/);
    const touched = fault.groups[0]!;
    const spared = [0, 1, 2, 3].find((group) => !fault.groups.includes(group))!;
    const cut = await connectTo(network.address(touched, 0));
    const fine = await connectTo(network.address(spared, 0));
    cut.socket.write('lost in the partition');
    await roundTrip(fine, 'passes');
    await settle(300);
    expect(cut.bytes().length).toBe(0);
    expect(nodes[0]!.accepted.map((c) => c.bytes().toString())).not.toContain('lost in the partition');
    await fault.heal();
    expect(await cut.ended).toBe('eof');
    const after = await connectTo(network.address(touched, 0));
    await roundTrip(after, 'after the heal');
    await fault.heal();
    after.socket.destroy();
    fine.socket.destroy();
  });

  it('a node partition cuts every group from that node only', async () => {
    const fault = await network.apply(
      { type: 'partition', atMs: 0, durationMs: 1, target: 'node', node: 1 },
      1,
    );
    expect(fault.fraction).toBe(1);
    const toNode1 = await connectTo(network.address(2, 1));
    const toNode0 = await connectTo(network.address(2, 0));
    toNode1.socket.write('x');
    await roundTrip(toNode0, 'node 0 still answers');
    await settle(200);
    expect(toNode1.bytes().length).toBe(0);
    await fault.heal();
    toNode0.socket.destroy();
  });

  it('latency delays touched groups by about the latency each way', async () => {
    const fault = await network.apply(
      { type: 'latency', atMs: 0, durationMs: 1, latencyMs: 200, fraction: 0.25 },
      2,
    );
    const slow = await connectTo(network.address(fault.groups[0]!, 0));
    // Two ways of 200 ms: at least 400 ms less a timer's slack; no upper bound is asserted.
    expect(await roundTrip(slow, 'slow')).toBeGreaterThanOrEqual(380);
    await fault.heal();
    slow.socket.destroy();
  });

  it('a reconnect storm closes every connection of the touched groups at once; new ones get through', async () => {
    const openByGroup = await Promise.all([0, 1, 2, 3].map((group) => connectTo(network.address(group, 0))));
    for (const connection of openByGroup) await roundTrip(connection, 'up');
    const fault = await network.apply({ type: 'reconnect-storm', atMs: 0, fraction: 0.5 }, 3);
    expect(fault.durationMs).toBe(0);
    for (const group of fault.groups) expect(await openByGroup[group]!.ended).toBe('eof');
    for (const group of [0, 1, 2, 3].filter((g) => !fault.groups.includes(g)))
      await roundTrip(openByGroup[group]!, 'still');
    const again = await connectTo(network.address(fault.groups[0]!, 0));
    await roundTrip(again, 'back');
    for (const connection of [...openByGroup, again]) connection.socket.destroy();
  });

  it('picks groups from (seed, fault index); a small fraction still touches one group', async () => {
    const first = await network.apply({ type: 'latency', atMs: 0, fraction: 0.5, latencyMs: 1 }, 9);
    const second = await network.apply({ type: 'latency', atMs: 0, fraction: 0.5, latencyMs: 1 }, 9);
    expect(second.groups).toEqual(first.groups);
    const small = await network.apply({ type: 'latency', atMs: 0, fraction: 0.01, latencyMs: 1 }, 10);
    expect(small.groups).toHaveLength(1);
    await network.healAll();
  });

  it('refuses faults with no network meaning by name', async () => {
    await expect(network.apply({ type: 'node-crash', atMs: 0, node: 0 }, 0)).rejects.toThrow(
      "fault 'node-crash' has no network meaning: a process fault",
    );
    await expect(network.apply({ type: 'clock-offset', atMs: 0 }, 0)).rejects.toBeInstanceOf(
      LiveNetworkError,
    );
  });
});

describe('LiveNetwork for many clients', () => {
  it('spreads its groups over embedded proxy processes, and stops them', async () => {
    const many = await LiveNetwork.start({
      nodes: [nodes[0]!.address],
      groups: 2,
      seed: 1,
      env: {},
      expectedClients: clientsPerProxyProcessMax + 1,
    });
    try {
      const [first, second] = [many.address(0, 0), many.address(1, 0)];
      expect(first).not.toBe(second);
      for (const address of [first, second]) {
        const connection = await connectTo(address);
        await roundTrip(connection, `via ${address}`);
        connection.socket.destroy();
      }
    } finally {
      await many.stop();
    }
  });
});

describe('LiveNetwork against a Toxiproxy named by TOXIPROXY_URL', () => {
  it('creates its proxies there and removes them on stop', async () => {
    const external = await startToxiproxyServer({ port: 0 });
    try {
      const node = nodes[0]!.address;
      const viaUrl = await LiveNetwork.start({
        nodes: [node],
        groups: 2,
        seed: 1,
        env: { TOXIPROXY_URL: external.url },
      });
      expect([...external.api.proxies.keys()].sort()).toEqual(['chatsim_g0_n0', 'chatsim_g1_n0']);
      const connection = await connectTo(viaUrl.address(1, 0));
      await roundTrip(connection, 'through the external proxy');
      connection.socket.destroy();
      await viaUrl.stop();
      expect(external.api.proxies.size).toBe(0);
    } finally {
      await external.close();
    }
  });

  it('a heal whose toxic removal is not answered in time (408) tries again until the toxic is gone', async () => {
    // An API that answers the first DELETE of a toxic with 408, as Node's HTTP server does to a request
    // it could not read within its requestTimeout (a proxy process starved of CPU).
    let refused = 0;
    await withFront(
      (request, response) => {
        if (request.method !== 'DELETE' || refused > 0) return false;
        refused++;
        response.writeHead(408).end();
        return true;
      },
      async (viaFront, toxics) => {
        const fault = await viaFront.apply(
          { type: 'partition', atMs: 0, durationMs: 1000, fraction: 0.5 },
          0,
        );
        expect(toxics()).toBeGreaterThan(0);
        await fault.heal();
        expect(refused).toBe(1);
        expect(toxics()).toBe(0);
      },
    );
  });

  it("adds a fault's toxics all at once, not one round trip after another", async () => {
    // Each add answered 50 ms late: one at a time never has two in flight.
    let inFlight = 0;
    let inFlightMax = 0;
    await withFront(
      (request) => {
        if (request.method !== 'POST' || !request.url?.endsWith('/toxics')) return false;
        inFlightMax = Math.max(inFlightMax, ++inFlight);
        return new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50)).finally(
          () => inFlight--,
        );
      },
      async (viaFront, toxics) => {
        await viaFront.apply({ type: 'latency', atMs: 0, durationMs: 1000, fraction: 1, latencyMs: 10 }, 0);
        // Two groups, a toxic each way on each.
        expect(toxics()).toBe(4);
        expect(inFlightMax).toBe(4);
      },
    );
  });

  it('a fault with one toxic refused removes every toxic it did add', async () => {
    let posts = 0;
    await withFront(
      (request, response) => {
        if (request.method !== 'POST' || !request.url?.endsWith('/toxics') || ++posts !== 2) return false;
        response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"no"}');
        return true;
      },
      async (viaFront, toxics) => {
        await expect(
          viaFront.apply({ type: 'latency', atMs: 0, durationMs: 1000, fraction: 1, latencyMs: 10 }, 0),
        ).rejects.toThrow(/Toxiproxy refused/);
        expect(toxics()).toBe(0);
      },
    );
  });

  it('an unreachable TOXIPROXY_URL is one clear error', async () => {
    await expect(
      LiveNetwork.start({
        nodes: ['127.0.0.1:1'],
        groups: 1,
        seed: 1,
        env: { TOXIPROXY_URL: 'http://127.0.0.1:1' },
      }),
    ).rejects.toThrow(/^no Toxiproxy answers at http:\/\/127\.0\.0\.1:1/);
  });
});

/**
 * A LiveNetwork whose Toxiproxy API is an embedded server behind a front that may answer a request
 * itself (`intercept` returns true, or a promise of it) or forward it; `toxics()` counts the server's.
 */
async function withFront(
  intercept: (request: IncomingMessage, response: ServerResponse) => boolean | Promise<boolean>,
  use: (network: LiveNetwork, toxics: () => number) => Promise<void>,
): Promise<void> {
  const external = await startToxiproxyServer({ port: 0 });
  const front = createServer(async (request, response) => {
    if (await intercept(request, response)) return;
    const forward = httpRequest(
      `${external.url}${request.url}`,
      { method: request.method, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    request.pipe(forward);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  try {
    const viaFront = await LiveNetwork.start({
      nodes: [nodes[0]!.address],
      groups: 2,
      seed: 1,
      env: { TOXIPROXY_URL: url },
    });
    const toxics = () =>
      [...external.api.proxies.values()].reduce((n, proxy) => n + proxy.json().toxics.length, 0);
    await use(viaFront, toxics);
    await viaFront.stop();
  } finally {
    front.close();
    await external.close();
  }
}
