// End-to-end delivery latency of `chatsim live` beside the bare `ws` floor, in the same run, and the
// connect rate the live generators sustain, direct and through the Toxiproxy layer (issue #6).
// Delivery: at a fixed rate (open model, latency from each send's scheduled time), 1:1 (rooms of 2)
// and 50-member groups, first on the raw broadcast server (raw-delivery-worker.ts, a child process),
// then through the live driver against one reference node (its generators in child processes, the
// sans-I/O client, the log store with fsync before every ack). Connect: every client of a live run
// starts within 0.5 s; the figure is welcomed sessions per second from the first attempt to the last
// welcome, with and without proxies; beside it, bare `ws` opens/s (64 at a time) in the same run.
//   npm run bench:delivery -- [--seconds 15] [--direct-clients 200] [--direct-rate 200]
//     [--group-clients 100] [--group-rate 20] [--connect-clients 2000] [--seed 1] [--json]

import { parseArgs } from 'node:util';
import { validateScenario } from '../scenarios/scenario.ts';
import type { HistoryEvent } from '../simulator/history.ts';
import { referenceFleet } from '../simulator/live/reference-fleet.ts';
import { type Quantiles, runLive } from '../simulator/live/run-live.ts';
import { ChildGroup } from './child-group.ts';
import { benchLimits } from './limits.ts';
import { type RawDeliveryFigures, runRawDelivery } from './raw-delivery.ts';

const secret = 'bench-delivery-secret-0123456789abcdef';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    'direct-clients': { type: 'string', default: '200' },
    'direct-rate': { type: 'string', default: '200' },
    'group-clients': { type: 'string', default: '100' },
    'group-rate': { type: 'string', default: '20' },
    'connect-clients': { type: 'string', default: '2000' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const number = (name: keyof typeof values, min: number, max: number): number => {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value < min || value > max) {
    process.stderr.write(`--${name} must be a number in ${min}..${max}, got ${values[name]}\n`);
    process.exit(2);
  }
  return value;
};
const seconds = number('seconds', 3, benchLimits.secondsMax);
const seed = number('seed', 0, 2 ** 31);

type Row = { figure: string; chatsim: string; raw: string; ratio: string };

const rawDelivery = (group: ChildGroup, rooms: number, roomSize: number, ratePerSec: number) =>
  runRawDelivery(group, 'broadcast', { rooms, roomSize, ratePerSec, seconds, warmupSeconds: 2 });

/** A live run of `clients` single-device users against one fresh reference node; no faults. */
async function liveRun(
  clients: number,
  conversations: Record<string, number>,
  ratePerSec: number,
  options: { warmupMs: number; faultsMs: number; proxies?: boolean; observe?: (e: HistoryEvent) => void },
) {
  const scenario = validateScenario(
    {
      clients: { count: clients, devicesPerUser: 1 },
      conversations,
      workload: {
        ratePer1kClients: (ratePerSec * 1000) / clients,
        readProbability: 0,
        typingProbability: 0,
        watchPerClient: 0,
      },
      phases: { warmupMs: options.warmupMs, faultsMs: options.faultsMs, healMs: 0, settleMaxMs: 30_000 },
      limits: { userSendsPerSec: 1000, userSendBurst: 1000 },
      thresholds: { ackLatency: [], failedSends: [] },
    },
    'bench-delivery.json',
    'bench-delivery',
  );
  return runLive(scenario, {
    seed,
    fleet: referenceFleet({ nodes: 1, secret, limits: scenario.limits, bugs: [] }),
    secret,
    ...(options.proxies ? { proxies: true } : {}),
    ...(options.observe ? { recorder: { observe: options.observe, tick: () => {} } } : {}),
  });
}

/** Welcomed first sessions per second, from the first client's attempt to the last welcome. */
async function connectRate(clients: number, proxies: boolean): Promise<{ perSec: number; welcomed: number }> {
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  let welcomed = 0;
  await liveRun(clients, { directPerUser: 1, groupFraction: 0 }, 0, {
    warmupMs: 1000,
    faultsMs: 4000,
    proxies,
    observe: (event) => {
      if (event.k !== 'session' || !event.first) return;
      welcomed++;
      first = Math.min(first, event.at - event.connectMs);
      last = Math.max(last, event.at);
    },
  });
  return { perSec: welcomed / ((last - first) / 1000), welcomed };
}

const ms = (q: { p50: number; p99: number; p999: number }) =>
  `${q.p50.toFixed(1)} / ${q.p99.toFixed(1)} / ${q.p999.toFixed(1)}`;
const ratio = (a: Quantiles, b: RawDeliveryFigures) => `${(a.p50 / b.p50).toFixed(0)}x at p50`;

async function main(): Promise<void> {
  const group = new ChildGroup();
  const rows: Row[] = [];
  try {
    const directClients = number('direct-clients', 2, 8000);
    const directRate = number('direct-rate', 1, 20_000);
    const groupClients = Math.max(50, Math.floor(number('group-clients', 50, 8000) / 50) * 50);
    const groupRate = number('group-rate', 1, 2000);
    const connectClients = number('connect-clients', 10, 19_000);

    const rawDirect = await rawDelivery(group, Math.floor(directClients / 2), 2, directRate);
    const liveDirect = await liveRun(directClients, { directPerUser: 1, groupFraction: 0 }, directRate, {
      warmupMs: 3000,
      faultsMs: seconds * 1000,
    });
    const d = liveDirect.live!.latencyMs.deliveryDirect;
    rows.push({
      figure: `1:1 delivery p50 / p99 / p999 ms at ${directRate} msgs/s, ${directClients} clients (${d.count} deliveries; raw ${rawDirect.deliveries})`,
      chatsim: ms(d),
      raw: ms(rawDirect),
      ratio: ratio(d, rawDirect),
    });

    const rawGroup = await rawDelivery(group, groupClients / 50, 50, groupRate);
    const liveGroup = await liveRun(
      groupClients,
      { directPerUser: 0, groupSize: 50, groupFraction: 1 },
      groupRate,
      { warmupMs: 3000, faultsMs: seconds * 1000 },
    );
    const g = liveGroup.live!.latencyMs.deliveryGroup;
    rows.push({
      figure: `50-member group delivery p50 / p99 / p999 ms at ${groupRate} msgs/s (${groupRate * 49} deliveries/s), ${groupClients} clients (${g.count} deliveries; raw ${rawGroup.deliveries})`,
      chatsim: ms(g),
      raw: ms(rawGroup),
      ratio: ratio(g, rawGroup),
    });

    const rawConnect = await rawDelivery(group, Math.floor(connectClients / 2), 2, 1);
    const direct = await connectRate(connectClients, false);
    const proxied = await connectRate(connectClients, true);
    rows.push({
      figure: `connect rate, ${connectClients} clients (hello to welcome), direct`,
      chatsim: `${direct.perSec.toFixed(0)}/s (${direct.welcomed} welcomed)`,
      raw: `${rawConnect.connectsPerSec.toFixed(0)}/s (bare opens)`,
      ratio: `${((100 * direct.perSec) / rawConnect.connectsPerSec).toFixed(0)}%`,
    });
    rows.push({
      figure: `connect rate, ${connectClients} clients, through the Toxiproxy layer`,
      chatsim: `${proxied.perSec.toFixed(0)}/s (${proxied.welcomed} welcomed)`,
      raw: `${rawConnect.connectsPerSec.toFixed(0)}/s (bare opens)`,
      ratio: `${((100 * proxied.perSec) / rawConnect.connectsPerSec).toFixed(0)}%`,
    });
    const loadLimited = [liveDirect, liveGroup].some((s) => s.live!.loadLimited);
    if (values.json) process.stdout.write(`${JSON.stringify({ rows, loadLimited }, null, 2)}\n`);
    else {
      process.stdout.write(
        '| figure | chatsim live | raw ws, same run | chatsim / raw |\n| --- | --- | --- | --- |\n',
      );
      for (const row of rows)
        process.stdout.write(`| ${row.figure} | ${row.chatsim} | ${row.raw} | ${row.ratio} |\n`);
      if (loadLimited)
        process.stdout.write('\na generator passed 85% of its core: latencies are load-limited\n');
    }
  } finally {
    await group.close();
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`bench:delivery failed: ${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
