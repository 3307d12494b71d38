import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { loadScenario } from '../../scenarios/load-scenario.ts';
import type { FromGenerator, GeneratorPlan } from './generator-messages.ts';
import { LiveShard } from './live-shard.ts';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A WebSocket server that only counts the connections it is offered. */
async function countingServer(): Promise<{ url: string; connections: () => number }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(server);
  await once(server, 'listening');
  let connections = 0;
  server.on('connection', () => connections++);
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

describe('LiveShard', () => {
  it('a churn step due before settle but run after it (a stalled generator) brings no leaver back online', async () => {
    // Every user churns, stays offline until the workload's end (the churn step's `on` is clamped to
    // it), and leaves at settle. The settle command is handled before the tick that runs the steps due
    // at the workload's end, as on a generator whose loop stalled across settle (its IPC read before its
    // timers' work) or whose tick simply came after the command. Before the fix the leaver's late
    // `goOnline` reconnected it: a device that status() no longer counts, flushing its outbox while the
    // driver's final read runs, so an ack it gets is missing from that read (a false durable-ack red).
    const server = await countingServer();
    const base = loadScenario('steady');
    const scenario = {
      ...base,
      workload: {
        ...base.workload,
        ratePer1kClients: 0,
        pressers: 0,
        watchPerClient: 0,
        churnFraction: 1,
        churnOfflineMs: 1e9,
        leaveFraction: 1,
      },
    };
    const workloadEndMs = 100;
    const plan: GeneratorPlan = {
      shard: 0,
      shards: 1,
      seed: 1,
      scenario,
      devices: [{ index: 0, user: 'u0', device: 'u0-d0', home: 0, convs: ['g0'] }],
      nodeUrls: [[server.url]],
      secret: 'live-shard-test-secret',
      workloadEndMs,
      warmupMs: 0,
      connectSpreadMs: 1,
    };
    const messages: FromGenerator[] = [];
    const shard = new LiveShard(plan, (message) => messages.push(message));
    shard.start(performance.timeOrigin + performance.now());
    shard.settle();
    // Well past the workload's end: every step of the agenda has been due for a while.
    await new Promise((resolve) => setTimeout(resolve, workloadEndMs + 400));
    const connects = shard.status().connects;
    shard.finish();
    expect(connects).toBe(0);
    expect(server.connections()).toBe(0);
  });
});
