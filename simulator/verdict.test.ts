import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../bench/latency-histogram.ts';
import { encodeJsonFrame } from '../reference-server/store/record-codec.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import type { CheckResult } from './history.ts';
import {
  judgeCheckpointsSetAside,
  judgeLostFlushReach,
  judgeOpenFilesAtRest,
  judgeRun,
  judgeSegmentSizes,
  judgeTornFrameLengthReach,
  latencySource,
} from './verdict.ts';

const scenario = loadScenario('steady');
const verdict = (property: string, v: CheckResult['verdict']): CheckResult => ({
  property,
  verdict: v,
  details: '',
  witness: [],
});
const failedSends = { count: 0, rate: 0 };
const repeatedPushes = { count: 0, rate: 0 };
const measuredFine = { ackLatency: { quantile: () => 1, count: 10 }, failedSends, repeatedPushes };
const measuredSlow = { ackLatency: { quantile: () => 1e9, count: 10 }, failedSends, repeatedPushes };

describe('judgeRun: verdicts to the exit code CI gates on', () => {
  const pass = [verdict('no-loss', 'pass'), verdict('liveness', 'pass')];
  it.each([
    ['every property holds', pass, 10, measuredFine, 0],
    ['a property violated', [verdict('no-loss', 'fail'), verdict('liveness', 'pass')], 10, measuredFine, 1],
    [
      'violated beats unsettled and slow',
      [verdict('no-loss', 'fail'), verdict('liveness', 'fail')],
      null,
      measuredSlow,
      1,
    ],
    ['an SLO breached', pass, 10, measuredSlow, 2],
    [
      'the run did not settle',
      [verdict('no-loss', 'pass'), verdict('liveness', 'fail')],
      null,
      measuredFine,
      3,
    ],
    [
      'a property could not be judged',
      [verdict('no-loss', 'unknown'), verdict('liveness', 'pass')],
      10,
      measuredFine,
      3,
    ],
    [
      'could not judge beats slow',
      [verdict('no-loss', 'unknown'), verdict('liveness', 'pass')],
      10,
      measuredSlow,
      3,
    ],
  ] as const)('%s', (_name, verdicts, settledAt, measured, exitCode) => {
    expect(judgeRun(scenario, verdicts, settledAt, measured).exitCode).toBe(exitCode);
  });
});

describe('latencySource: samples above the histogram range are never read as within a threshold', () => {
  it('reads a p99 among the overflow as infinite, so p(99)<=120000 cannot pass on a histogram topped at 60 s', () => {
    const histogram = new LatencyHistogram(60_000_000);
    for (let i = 0; i < 98; i++) histogram.recordMs(1000);
    histogram.recordMs(90_000);
    histogram.recordMs(300_000);
    const source = latencySource(histogram);
    expect(source.quantile?.(0.5)).toBeCloseTo(1000, -2);
    expect(source.quantile?.(0.99)).toBe(Number.POSITIVE_INFINITY);
    expect(source.max).toBe(Number.POSITIVE_INFINITY);
    const slowScenario = {
      ...scenario,
      thresholds: { ...scenario.thresholds, ackLatency: ['p(99)<=120000'] },
    };
    const { slo, exitCode } = judgeRun(slowScenario, [verdict('no-loss', 'pass')], 10, {
      ackLatency: source,
      failedSends,
    });
    expect(slo.find((t) => t.name === 'ackLatency p(99)<=120000')?.pass).toBe(false);
    expect(exitCode).toBe(2);
  });

  it('reads quantiles within the range as recorded', () => {
    const histogram = new LatencyHistogram(60_000_000);
    for (let i = 0; i < 100; i++) histogram.recordMs(i + 1);
    const source = latencySource(histogram);
    expect(source.quantile?.(0.99)).toBeCloseTo(99, 0);
    expect(source.max).toBe(100);
  });
});

describe('judgeCheckpointsSetAside: a checkpoint no fault damaged must be usable', () => {
  const pass = (property: string): CheckResult => ({ property, verdict: 'pass', details: 'ok', witness: [] });
  const verdicts = [pass('gap-free-store'), pass('no-loss')];

  it('leaves every verdict alone when each checkpoint set aside was one a fault flipped a bit in', () => {
    expect(judgeCheckpointsSetAside(verdicts, 0)).toEqual(verdicts);
    expect(judgeCheckpointsSetAside(verdicts, undefined)).toEqual(verdicts);
  });

  it('fails gap-free-store, with why, for a checkpoint set aside that no fault damaged', () => {
    const judged = judgeCheckpointsSetAside(verdicts, 1);
    expect(judged[0]).toMatchObject({ property: 'gap-free-store', verdict: 'fail' });
    expect(judged[0]!.details).toMatch(/no fault damaged/);
    expect(judged[1]).toEqual(verdicts[1]);
  });
});

describe('judgeLostFlushReach: a lost flush that lost nothing tested nothing', () => {
  const pass = (property: string): CheckResult => ({ property, verdict: 'pass', details: 'ok', witness: [] });
  const verdicts = [pass('durable-ack'), pass('no-loss')];
  const lostFlush = { type: 'disk-lost-flush' };

  it('leaves every verdict alone without the fault, or when each one lost a tail', () => {
    expect(judgeLostFlushReach(verdicts, [{ type: 'node-crash' }], 0)).toEqual(verdicts);
    expect(judgeLostFlushReach(verdicts, [lostFlush, lostFlush], 2)).toEqual(verdicts);
  });

  it('makes a passing durable-ack unknown, with why, while any lost flush lost nothing', () => {
    const judged = judgeLostFlushReach(verdicts, [lostFlush, lostFlush], 1);
    expect(judged[0]).toMatchObject({ property: 'durable-ack', verdict: 'unknown' });
    expect(judged[0]!.details).toContain('1 of 2 disk-lost-flush faults found no checkpoint');
    expect(judged[1]).toEqual(verdicts[1]);
    expect(judgeLostFlushReach(verdicts, [lostFlush], undefined)[0]!.verdict).toBe('unknown');
  });

  it('keeps a failing durable-ack a failure', () => {
    const failed: CheckResult = { ...pass('durable-ack'), verdict: 'fail' };
    expect(judgeLostFlushReach([failed], [lostFlush], 0)).toEqual([failed]);
  });
});

describe('judgeOpenFilesAtRest: a store at rest holds its idle read handles, its segment and a checkpoint', () => {
  it('passes up to readFilesMax + 2, fails past it, and judges nothing when never at rest', () => {
    expect(judgeOpenFilesAtRest(4, 2).verdict).toBe('pass');
    const leak = judgeOpenFilesAtRest(5, 2);
    expect(leak.verdict).toBe('fail');
    expect(leak.details).toContain('a descriptor leak');
    expect(judgeOpenFilesAtRest(-1, 2).verdict).toBe('unknown');
  });
});

describe('judgeSegmentSizes: a segment outgrows segmentBytesMax only with one record alone', () => {
  it('passes segments within the bound or holding one large record, fails one that did not rotate', () => {
    const record = (bytes: number) => encodeJsonFrame({ t: 'append', body: 'z'.repeat(bytes) });
    const small = Buffer.concat([record(100), record(100)]);
    const alone = record(2000);
    expect(judgeSegmentSizes([{ path: '/d/1.seg', bytes: small }], 1024).verdict).toBe('pass');
    expect(judgeSegmentSizes([{ path: '/d/1.seg', bytes: alone }], 1024).verdict).toBe('pass');
    const grown = judgeSegmentSizes(
      [{ path: '/d/1.seg', bytes: Buffer.concat([small, small, small, small, small]) }],
      1024,
    );
    expect(grown.verdict).toBe('fail');
    expect(grown.witness).toEqual([{ path: '/d/1.seg', bytes: 5 * small.length }]);
    expect(judgeSegmentSizes([], 1024).verdict).toBe('unknown');
  });
});

describe('judgeTornFrameLengthReach: a frame-length torn write that met no such write tested nothing', () => {
  const pass = (property: string): CheckResult => ({ property, verdict: 'pass', details: 'ok', witness: [] });
  const verdicts = [pass('liveness'), pass('no-loss')];
  const torn = { type: 'disk-torn-write', tornAt: 'frame-length' };

  it('leaves every verdict alone without the fault, with a sector tear, or when each one tore', () => {
    expect(judgeTornFrameLengthReach(verdicts, [{ type: 'disk-torn-write', tornAt: 'sector' }], 0)).toEqual(
      verdicts,
    );
    expect(judgeTornFrameLengthReach(verdicts, [torn], 1)).toEqual(verdicts);
  });

  it('makes a passing liveness unknown, with why, while one met no such write', () => {
    const judged = judgeTornFrameLengthReach(verdicts, [torn, torn], 1);
    expect(judged[0]).toMatchObject({ property: 'liveness', verdict: 'unknown' });
    expect(judged[0]!.details).toMatch(/1 of 2 disk-torn-write faults/);
    expect(judged[1]).toEqual(verdicts[1]);
  });
});
