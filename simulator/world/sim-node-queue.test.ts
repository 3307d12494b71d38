// A node with a cost model is a single-threaded server in virtual time: steps run one at a time in
// arrival order, each one's effects leave when its service time is over, and a crash or a pause acts
// on what is queued as a process would. Without a model, steps take no time (the old behaviour).

import { describe, expect, it } from 'vitest';
import type { ChatNode } from '../../reference-server/core/chat-node.ts';
import type { Effect } from '../../reference-server/core/effects.ts';
import type { Input } from '../../reference-server/core/inputs.ts';
import { Agenda, EventKind, type SimEvent } from './agenda.ts';
import type { CostModel } from './cost-model.ts';
import { HostCpu } from './host-cpu.ts';
import { SimNode } from './sim-node.ts';

/** hello costs 1 ms, open 0.5 ms, each recipient 0.25 ms. */
const model: CostModel = {
  name: 'test',
  measured: { command: 'test', date: '2026-11-30', machine: 'test' },
  inputUs: { hello: 1000, open: 500 },
  defaultInputUs: 100,
  effectUs: { frame: 0, recipient: 250, store: 0, publish: 0 },
};

const hello = (conn: number): Input => ({ type: 'frame', conn, value: { t: 'hello', token: 'x' } });

/** A core that answers each input with one frame to `recipients` connections, tagged with the conn. */
function fakeCore(recipients: number): ChatNode {
  return {
    handle(input: Input): Effect[] {
      const conn = 'conn' in input ? input.conn : -1;
      return [
        {
          type: 'send',
          to: Array.from({ length: recipients }, () => conn),
          frame: { t: 'pong', conn } as never,
        },
      ];
    },
    tick: () => [],
    load: () => {},
    start: () => [],
  } as unknown as ChatNode;
}

function node(costModel: CostModel | null, recipients = 0, hostCpu: HostCpu | null = null) {
  const out: { at: number; conn: number }[] = [];
  const agenda: Agenda = new Agenda((event: SimEvent) => {
    if (event.kind === EventKind.callback) (event.data as () => void)();
    else sim.run(event, agenda.now);
  });
  const sim = new SimNode(0, {
    agenda,
    costModel,
    hostCpu,
    newCore: () => fakeCore(recipients),
    carryOut: (_index, effects) => {
      for (const effect of effects)
        if (effect.type === 'send')
          out.push({ at: agenda.now, conn: (effect.frame as unknown as { conn: number }).conn });
    },
    crashed: () => {},
    stopped: () => {},
    starting: (_index, ready) => ready([]),
    booted: () => {},
  });
  const arrive = (at: number, input: Input) => agenda.schedule(at, EventKind.nodeInput, 0, sim.epoch, input);
  return { sim, agenda, out, arrive };
}

describe('a simulated node with a cost model', () => {
  it("serves at the share of a core the host's other processes leave it", async () => {
    // 2 cores, of which the generators, the driver and Redis take 1.5: a 1 ms hello takes 2 ms.
    const host = { cores: 2, othersFixedCores: 1.5, othersUsPerMessage: 0, others: 'test' };
    const n = node(model, 0, new HostCpu(host, model, 1));
    n.arrive(10, hello(1));
    n.arrive(10, hello(2));
    await n.agenda.runUntil(100);
    expect(n.out).toEqual([
      { at: 12, conn: 1 },
      { at: 14, conn: 2 },
    ]);
    expect(n.sim.busyMs).toBe(4);
  });

  it('serves steps one at a time, in arrival order: a burst queues', async () => {
    const n = node(model);
    for (let conn = 1; conn <= 4; conn++) n.arrive(10, hello(conn));
    await n.agenda.runUntil(100);
    expect(n.out).toEqual([
      { at: 11, conn: 1 },
      { at: 12, conn: 2 },
      { at: 13, conn: 3 },
      { at: 14, conn: 4 },
    ]);
    expect(n.sim.busyMs).toBe(4);
    expect(n.sim.queuePeak).toBe(3);
  });

  it('charges the kind of the step plus its effects, and a free node serves at once', async () => {
    const n = node(model, 4);
    n.arrive(0, { type: 'open', conn: 1 });
    n.arrive(5, hello(2));
    await n.agenda.runUntil(100);
    // open: 0.5 + 4 recipients x 0.25 = 1.5 ms; hello at 5 finds the node free: 1 + 1 = 2 ms.
    expect(n.out.map((o) => o.at)).toEqual([1.5, 7]);
  });

  it('a node with half a core takes twice as long per step', async () => {
    const n = node({ ...model, cpuShare: 0.5 });
    for (let conn = 1; conn <= 2; conn++) n.arrive(10, hello(conn));
    await n.agenda.runUntil(100);
    expect(n.out.map((o) => o.at)).toEqual([12, 14]);
  });

  it('a node spending a fixed quarter of its core serves steps with the rest', async () => {
    const n = node({ ...model, fixedCpuShare: 0.25 });
    for (let conn = 1; conn <= 2; conn++) n.arrive(12, hello(conn));
    await n.agenda.runUntil(100);
    // hello: 1 ms of CPU over 0.75 of a core.
    const [first, second] = n.out.map((o) => o.at);
    expect(first).toBeCloseTo(12 + 4 / 3, 9);
    expect(second).toBeCloseTo(12 + 8 / 3, 9);
    expect(() => node({ ...model, cpuShare: 0.5, fixedCpuShare: 0.5 })).toThrow(/leaves nothing for steps/);
  });

  it('without a model every step takes no time', async () => {
    const n = node(null, 4);
    for (let conn = 1; conn <= 3; conn++) n.arrive(10, hello(conn));
    await n.agenda.runUntil(100);
    expect(n.out.map((o) => o.at)).toEqual([10, 10, 10]);
    expect(n.sim.busyMs).toBe(0);
  });

  it('a crash drops what was queued and what was being served', async () => {
    const n = node(model);
    for (let conn = 1; conn <= 3; conn++) n.arrive(10, hello(conn));
    n.agenda.at(11.5, () => n.sim.crash());
    await n.agenda.runUntil(100);
    expect(n.out).toEqual([{ at: 11, conn: 1 }]);
  });

  it('a pause holds the queue and the finished step until the resume, then goes on in order', async () => {
    const n = node(model);
    for (let conn = 1; conn <= 3; conn++) n.arrive(10, hello(conn));
    n.agenda.at(10.5, () => n.sim.pause());
    n.agenda.at(50, () => n.sim.resume());
    await n.agenda.runUntil(100);
    expect(n.out).toEqual([
      { at: 50, conn: 1 },
      { at: 51, conn: 2 },
      { at: 52, conn: 3 },
    ]);
  });
});
