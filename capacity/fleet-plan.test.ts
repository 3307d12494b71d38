import { describe, expect, it } from 'vitest';
import type { CapacityReport } from './capacity-sweep.ts';
import { type PlanInput, parseGroupSizeMix, planFleet } from './fleet-plan.ts';
import { findKnee, type RepeatResult, type StepResult } from './knee.ts';

const repeat = (
  acked: number,
  displayed: number,
  broke: string[] = [],
  bytes: number | null = 51_200,
): RepeatResult => ({
  exitCode: broke.length === 0 ? 0 : 2,
  broke,
  sentPerSec: acked,
  ackedPerSec: acked,
  displayedPerSec: displayed,
  failedSends: 0,
  ackP99Ms: 100,
  deliveryP99Ms: 100,
  serverCpuShare: 0.5,
  serverBytesPerConnection: bytes,
  serverConnectionsPeak: 1000,
  generatorCpuShareMax: 0.3,
  generatorRssBytesMax: 1,
  generatorLimited: false,
});

function sweep(steps: StepResult[]): CapacityReport {
  return {
    scenario: 's',
    seed: 1,
    target: '--nodes 1',
    repeats: 2,
    stepMs: 10_000,
    thresholds: { ackLatency: [], failedSends: [] } as never,
    steps,
    knee: findKnee(steps),
  };
}

const node = sweep([
  {
    phase: 'connections',
    clients: 1000,
    offeredMsgsPerSec: 100,
    held: true,
    repeats: [repeat(100, 300), repeat(100, 300)],
  },
  {
    phase: 'rate',
    clients: 1000,
    offeredMsgsPerSec: 400,
    held: true,
    repeats: [repeat(390, 1150), repeat(410, 1250)],
  },
  {
    phase: 'rate',
    clients: 1000,
    offeredMsgsPerSec: 800,
    held: false,
    repeats: [repeat(500, 1500, ['threshold ackLatency p(99)<=500 (actual 900)'])],
  },
]);

const input: PlanInput = {
  targetOnline: 5_000_000,
  msgsPerUserHour: 20,
  devicesPerUser: 1,
  groupSizeMix: [{ size: 2, share: 1 }],
  headroom: 0.5,
  node,
  assumedScalingEfficiency: 0.8,
  nodeMemoryBytes: 16 * 2 ** 30,
  redisCpuUsPerMsg: 21.7,
  storeWritesPerSecPerNode: 10_000,
  storeReplication: 3,
  bodyBytes: 64,
  storeOverheadBytes: 100,
  retentionDays: 30,
};

describe('planFleet', () => {
  it('sizes nodes by the tightest bound, with the arithmetic shown', () => {
    const plan = planFleet(input);
    expect(plan.perNode).toEqual({
      connections: 1000,
      connectionsLowerBound: true,
      msgsPerSec: 400,
      deliveriesPerSec: 1200,
      bytesPerConnection: 51_200,
    });
    // 5e6 connections / (1000 x 0.5) = 10,000; memory: 5e6 / (16 GiB / 50 KiB x 0.5) = 29.8 -> 30;
    // msgs: 27,777.8 / (400 x 0.5 x 0.8) = 173.6 -> 174; deliveries: 27,777.8 / (1200 x 0.5 x 0.8) -> 58.
    expect(plan.nodes).toBe(10_000);
    expect(plan.boundBy).toBe('connections');
    expect(plan.lines).toContain('  by memory        ceil(5,000,000 / (16 GiB / 50 KiB x 0.5)) = 30');
    expect(plan.lines).toContain('  by msgs/s        ceil(27,777.8 / (400 x 0.5 x 0.8)) = 174');
    expect(plan.lines).toContain('  by deliveries/s  ceil(27,777.8 / (1,200 x 0.5 x 0.8)) = 58');
    expect(plan.lines.some((l) => l.includes('LOWER BOUND'))).toBe(true);
    expect(plan.lines.some((l) => l.includes('ASSUMED 0.8'))).toBe(true);
    // Redis: 27,777.8 x 21.7 us = 0.603 cores / 0.5 -> 2 shards. Store: 83,333 writes/s / 5,000 -> 17 nodes.
    expect(plan.redisShards).toBe(2);
    expect(plan.storeNodes).toBe(17);
    expect(plan.storeBytes).toBeCloseTo(((5_000_000 * 20) / 3600) * 86_400 * 30 * 164 * 3, 0);
  });

  it('throughput binds once connections are measured higher, and a measured fleet sets the scaling', () => {
    const fleet = sweep([
      { phase: 'rate', clients: 3000, offeredMsgsPerSec: 960, held: true, repeats: [repeat(960, 2880)] },
    ]);
    const plan = planFleet({
      ...input,
      msgsPerUserHour: 2000,
      fleet: { report: fleet, nodes: 3 },
      nodeMemoryBytes: 2 ** 40,
    });
    expect(plan.scalingMeasured).toBe(true);
    expect(plan.scalingEfficiency).toBeCloseTo(0.8);
    // 5e6 x 2000 / 3600 = 2,777,777.8 msgs/s / (400 x 0.5 x 0.8 = 160) = 17,361.1 -> 17,362 > 10,000.
    expect(plan.nodes).toBe(17_362);
    expect(plan.boundBy).toBe('msgs/s');
  });

  it("fan-out: group messages reach every other member on every device, and the sender's other devices", () => {
    const plan = planFleet({ ...input, devicesPerUser: 2, groupSizeMix: parseGroupSizeMix('2:0.5,11:0.5') });
    // (0.5 x 1 + 0.5 x 10) = 5.5 members x 2 devices + 1 own = 12 deliveries per message.
    expect(plan.lines.some((l) => l.includes('= 5.5 other members x 2 devices + 1 own) = 333,333.3'))).toBe(
      true,
    );
  });

  it('refuses a sweep with no held step, a mix that does not add up, a headroom out of range', () => {
    const broken = sweep([
      {
        phase: 'connections',
        clients: 10,
        offeredMsgsPerSec: 2,
        held: false,
        repeats: [repeat(1, 1, ['did not settle'])],
      },
    ]);
    expect(() => planFleet({ ...input, node: broken })).toThrow(/no step that held/);
    expect(() => parseGroupSizeMix('2:0.5,8:0.4')).toThrow(/add up to 0.9/);
    expect(() => parseGroupSizeMix('1:1')).toThrow(/SIZE:SHARE/);
    expect(() => planFleet({ ...input, headroom: 1.5 })).toThrow(/headroom/);
  });
});
