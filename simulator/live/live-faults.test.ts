// Which faults a live target refuses before the run: over a Redis Cluster (--redis-cluster) the store
// fault is a master failover, and the faults that need a proxy between the nodes and Redis are refused
// by name instead of failing mid-run.

import { describe, expect, it } from 'vitest';
import type { FaultSpec } from '../../scenarios/scenario.ts';
import { liveRefusal } from './live-faults.ts';

const spec = (fields: Partial<FaultSpec> & { type: FaultSpec['type'] }) =>
  ({ atMs: 1000, durationMs: 1000, ...fields }) as FaultSpec;
const cluster = { canSignal: true, network: false, redis: { owned: true, cluster: true } };
const single = { canSignal: true, network: false, redis: { owned: true } };

describe('liveRefusal over Redis', () => {
  it('lets a Redis Cluster fleet run store-outage (the failover) and refuses what needs a proxy', () => {
    expect(liveRefusal(spec({ type: 'store-outage' }), cluster)).toBeNull();
    expect(liveRefusal(spec({ type: 'redis-latency' }), cluster)).toMatch(
      /redis-latency is not supported with --redis-cluster/,
    );
    expect(liveRefusal(spec({ type: 'partition', target: 'store', node: 0 }), cluster)).toMatch(
      /partition target store is not supported with --redis-cluster/,
    );
  });

  it('lets a fleet over one Redis run all three', () => {
    for (const fault of [
      spec({ type: 'store-outage' }),
      spec({ type: 'redis-latency' }),
      spec({ type: 'partition', target: 'store', node: 0 }),
    ])
      expect(liveRefusal(fault, single)).toBeNull();
  });
});
