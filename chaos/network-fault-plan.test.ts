// The fault vocabulary's mapping onto toxics: each network fault becomes the toxics it names, with the
// simulator's defaults; the faults with no network meaning are named, with the reason.

import { describe, expect, it } from 'vitest';
import { faultTypes } from '../scenarios/scenario.ts';
import { liveFaultDefaults, liveNetworkMeaning, planNetworkFault } from './network-fault-plan.ts';

describe('planNetworkFault', () => {
  it('a client partition blackholes both ways on every node, for the fault duration', () => {
    const plan = planNetworkFault({ type: 'partition', atMs: 0, durationMs: 3000, fraction: 0.4 }, 3);
    expect(plan).toMatchObject({
      kind: 'toxics',
      fraction: 0.4,
      allGroups: false,
      nodes: [0, 1, 2],
      durationMs: 3000,
    });
    if (plan.kind !== 'toxics') throw new Error('unreachable');
    expect(plan.toxics).toEqual([
      { type: 'timeout', stream: 'upstream', toxicity: 1, attributes: { timeout: 0 } },
      { type: 'timeout', stream: 'downstream', toxicity: 1, attributes: { timeout: 0 } },
    ]);
  });

  it('a node partition touches every group, on that node only', () => {
    const plan = planNetworkFault({ type: 'partition', atMs: 0, durationMs: 1, target: 'node', node: 1 }, 2);
    expect(plan).toMatchObject({ kind: 'toxics', allGroups: true, nodes: [1] });
  });

  it('latency, bandwidth and slow consumers carry their parameters, defaults from the simulator', () => {
    const latency = planNetworkFault(
      { type: 'latency', atMs: 0, durationMs: 1, latencyMs: 150, jitterMs: 20 },
      1,
    );
    expect(latency.kind === 'toxics' && latency.toxics.map((t) => [t.type, t.stream, t.attributes])).toEqual([
      ['latency', 'upstream', { latency: 150, jitter: 20 }],
      ['latency', 'downstream', { latency: 150, jitter: 20 }],
    ]);
    const slow = planNetworkFault({ type: 'slow-consumer', atMs: 0, durationMs: 1 }, 1);
    expect(slow.kind === 'toxics' && slow.toxics).toEqual([
      { type: 'bandwidth', stream: 'downstream', toxicity: 1, attributes: { rate: 2 } },
    ]);
    const tiny = planNetworkFault({ type: 'bandwidth', atMs: 0, durationMs: 1, bytesPerSec: 10 }, 1);
    expect(tiny.kind === 'toxics' && tiny.toxics[0]!.attributes).toEqual({ rate: 1 });
    expect(planNetworkFault({ type: 'latency', atMs: 0 }, 1)).toMatchObject({
      fraction: liveFaultDefaults.fraction,
    });
  });

  it('act-once faults get a live duration; a reconnect storm bounces proxies', () => {
    expect(planNetworkFault({ type: 'timeout', atMs: 0 }, 1)).toMatchObject({
      durationMs: liveFaultDefaults.timeoutMs,
    });
    expect(planNetworkFault({ type: 'reset_peer', atMs: 0 }, 1)).toMatchObject({
      durationMs: liveFaultDefaults.resetPeerMs,
    });
    expect(planNetworkFault({ type: 'reconnect-storm', atMs: 0 }, 1)).toMatchObject({
      kind: 'bounce',
      fraction: liveFaultDefaults.reconnectStormFraction,
      durationMs: 0,
    });
  });

  it('names every fault with no network meaning, and a store partition', () => {
    const none = faultTypes.filter((type) => !liveNetworkMeaning(type).network);
    expect(none).toEqual([
      'node-crash',
      'node-pause',
      'store-outage',
      'store-flaky',
      'clock-offset',
      'redis-latency',
      'rolling-restart',
    ]);
    for (const type of none) expect(planNetworkFault({ type, atMs: 0 }, 1)).toMatchObject({ kind: 'none' });
    expect(planNetworkFault({ type: 'partition', atMs: 0, target: 'store' }, 1)).toMatchObject({
      kind: 'none',
    });
  });
});
