// Live generator memory per virtual client (issue #6 aims at 5 KB beside its socket): two live runs
// against one reference node, a small and a large one, idle-ish (the steady shape at 20 msgs/s per
// 1,000 clients, watches on), each generator reporting the peak resident set and JS heap it sampled
// once a second; the marginal cost per client is the difference over the difference in clients, so
// the process's fixed cost (Node, tsx, code) drops out. Beside it, in the same run, the bare socket:
// the same numbers of plain `ws` connections held open by a process that does nothing else.
//   npm run bench:memory -- [--small 200] [--large 4000] [--seed 1] [--json]

import { parseArgs } from 'node:util';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { referenceFleet } from '../simulator/live/reference-fleet.ts';
import { runLive } from '../simulator/live/run-live.ts';
import { ChildGroup } from './child-group.ts';
import { runRawDelivery } from './raw-delivery.ts';

const secret = 'bench-memory-secret-0123456789abcdef';

const { values } = parseArgs({
  options: {
    small: { type: 'string', default: '200' },
    large: { type: 'string', default: '4000' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const small = Number(values.small);
const large = Number(values.large);
if (!(small >= 10 && large > small && large <= 18_000)) {
  process.stderr.write('--small and --large must satisfy 10 <= small < large <= 18000\n');
  process.exit(2);
}

type Memory = { rss: number; heap: number };

async function liveMemory(clients: number): Promise<Memory> {
  const steady = loadScenario('steady');
  const scenario = {
    ...steady,
    clients: { ...steady.clients, count: clients },
    workload: { ...steady.workload, ratePer1kClients: 20 },
    phases: { warmupMs: 12_000, faultsMs: 15_000, healMs: 1000, settleMaxMs: 30_000 },
    thresholds: { ...steady.thresholds, ackLatency: [], failedSends: [] },
  };
  const summary = await runLive(scenario, {
    seed: Number(values.seed),
    fleet: referenceFleet({ nodes: 1, secret, limits: scenario.limits, bugs: [] }),
    secret,
  });
  const live = summary.live!;
  return { rss: live.generatorRssBytesMax, heap: live.generatorHeapBytesMax };
}

async function socketMemory(group: ChildGroup, sockets: number): Promise<Memory> {
  const options = { rooms: sockets, roomSize: 1, ratePerSec: 1, seconds: 1, warmupSeconds: 0 };
  const figures = await runRawDelivery(group, 'echo', options);
  return { rss: figures.openRssBytes, heap: figures.openHeapUsedBytes };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MiB`;

async function main(): Promise<void> {
  const group = new ChildGroup();
  try {
    const socketSmall = await socketMemory(group, small);
    const socketLarge = await socketMemory(group, large);
    const liveSmall = await liveMemory(small);
    const liveLarge = await liveMemory(large);
    const per = (a: Memory, b: Memory) => ({
      rss: (b.rss - a.rss) / (large - small),
      heap: (b.heap - a.heap) / (large - small),
    });
    const client = per(liveSmall, liveLarge);
    const socket = per(socketSmall, socketLarge);
    const result = {
      clients: { small, large },
      generator: { small: liveSmall, large: liveLarge, perClient: client },
      bareSocket: { small: socketSmall, large: socketLarge, perSocket: socket },
      beyondSocket: { rss: client.rss - socket.rss, heap: client.heap - socket.heap },
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      [
        '| what | peak RSS | peak JS heap |',
        '| --- | --- | --- |',
        `| live generator, ${small} clients | ${mib(liveSmall.rss)} | ${mib(liveSmall.heap)} |`,
        `| live generator, ${large} clients | ${mib(liveLarge.rss)} | ${mib(liveLarge.heap)} |`,
        `| **per virtual client, with its socket** | **${kb(client.rss)}** | **${kb(client.heap)}** |`,
        `| bare ws sockets held open, ${small} / ${large} | ${mib(socketSmall.rss)} / ${mib(socketLarge.rss)} | ${mib(socketSmall.heap)} / ${mib(socketLarge.heap)} |`,
        `| per bare socket | ${kb(socket.rss)} | ${kb(socket.heap)} |`,
        `| **per virtual client beyond its socket** | **${kb(client.rss - socket.rss)}** | **${kb(client.heap - socket.heap)}** |`,
      ].join('\n') + '\n',
    );
  } finally {
    await group.close();
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`bench:memory failed: ${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
