import { describe, expect, it } from 'vitest';
import type { FaultSpec } from '../../scenarios/scenario.ts';
import {
  FileBudgetError,
  failoverWarning,
  loopbackHost,
  openFilesLimit,
  planSockets,
} from './file-budget.ts';

const limits = (soft: string) =>
  `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             95104                95104                processes \nMax open files            ${soft}                20000                files     \nMax locked memory         8388608              8388608              bytes     \n`;

describe('openFilesLimit', () => {
  it('reads the soft limit of open files', () => {
    expect(openFilesLimit(() => limits('20000'))).toBe(20_000);
    expect(openFilesLimit(() => limits('1024'))).toBe(1024);
    expect(openFilesLimit(() => limits('unlimited'))).toBe(Number.POSITIVE_INFINITY);
  });

  it('is null when the limits cannot be read', () => {
    expect(
      openFilesLimit(() => {
        throw new Error('ENOENT');
      }),
    ).toBeNull();
    expect(openFilesLimit(() => 'nothing here')).toBeNull();
  });

  it("reads this machine's own limit", () => {
    const limit = openFilesLimit();
    if (process.platform === 'linux') expect(limit).toBeGreaterThan(100);
  });
});

describe('planSockets', () => {
  it('adds generators until none holds more sockets than the limit leaves', () => {
    const plan = planSockets({ devices: 150, localNodes: 3, generatorsMin: 1, filesMax: 150, reserve: 100 });
    expect(plan).toEqual({ generators: 3, socketsPerGenerator: 50, socketsPerNode: 50, socketsMax: 50 });
    expect(
      planSockets({ devices: 151, localNodes: 4, generatorsMin: 1, filesMax: 150, reserve: 100 }).generators,
    ).toBe(4);
  });

  it('plans 100,000 clients on six nodes under 20,000 files as six generators', () => {
    const plan = planSockets({ devices: 100_000, localNodes: 6, generatorsMin: 1, filesMax: 20_000 });
    expect(plan.generators).toBe(6);
    expect(plan.socketsPerGenerator).toBeLessThanOrEqual(19_000);
    expect(plan.socketsPerNode).toBe(16_667);
    expect(plan.socketsMax).toBe(19_900);
  });

  it('keeps the generators asked for when there are more than the limit needs', () => {
    expect(planSockets({ devices: 10, localNodes: 1, generatorsMin: 4, filesMax: 20_000 }).generators).toBe(
      4,
    );
  });

  it('caps a generator at a size one core drives, even with unlimited files', () => {
    const plan = planSockets({
      devices: 40_000,
      localNodes: 0,
      generatorsMin: 1,
      filesMax: Number.POSITIVE_INFINITY,
    });
    expect(plan.generators).toBe(3);
  });

  it('refuses, saying how many nodes it needs, a run whose nodes would pass the limit', () => {
    const plan = () => planSockets({ devices: 25_000, localNodes: 1, generatorsMin: 1, filesMax: 20_000 });
    expect(plan).toThrow(FileBudgetError);
    expect(plan).toThrow(
      "25,000 clients on 1 node would put 25,000 sockets on one node, above the 19,900 a process may hold (20,000 open files per process here, 100 kept for the process's own): use --nodes 2 or more, or --clients 19,900 or fewer",
    );
    expect(() =>
      planSockets({ devices: 100_000, localNodes: 5, generatorsMin: 1, filesMax: 20_000 }),
    ).toThrow(/use --nodes 6 or more, or --clients 99,500 or fewer/);
  });

  it('does not count sockets of nodes elsewhere (a --url target)', () => {
    expect(
      planSockets({ devices: 25_000, localNodes: 0, generatorsMin: 1, filesMax: 20_000 }).generators,
    ).toBe(2);
  });

  it('refuses a limit that leaves nothing for clients', () => {
    expect(() => planSockets({ devices: 1, localNodes: 1, generatorsMin: 1, filesMax: 64 })).toThrow(
      /raise 'ulimit -n'/,
    );
  });
});

describe('loopbackHost', () => {
  it('spreads nodes over 127.0.0.1, .2, ...', () => {
    expect([0, 1, 6].map(loopbackHost)).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.7']);
    expect(() => loopbackHost(254)).toThrow(RangeError);
  });
});

describe('failoverWarning', () => {
  const crash = { type: 'node-crash', atMs: 0, durationMs: 1000, node: 0 } as FaultSpec;
  const clientCut = {
    type: 'partition',
    atMs: 0,
    durationMs: 1000,
    target: 'clients',
    fraction: 0.2,
  } as FaultSpec;
  const plan = (devices: number, nodes: number) =>
    planSockets({ devices, localNodes: nodes, generatorsMin: 1, filesMax: 20_000 });

  it('warns when a node fault could put two shares on one node past the limit', () => {
    expect(failoverWarning(plan(30_000, 2), 2, [crash])).toBe(
      "a node fault moves that node's clients to the next node: up to 30,000 sockets there, above the 19,900 a process may hold; use --nodes 4 or more to be safe",
    );
  });

  it('is quiet when two shares fit, with one node, or without node faults', () => {
    expect(failoverWarning(plan(18_000, 2), 2, [crash])).toBeNull();
    expect(failoverWarning(plan(19_000, 1), 1, [crash])).toBeNull();
    expect(failoverWarning(plan(30_000, 2), 2, [clientCut])).toBeNull();
  });
});
