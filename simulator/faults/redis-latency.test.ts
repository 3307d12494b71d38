import { beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../kernel/prng.ts';
import type { World } from '../world/world.ts';
import type { FaultContext } from './fault.ts';
import {
  ackLatencies,
  type FaultRun,
  failedVerdicts,
  faultRunTimeoutMs,
  quantile,
  runFault,
  sharedStoreFleet,
} from './fault-harness.ts';
import { redisLatency } from './redis-latency.ts';

describe('redis latency', () => {
  let control: FaultRun;
  let slowed: FaultRun;
  beforeAll(async () => {
    [control, slowed] = await Promise.all([
      runFault(null, sharedStoreFleet),
      runFault(
        { type: 'redis-latency', atMs: 0, durationMs: 3000, latencyMs: 300, jitterMs: 100 },
        sharedStoreFleet,
      ),
    ]);
  }, faultRunTimeoutMs);

  it('slows every store round trip of every node while it lasts (a request and its answer, each 300 ± 100 ms)', () => {
    const during = ackLatencies(slowed, slowed.start, slowed.heal - 1000);
    expect(during.length).toBeGreaterThan(30);
    expect(Math.min(...during)).toBeGreaterThanOrEqual(400);
    expect(quantile(during, 0.5)).toBeGreaterThanOrEqual(550);
    const calm = ackLatencies(control, slowed.start, slowed.heal - 1000);
    expect(quantile(calm, 0.99)).toBeLessThan(100);
  });

  it('is gone after the heal, and nothing is lost or reordered', () => {
    const after = ackLatencies(slowed, slowed.heal + 1000, slowed.heal + 4000);
    expect(after.length).toBeGreaterThan(30);
    expect(quantile(after, 0.99)).toBeLessThan(100);
    expect(failedVerdicts(slowed)).toEqual([]);
  });

  it(
    'on one node only: the other nodes answer at their own pace',
    async () => {
      const run = await runFault(
        { type: 'redis-latency', atMs: 0, durationMs: 3000, node: 1, latencyMs: 300 },
        sharedStoreFleet,
      );
      const during = ackLatencies(run, run.start, run.heal - 1000);
      const slow = during.filter((ms) => ms >= 600).length;
      expect(slow).toBeGreaterThan(during.length / 6);
      expect(slow).toBeLessThan(during.length / 2);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );

  it('keeps the later of two windows on one node open when the earlier one heals (handed over at one instant)', () => {
    const set: [number[], number, number][] = [];
    const network = {
      setStoreLatency: (nodes: readonly number[], extraMs: number, jitterMs: number) =>
        set.push([[...nodes], extraMs, jitterMs]),
    };
    const world = { nodes: [{ index: 0 }, { index: 1 }, { index: 2 }], network } as unknown as World;
    const context = (latencyMs: number, jitterMs: number, node?: number): FaultContext => ({
      world,
      spec: {
        type: 'redis-latency',
        atMs: 0,
        durationMs: 1,
        latencyMs,
        jitterMs,
        ...(node === undefined ? {} : { node }),
      },
      rng: new Prng(1),
      clientCount: 0,
    });
    const first = redisLatency.start(context(60, 60, 1))!;
    const second = redisLatency.start(context(200, 100, 1))!;
    first();
    expect(set.at(-1)).toEqual([[1], 200, 100]);
    const everyNode = redisLatency.start(context(30, 0))!;
    second();
    expect(set.at(-1)).toEqual([[1], 30, 0]);
    everyNode();
    expect(set.slice(-3)).toEqual([
      [[0], 0, 0],
      [[1], 0, 0],
      [[2], 0, 0],
    ]);
  });
});
