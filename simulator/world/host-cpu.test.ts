import { describe, expect, it } from 'vitest';
import type { CostModel, HostShare } from './cost-model.ts';
import { HostCpu, speedMin } from './host-cpu.ts';

const model = (extra: Partial<CostModel> = {}): CostModel => ({
  name: 'test',
  measured: { command: 'test', date: 'today', machine: 'test' },
  inputUs: {},
  defaultInputUs: 10,
  effectUs: { frame: 0, recipient: 0, store: 0, publish: 0 },
  ...extra,
});
const host = (extra: Partial<HostShare> = {}): HostShare => ({
  cores: 2,
  othersFixedCores: 0,
  othersUsPerMessage: 0,
  others: 'driver',
  ...extra,
});

describe('HostCpu', () => {
  it('gives a lone busy node at most a core less its fixed share', () => {
    const cpu = new HostCpu(host(), model({ fixedCpuShare: 0.2 }), 3);
    expect(cpu.speed(0, 0)).toBeCloseTo(0.8);
  });

  it('splits what the cores leave among the nodes busy when a step starts', () => {
    const cpu = new HostCpu(host({ othersFixedCores: 0.5 }), model({ fixedCpuShare: 0.1 }), 3);
    cpu.served(1, 100);
    cpu.served(2, 100);
    // 2 cores - 0.5 others - 3 x 0.1 fixed = 1.2 cores, three busy nodes (this one included).
    expect(cpu.speed(0, 50)).toBeCloseTo(0.4);
    // Once the others' steps are over, this node alone gets what a node may.
    expect(cpu.speed(0, 100)).toBeCloseTo(0.9);
  });

  it("takes the others' CPU at the message rate of the last second", () => {
    const cpu = new HostCpu(host({ cores: 1, othersUsPerMessage: 500 }), model(), 1);
    for (let i = 0; i < 1000; i++) cpu.message(i);
    expect(cpu.messageRate(999)).toBe(1000);
    // 1 core - 1,000 msgs/s x 500 µs = half a core left.
    expect(cpu.speed(0, 999)).toBeCloseTo(0.5);
    // A second later without messages, the others' share is gone.
    expect(cpu.messageRate(2100)).toBe(0);
    expect(cpu.speed(0, 2100)).toBeCloseTo(1);
  });

  it('holds a node at a floor when the others take every core, so time still moves', () => {
    const cpu = new HostCpu(host({ cores: 1, othersFixedCores: 1.5 }), model(), 2);
    expect(cpu.speed(0, 0)).toBe(speedMin);
  });

  it('keeps a --cpu-share cap under the host', () => {
    const cpu = new HostCpu(host({ cores: 8 }), model({ cpuShare: 0.5 }), 1);
    expect(cpu.speed(0, 0)).toBeCloseTo(0.5);
  });
});
