// What `WAIT 1 <timeout>` after every write costs the Redis store on a Redis Cluster (3 masters, 3
// replicas, AOF fsync always, started here): latency per send one at a time, then sends per second with
// many in flight, with and without WAIT, through the real RedisStore. Prints a table for
// docs/benchmarks.md.  npx tsx bench/redis-wait-bench.ts [sends=2000] [inFlight=64] [waitTimeoutMs=1000]

import { cpus } from 'node:os';
import { RedisCluster } from '../chaos/redis-cluster.ts';
import { RedisStore } from '../reference-server/store/redis-store.ts';
import { LatencyHistogram } from './latency-histogram.ts';

const [sends = 2000, inFlight = 64, waitTimeoutMs = 1000] = process.argv.slice(2).map(Number);

type Figures = { p50: number; p99: number; mean: number; perSecond: number; refused: number };

async function measure(
  cluster: RedisCluster,
  label: string,
  wait?: { replicas: number; timeoutMs: number },
): Promise<Figures> {
  const store = new RedisStore({
    url: '',
    cluster: cluster.nodes,
    prefix: `${label}:`,
    ...(wait ? { waitReplicas: wait } : {}),
  });
  await store.open();
  const convs = Array.from({ length: 30 }, (_, i) => `c${i}`);
  for (const id of convs) await store.createConversation({ id, kind: 'group', members: ['a'] });
  let refused = 0;
  const send = async (i: number) => {
    try {
      await store.append({
        conv: convs[i % convs.length]!,
        from: 'a',
        cmid: `m${i}`,
        body: `body ${i}`,
        ts: i,
      });
    } catch {
      refused++;
    }
  };
  const histogram = new LatencyHistogram();
  for (let i = 0; i < sends; i++) {
    const start = process.hrtime.bigint();
    await send(i);
    histogram.recordUs(Number((process.hrtime.bigint() - start) / 1000n));
  }
  const start = process.hrtime.bigint();
  let next = sends;
  const end = sends * 2;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < end) await send(next++);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await store.close();
  return {
    p50: histogram.percentileMs(50),
    p99: histogram.percentileMs(99),
    mean: histogram.meanMs(),
    perSecond: sends / seconds,
    refused,
  };
}

const cluster = await RedisCluster.start();
try {
  const rows: [string, Figures][] = [];
  // Twice each, alternating, so a burst of load from elsewhere on the box does not favour one side.
  for (let round = 0; round < 2; round++) {
    rows.push([`no WAIT (round ${round + 1})`, await measure(cluster, `plain${round}`)]);
    rows.push([
      `WAIT 1 ${waitTimeoutMs} (round ${round + 1})`,
      await measure(cluster, `wait${round}`, { replicas: 1, timeoutMs: waitTimeoutMs }),
    ]);
  }
  console.log(
    `${sends} sends one at a time, then ${sends} with ${inFlight} in flight; ${cpus().length} cores; ${new Date().toISOString()}`,
  );
  console.log('| mode | p50 ms (one at a time) | p99 ms | mean ms | sends/s (in flight) | refused |');
  console.log('|---|---|---|---|---|---|');
  for (const [label, f] of rows)
    console.log(
      `| ${label} | ${f.p50.toFixed(2)} | ${f.p99.toFixed(2)} | ${f.mean.toFixed(2)} | ${f.perSecond.toFixed(0)} | ${f.refused} |`,
    );
} finally {
  await cluster.dispose();
}
