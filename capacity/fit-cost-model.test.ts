// The fit recovers known costs from a meter fed steps whose times follow them (with a deterministic
// wobble), keeps every cost non-negative, scales by the event loop's busy time over the timed spans,
// and refuses a reading with nothing to fit.

import { describe, expect, it } from 'vitest';
import type { Effect } from '../reference-server/core/effects.ts';
import type { CoreStep } from '../reference-server/core/input-kind.ts';
import { CostMeter } from '../reference-server/runtime/cost-meter.ts';
import { addReadings, type CpuRun, fitCostModel, fitProcessCpu, solve } from './fit-cost-model.ts';

const about = { name: 'fit-test', command: 'test', date: '2026-11-30', machine: 'test' };
const sendTo = (n: number): Effect => ({
  type: 'send',
  to: Array.from({ length: n }, (_, i) => i),
  frame: {} as never,
});
const frame = (t: string): CoreStep => ({ type: 'frame', conn: 1, value: { t } });

/** True costs (µs): send 30, hello 80, tick 5; per frame 4, per recipient 1.5, per store op 12. */
function meteredRun(): CostMeter {
  const meter = new CostMeter();
  let id = 0;
  for (let i = 0; i < 400; i++) {
    const wobble = ((i * 7919) % 11) / 10 - 0.5; // -0.5..+0.5 µs, fixed
    const recipients = 1 + (i % 9);
    const store: Effect = { type: 'store', id: id++, op: { kind: 'append', request: {} as never } };
    meter.step(frame('send'), [sendTo(recipients), store], (30 + 4 + 1.5 * recipients + 12 + wobble) / 1000);
    // A hello reads sometimes: store ops vary apart from the kind, so their cost is identified.
    const read: Effect = { type: 'store', id: id++, op: { kind: 'read', request: {} as never } };
    if (i % 3 === 0) meter.step(frame('hello'), [sendTo(1), read], (80 + 4 + 1.5 + 12 + wobble) / 1000);
    else meter.step(frame('hello'), [sendTo(1)], (80 + 4 + 1.5 + wobble) / 1000);
    meter.step(
      'tick',
      i % 2 === 0 ? [] : [sendTo(3), sendTo(2)],
      (5 + (i % 2 === 0 ? 0 : 8 + 7.5) + wobble) / 1000,
    );
  }
  return meter;
}

describe('fitCostModel', () => {
  it('recovers the costs the steps were timed with', () => {
    const reading = meteredRun().reading();
    reading.cpuUs = 0; // no scaling: compare with the true costs
    const fit = fitCostModel(reading, about);
    expect(fit.model.inputUs.send).toBeCloseTo(30, 0);
    expect(fit.model.inputUs.hello).toBeCloseTo(80, 0);
    expect(fit.model.inputUs.tick).toBeCloseTo(5, 0);
    expect(fit.model.effectUs.recipient).toBeCloseTo(1.5, 1);
    expect(fit.model.effectUs.frame).toBeCloseTo(4, 0);
    expect(fit.model.effectUs.store).toBeCloseTo(12, 0);
    expect(fit.model.effectUs.publish).toBe(0);
    expect(fit.kinds.send!.steps).toBe(400);
    expect(fit.kinds.send!.fittedUs).toBeCloseTo(fit.kinds.send!.meanUs, 0);
    // Kinds not seen cost the median of the fitted ones.
    expect(fit.model.defaultInputUs).toBeCloseTo(30, 0);
    expect(fit.model.inputUs.sync).toBeUndefined();
  });

  it('scales every cost by process CPU over timed time, and says what share of a core the node got', () => {
    const reading = meteredRun().reading();
    const spanUs = reading.stepUs.reduce((a, b) => a + b, 0);
    reading.cpuUs = 0.5 * spanUs; // preempted half the time it was inside a step
    reading.eluActiveMs = (1.25 * spanUs) / 1000;
    const fit = fitCostModel(reading, about);
    expect(fit.scale).toBeCloseTo(0.5, 2);
    expect(fit.model.inputUs.hello).toBeCloseTo(40, 0);
    expect(fit.model.effectUs.recipient).toBeCloseTo(0.75, 1);
    expect(fit.cpuShareWhileBusy).toBeCloseTo(0.4, 2);
  });

  it('keeps costs non-negative and adds readings of several runs', () => {
    const meter = new CostMeter();
    // Recipients that make a step cheaper would fit a negative cost: it is dropped to 0 instead.
    for (let i = 0; i < 100; i++) meter.step(frame('send'), [sendTo(1 + (i % 5))], (50 - (i % 5)) / 1000);
    const one = meter.reading();
    const both = addReadings([one, one]);
    both.cpuUs = 0; // unscaled
    expect(both.steps).toEqual(one.steps.map((n) => 2 * n));
    const fit = fitCostModel(both, about);
    expect(fit.model.effectUs.recipient).toBe(0);
    expect(fit.model.effectUs.frame).toBeGreaterThanOrEqual(0);
    expect(fit.model.inputUs.send! + fit.model.effectUs.frame).toBeGreaterThan(40);
  });

  it('fits a fixed share of a core plus a cost per message over several runs, and scales the steps by what is left', () => {
    // The node spends 20% of a core whatever its load and 150 µs of CPU per message. Its spans grow
    // with load faster than its CPU (preemption on a shared box): the spans are no regressor, the
    // message counts are. At 200 msgs/s the plain ratio would charge the fixed CPU to the steps.
    const run = (perSec: number, spanUsPerSend: number, wobble = 0): CpuRun => {
      const meteredMs = 20_000;
      const sends = perSec * 20;
      return { meteredMs, sends, spanUs: sends * spanUsPerSend, cpuUs: 0.2 * 20e6 + 150 * sends + wobble };
    };
    const runs = [run(200, 80, 3000), run(1000, 100, -5000), run(3000, 140, 2000)];
    const fit = fitProcessCpu(runs);
    expect(fit.method).toBe('regression');
    expect(fit.fixedCpuShare).toBeCloseTo(0.2, 3);
    expect(fit.sendUs).toBeCloseTo(150, 0);
    // 0.8 of a core at 150 µs a message.
    expect(fit.saturationMsgsPerSec).toBeCloseTo(5333, -1);
    const spans = runs.reduce((a, r) => a + r.spanUs, 0);
    const cpu = runs.reduce((a, r) => a + r.cpuUs, 0);
    expect(fit.scale).toBeCloseTo((cpu - 0.2 * 60e6) / spans, 3);
    // Each run's reading scales the pooled fit; the model carries the fixed share.
    const readings = [0.05, 0.2, 0.4].map((share) => {
      const r = meteredRun().reading();
      const spanUs = r.stepUs.reduce((a, b) => a + b, 0);
      r.meteredMs = spanUs / 1000 / share;
      r.cpuUs = 0.2 * r.meteredMs * 1000 + 1.8 * spanUs;
      return r;
    });
    const model = fitCostModel(addReadings(readings), about, readings);
    expect(model.scale).toBeCloseTo(1.8, 2);
    expect(model.model.fixedCpuShare).toBeCloseTo(0.2, 2);
    expect(model.model.inputUs.hello).toBeCloseTo(80 * 1.8, 0);
    // The ratio of the same readings charges the fixed CPU to the steps.
    expect(fitCostModel(addReadings(readings), about).scale).toBeGreaterThan(2.5);
  });

  it('falls back to the ratio, and says why, when the runs cannot separate fixed from per-message CPU', () => {
    const one: CpuRun = { meteredMs: 1000, spanUs: 200_000, cpuUs: 500_000, sends: 1000 };
    expect(fitProcessCpu([one])).toEqual({
      scale: 2.5,
      fixedCpuShare: 0,
      measuredFixedCpuShare: 0,
      sendUs: 0,
      saturationMsgsPerSec: null,
      method: 'ratio',
      why: 'fewer than two runs with sends to fit over',
    });
    expect(fitProcessCpu([one, { ...one, sends: 1100 }]).why).toMatch(/too alike/);
    // CPU that grows faster than the messages (it fits a negative fixed share) is not physical.
    const steep = fitProcessCpu([one, { meteredMs: 1000, spanUs: 400_000, cpuUs: 1_400_000, sends: 2000 }]);
    expect(steep.method).toBe('ratio');
    expect(steep.why).toMatch(/negative fixed/);
    expect(steep.scale).toBeCloseTo(1_900_000 / 600_000, 5);
    // A node starved of CPU: 30% of a core whatever the rate (18:05 UTC, three nodes on 2 cores).
    const starved = (perSec: number, cpuShare: number): CpuRun => ({
      meteredMs: 60_000,
      sends: perSec * 60,
      spanUs: 0.4 * 60e6,
      cpuUs: cpuShare * 60e6,
    });
    const flat = fitProcessCpu([starved(500, 0.3), starved(1000, 0.29), starved(1500, 0.31)]);
    expect(flat.method).toBe('ratio');
    expect(flat.why).toMatch(/hardly grew with the rate/);
    // The same flat CPU on a box seen with CPU to spare in every run is the node's own: kept.
    const roomy = (run: CpuRun, boxBusyShare: number): CpuRun => ({ ...run, boxBusyShare });
    const quiet = fitProcessCpu([
      roomy(starved(500, 0.28), 0.7),
      roomy(starved(1000, 0.282), 0.8),
      roomy(starved(1500, 0.285), 0.85),
    ]);
    expect(quiet.method).toBe('regression');
    expect(quiet.why).toMatch(/CPU to spare in every run \(at most 85% busy\)/);
    expect(quiet.measuredFixedCpuShare).toBeGreaterThan(0.25);
    // One run on a box near its cores, or one not measured: short of a core, perhaps.
    const busy = fitProcessCpu([
      roomy(starved(500, 0.28), 0.7),
      roomy(starved(1000, 0.282), 0.95),
      roomy(starved(1500, 0.285), 0.85),
    ]);
    expect(busy.method).toBe('ratio');
    const unknown = fitProcessCpu([
      roomy(starved(500, 0.28), 0.7),
      starved(1000, 0.282),
      roomy(starved(1500, 0.285), 0.85),
    ]);
    expect(unknown.method).toBe('ratio');
  });

  it('scales the steps so that they cost what a message costs, and keeps apart only the fixed CPU the steps do not already cost', () => {
    // Spans: 10% of the wall whatever the load (ticks, pings) + 50 µs per message. CPU: 25% of a core
    // + 100 µs per message. Steps cost 2 µs of CPU per µs of span; 0.25 - 2 x 0.1 = 5% is kept apart.
    const run = (perSec: number): CpuRun => {
      const meteredMs = 20_000;
      const sends = perSec * 20;
      return { meteredMs, sends, spanUs: 0.1 * 20e6 + 50 * sends, cpuUs: 0.25 * 20e6 + 100 * sends };
    };
    const fit = fitProcessCpu([run(500), run(1000), run(1500)]);
    expect(fit.method).toBe('regression');
    expect(fit.sendUs).toBeCloseTo(100, 6);
    expect(fit.scale).toBeCloseTo(2, 6);
    expect(fit.measuredFixedCpuShare).toBeCloseTo(0.25, 6);
    expect(fit.fixedCpuShare).toBeCloseTo(0.05, 6);
    // What a simulated node spends, fixed share and steps, is the measured CPU at any rate.
    for (const perSec of [0, 700, 3000]) {
      const simulated = fit.fixedCpuShare * 1e6 + fit.scale * (0.1 * 1e6 + 50 * perSec);
      expect(simulated).toBeCloseTo(0.25 * 1e6 + 100 * perSec, 0);
    }
  });

  it('refuses a reading with too few steps of any kind', () => {
    const meter = new CostMeter();
    meter.step('tick', [], 0.01);
    expect(() => fitCostModel(meter.reading(), about)).toThrow(/nothing to fit/);
  });

  it('solve: a small system, and 0 for a term that is not identified', () => {
    expect(
      solve(
        [
          [2, 1],
          [1, 3],
        ],
        [3, 5],
      ).map((x) => Math.round(x * 1000) / 1000),
    ).toEqual([0.8, 1.4]);
    expect(
      solve(
        [
          [1, 0],
          [0, 0],
        ],
        [2, 0],
      ),
    ).toEqual([2, 0]);
  });
});
