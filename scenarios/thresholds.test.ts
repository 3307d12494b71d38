import { describe, expect, it } from 'vitest';
import { runScenario } from '../simulator/run-scenario.ts';
import { validateScenario } from './scenario.ts';
import { evaluateThresholds, parseThreshold } from './thresholds.ts';

describe('SLO thresholds (k6 syntax)', () => {
  it('parses aggregations, percentiles and operators', () => {
    expect(parseThreshold('ackLatency', 'p(99.9) <= 250')).toMatchObject({
      aggregation: { kind: 'percentile', p: 99.9 },
      operator: '<=',
      value: 250,
    });
    expect(parseThreshold('ackLatency', 'avg<20')).toMatchObject({ aggregation: { kind: 'avg' } });
    expect(parseThreshold('failedSends', 'rate<0.01')).toMatchObject({
      aggregation: { kind: 'rate' },
      value: 0.01,
    });
    expect(parseThreshold('failedSends', 'count==0')).toMatchObject({ operator: '==' });
    expect(parseThreshold('ackLatency', 'p(99)<')).toMatch(/not a threshold expression/);
    expect(parseThreshold('ackLatency', 'rate<1')).toMatch(/aggregations are p\(N\)/);
  });

  it('judges each expression against the measured values', () => {
    const verdicts = evaluateThresholds(
      { ackLatency: ['p(99)<250', 'p(50)<=20', 'max<1000', 'med>30'], failedSends: ['count<1', 'rate<0.01'] },
      {
        ackLatency: { quantile: (q) => (q >= 0.99 ? 300 : 20), max: 999, count: 100 },
        failedSends: { count: 0, rate: 0 },
      },
    );
    expect(verdicts.map((v) => [v.name, v.actual, v.pass])).toEqual([
      ['ackLatency p(99)<250', 300, false],
      ['ackLatency p(50)<=20', 20, true],
      ['ackLatency max<1000', 999, true],
      ['ackLatency med>30', 20, false],
      ['failedSends count<1', 0, true],
      ['failedSends rate<0.01', 0, true],
    ]);
  });

  it("carries the source's detail on a breached threshold only", () => {
    const detail =
      'by code: unavailable 1; first: a-d0 in g1 (cmid a-1) unavailable after 30000 ms, at 41000 ms';
    const verdicts = evaluateThresholds(
      { failedSends: ['count<1', 'count<2'] },
      { failedSends: { count: 1, rate: 0.1, detail } },
    );
    expect(verdicts).toEqual([
      { name: 'failedSends count<1', limit: 1, actual: 1, pass: false, detail },
      { name: 'failedSends count<2', limit: 2, actual: 1, pass: true },
    ]);
  });

  it('fails a threshold on a metric with nothing measured', () => {
    const [verdict] = evaluateThresholds({ ackLatency: ['p(99)<250'] }, { ackLatency: {} });
    expect(verdict).toMatchObject({ pass: false });
    expect(verdict!.actual).toBeNaN();
  });

  const small = (thresholds: unknown) =>
    validateScenario(
      {
        clients: { count: 40 },
        phases: { warmupMs: 2000, faultsMs: 2000, healMs: 1000, settleMaxMs: 10_000 },
        thresholds,
      },
      'small.json',
      'small',
    );

  it('ends a run that breaks a threshold with exit code 2, naming the threshold', async () => {
    const summary = await runScenario(
      small({ ackLatency: ['p(99)<1', 'p(99)<60000'], failedSends: ['count<1'] }),
      {
        seed: 1,
      },
    );
    expect(summary.verdicts.filter((v) => v.verdict === 'fail')).toEqual([]);
    expect(summary.slo.map((s) => [s.name, s.pass])).toEqual([
      ['ackLatency p(99)<1', false],
      ['ackLatency p(99)<60000', true],
      ['repeatedPushes rate<0.01', true],
      ['failedSends count<1', true],
    ]);
    expect(summary.exitCode).toBe(2);
    expect(
      (await runScenario(small({ ackLatency: ['p(99)<60000'], failedSends: ['count>5'] }), { seed: 1 }))
        .exitCode,
    ).toBe(2);
    expect(
      (await runScenario(small({ ackLatency: ['p(99)<60000'], failedSends: ['rate<0.5'] }), { seed: 1 }))
        .exitCode,
    ).toBe(0);
  }, 600_000);
});
