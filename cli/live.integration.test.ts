// `chatsim live` refuses what it cannot do before any client connects, with one line and exit 2:
// process faults against --url (named), an unreachable URL, a wrong secret, a server that does not
// start, a taken port, bad flags. And a --server-cmd target runs a scenario to a verdict.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { openFilesLimit } from '../simulator/live/file-budget.ts';
import { ChildServer } from '../test-support/child-server.ts';
import { runCli } from '../test-support/cli-run.ts';
import type { CliIo } from './cli-error.ts';
import { withScenarioNodes } from './live.ts';

const binPath = fileURLToPath(new URL('../bin/chatsim.mjs', import.meta.url));
const secret = 'live-cli-secret-0123456789abcdef';

async function runMain(args: string[]) {
  return runCli(args);
}

let dir: string;
let server: ChildServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chatsim-live-cli-'));
  server = await ChildServer.start({ dataDir: join(dir, 'data'), secret });
}, 60_000);

afterAll(async () => {
  await server?.stop('SIGTERM');
  await rm(dir, { recursive: true, force: true });
});

describe('chatsim live: target errors are one line and exit 2, before the run', () => {
  it('refuses process faults against --url, naming them', async () => {
    const { code, err } = await runMain([
      'live',
      'crash-restart',
      '--url',
      server.url,
      '--jwt-secret',
      secret,
    ]);
    expect(code).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/CHATSIM|chatsim: /);
    expect(err[0]).toContain('node-crash needs server processes the driver owns');
  });

  it('refuses a run whose node could not hold its clients under the open-file limit, naming the --nodes that would', async () => {
    // Linux never allows unlimited open files (RLIMIT_NOFILE is capped by fs.nr_open).
    const limit = openFilesLimit();
    expect(Number.isFinite(limit)).toBe(true);
    const clients = limit! + 1000;
    const args = ['live', 'steady', '--clients', String(clients), '--nodes', '1', '--seed', '1'];
    const { code, err } = await runMain(args);
    expect(code).toBe(2);
    expect(err).toHaveLength(1);
    const shown = clients.toLocaleString('en-US');
    expect(err[0]).toContain(`${shown} clients on 1 node would put ${shown} sockets on one node, above the`);
    expect(err[0]).toMatch(/use --nodes 2 or more, or --clients [\d,]+ or fewer/);
  });

  it('refuses a rolling restart against --url, naming it', async () => {
    const faults = join(dir, 'rolling.json');
    await writeFile(faults, JSON.stringify([{ type: 'rolling-restart', atMs: 100 }]));
    const args = ['live', 'steady', '--faults', faults, '--url', server.url, '--jwt-secret', secret];
    const { code, err } = await runMain(args);
    expect(code).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toContain('rolling-restart needs server processes the driver owns');
  });

  it('refuses redis-latency without a fleet over Redis (--nodes 1)', async () => {
    const faults = join(dir, 'redis-latency.json');
    await writeFile(faults, JSON.stringify([{ type: 'redis-latency', atMs: 100 }]));
    const { code, err } = await runMain(['live', 'steady', '--faults', faults, '--nodes', '1']);
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('redis-latency has no live meaning (only a fleet over Redis');
  });

  it('refuses faults with no live meaning by name (store-outage)', async () => {
    const { code, err } = await runMain(['live', 'store-outage', '--nodes', '1']);
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('store-outage has no live meaning');
  });

  it('refuses a scenario whose faults name a node the target lacks (node-down on --nodes 1), naming --nodes 2', async () => {
    const { code, err } = await runMain(['live', 'node-down', '--nodes', '1', '--seed', '1']);
    expect(code).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toContain(
      'node-down is written for 2 nodes (topology.nodes) and node-crash@1000ms names node 1; this target has 1: use --nodes 2',
    );
  });

  it("gives reference nodes the scenario's topology when --nodes is left out, and says so", () => {
    const lines: string[] = [];
    const io: CliIo = { out: () => {}, err: (line) => lines.push(line), env: {} };
    const flags = { bug: [], url: [], progress: false, metricsHost: '127.0.0.1' };
    expect(withScenarioNodes(loadScenario('node-down'), flags, io).nodes).toBe(2);
    expect(lines).toEqual([
      'chatsim live: node-down runs on 2 reference nodes over a shared Redis, as its topology says (--nodes N to choose)',
    ]);
    expect(withScenarioNodes(loadScenario('node-down'), { ...flags, nodes: 3 }, io).nodes).toBe(3);
    expect(withScenarioNodes(loadScenario('steady'), flags, io).nodes).toBeUndefined();
    expect(
      withScenarioNodes(loadScenario('node-down'), { ...flags, url: [server.url] }, io).nodes,
    ).toBeUndefined();
    expect(lines).toHaveLength(1);
  });

  it('with --skip-refused names each fault it drops, then runs the rest (here: stops at the unreachable URL)', async () => {
    const args = [
      'live',
      'crash-restart',
      '--skip-refused',
      '--url',
      'http://127.0.0.1:1',
      '--jwt-secret',
      secret,
    ];
    const { code, err } = await runMain(args);
    expect(code).toBe(2);
    const crash = (at: number) =>
      `chatsim live: SKIP fault node-crash@${at}ms: node-crash needs server processes the driver owns (--nodes or --server-cmd), not --url`;
    expect(err.slice(0, 4)).toEqual([
      crash(2000),
      crash(7000),
      'chatsim live: SKIP fault disk-torn-write@7900ms: disk-torn-write has no live meaning (a fault of the simulated disk under the real log (the simulator only))',
      crash(12000),
    ]);
    expect(err.at(-1)).toContain('is the server running there?');
  });

  it('names an unreachable URL', async () => {
    const { code, err } = await runMain([
      'live',
      'steady',
      '--url',
      'http://127.0.0.1:1',
      '--jwt-secret',
      secret,
    ]);
    expect(code).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toContain('http://127.0.0.1:1');
    expect(err[0]).toContain('is the server running there?');
  });

  it('names a wrong secret: every hello refused', async () => {
    const { code, err } = await runMain([
      'live',
      'steady',
      '--url',
      server.url,
      '--jwt-secret',
      'not-the-secret-0123456789abcdef',
    ]);
    expect(code).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toContain('every hello is refused (close 4401');
  });

  it('names a server command that does not start', async () => {
    const { code, err } = await runMain([
      'live',
      'steady',
      '--server-cmd',
      'sh -c "echo cannot open {dataDir} >&2; exit 3" {port}',
      '--jwt-secret',
      secret,
    ]);
    expect(code).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/exited \(3\) before it was ready: cannot open/);
  });

  it('names a taken port', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const { code, err } = await runMain(['live', 'steady', '--nodes', '1', '--port', String(port)]);
      expect(code).toBe(2);
      expect(err).toHaveLength(1);
      expect(err[0]).toContain(`port ${port} on 127.0.0.1 is in use`);
    } finally {
      taken.close();
    }
  });

  it('asks for the secret with --url and refuses two targets', async () => {
    const noSecret = await runMain(['live', 'steady', '--url', server.url]);
    expect(noSecret.code).toBe(2);
    expect(noSecret.err[0]).toContain('--jwt-secret <secret> is required with --url');
    const two = await runMain([
      'live',
      'steady',
      '--nodes',
      '1',
      '--url',
      server.url,
      '--jwt-secret',
      secret,
    ]);
    expect(two.code).toBe(2);
    expect(two.err[0]).toContain('use one target');
  });

  it('refuses --redis-cluster without --nodes, and --redis-wait-replicas without --redis-cluster', async () => {
    const noNodes = await runMain(['live', 'steady', '--redis-cluster']);
    expect([noNodes.code, noNodes.err]).toEqual([
      2,
      [
        "chatsim: --redis-cluster starts a Redis Cluster for the nodes: use it with --nodes and without --redis (see 'chatsim live --help')",
      ],
    ]);
    const noCluster = await runMain(['live', 'steady', '--nodes', '2', '--redis-wait-replicas', '1']);
    expect(noCluster.code).toBe(2);
    expect(noCluster.err).toEqual([
      "chatsim: --redis-wait-replicas needs --redis-cluster (see 'chatsim live --help')",
    ]);
  });

  it("refuses --large-group-threshold for reference nodes: they run with the scenario's", async () => {
    const { code, err } = await runMain(['live', 'steady', '--nodes', '1', '--large-group-threshold', '50']);
    expect([code, err]).toEqual([
      2,
      [
        "chatsim: --large-group-threshold describes your server (--server-cmd or --url): reference nodes get the scenario's (limits.largeGroupThreshold)",
      ],
    ]);
  });
});

describe('chatsim gate --live --parallel', () => {
  it('refuses --parallel against --url (the runs would share one server): exit 2, one line', async () => {
    const { code, err } = await runMain([
      'gate',
      '--live',
      '--parallel',
      '2',
      '--url',
      server.url,
      '--jwt-secret',
      secret,
    ]);
    expect(code).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toContain('--parallel runs each scenario on servers of its own');
  });

  it('refuses --parallel 0 (a gate with no lanes would judge nothing)', async () => {
    const { code, err } = await runMain(['gate', '--live', '--parallel', '0', '--nodes', '1']);
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('--parallel');
  });
});

describe('chatsim live --server-cmd', () => {
  it('runs a scenario to a verdict against a server it starts from a command line', async () => {
    const faults = join(dir, 'faults.json');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(faults, JSON.stringify([{ type: 'node-crash', atMs: 1000, durationMs: 500, node: 0 }]));
    const { code, out, err } = await runMain([
      'live',
      'steady',
      '--clients',
      '40',
      // A faults phase of 6 s (steady's is 16 s): the crash at 1 s and its heal fit with room.
      '--duration',
      '6s',
      '--seed',
      '5',
      '--faults',
      faults,
      '--json',
      '--server-cmd',
      `${process.execPath} ${binPath} serve --port {port} --data-dir {dataDir}`,
      '--jwt-secret',
      secret,
    ]);
    const summary = JSON.parse(out.join('\n')) as {
      verdicts: { property: string; verdict: string }[];
      slo: { name: string; pass: boolean }[];
      exitCode: number;
    };
    expect(summary.verdicts.filter((v) => v.verdict !== 'pass')).toEqual([]);
    // steady's ack-latency SLO may break under a crash; every property must hold.
    expect(code).toBe(summary.slo.every((s) => s.pass) ? 0 : 2);
    expect(err.some((line) => /fault node-crash \(node 0, 0\.5 s\): started/.test(line))).toBe(true);
    expect(err.some((line) => /fault node-crash \(node 0, 0\.5 s\): healed/.test(line))).toBe(true);
  }, 120_000);
});
