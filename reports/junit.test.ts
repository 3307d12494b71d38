import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../simulator/run-scenario.ts';
import { junitXml } from './junit.ts';
import { verdictLine, verdictTable } from './verdict-table.ts';

function summary(verdicts: RunSummary['verdicts'], exitCode: RunSummary['exitCode']): RunSummary {
  return {
    scenario: 'steady',
    seed: 7,
    traceHash: '0',
    traceCheckpoints: [],
    traceCheckpointEvery: 4096,
    clients: 2,
    events: 1,
    virtualMs: 1,
    wallMs: 1,
    messages: { sent: 1, acked: 1, failed: 0, displayed: 1, durable: 1 },
    ackLatencyMsP50: 1,
    ackLatencyMsP99: 1,
    settledAtMs: 1,
    verdicts,
    slo: [],
    exitCode,
    derived: { faults: [], bugs: [] },
  };
}

describe('reports of a property the run could not judge', () => {
  const run = summary(
    [
      { property: 'no-loss', verdict: 'pass', details: 'ok', witness: [] },
      {
        property: 'presence-convergence',
        verdict: 'unknown',
        details: 'could not judge: not exercised',
        witness: [],
      },
    ],
    3,
  );

  it('JUnit carries it as an <error>, never as a pass, and counts it', () => {
    const xml = junitXml([{ summary: run, repro: 'npx chatsim sim steady --seed 7' }]);
    expect(xml).toMatch(
      /<testcase classname="chatsim.steady" name="seed 7: presence-convergence">\s*<error message="could not judge presence-convergence">could not judge: not exercised/,
    );
    expect(xml).toMatch(/<testcase classname="chatsim.steady" name="seed 7: no-loss"\/>/);
    expect(xml).toMatch(/<testsuites name="chatsim gate" tests="2" failures="0" errors="1">/);
    expect(xml).toMatch(/<testsuite name="steady" tests="2" failures="0" errors="1"/);
  });

  it('the table marks it UNKN and the verdict line names it', () => {
    const table = verdictTable(run, 'npx chatsim sim steady --seed 7');
    expect(table).toMatch(/UNKN {2}presence-convergence/);
    expect(table).toMatch(/could not judge presence-convergence: not exercised/);
    expect(verdictLine(run)).toBe('verdict: FAIL: could not judge presence-convergence');
    expect(verdictLine({ ...run, settledAtMs: null })).toBe(
      'verdict: FAIL: the run did not settle (liveness); could not judge presence-convergence',
    );
  });
});

describe('reports of a property the scenario skips (checks.skip)', () => {
  const run = summary(
    [
      { property: 'no-loss', verdict: 'pass', details: 'ok', witness: [] },
      {
        property: 'typing-recipients',
        verdict: 'skipped',
        details: 'not judged: the scenario skips it (checks.skip)',
        witness: [],
      },
    ],
    0,
  );

  it('JUnit carries it as <skipped>, never as a pass', () => {
    const xml = junitXml([{ summary: run, repro: 'npx chatsim sim steady --seed 7' }]);
    expect(xml).toMatch(
      /<testcase classname="chatsim.steady" name="seed 7: typing-recipients">\s*<skipped message="not judged: the scenario skips it \(checks.skip\)"\/>/,
    );
    expect(xml).toMatch(/<testsuite name="steady" tests="2" failures="0" errors="0" skipped="1"/);
  });

  it('the table marks it SKIP', () => {
    expect(verdictTable(run, 'npx chatsim sim steady --seed 7')).toMatch(
      /SKIP {2}typing-recipients +not judged/,
    );
  });
});

describe('the verdict line of a live run whose generators were load-limited', () => {
  const run = summary([{ property: 'no-loss', verdict: 'pass', details: 'ok', witness: [] }], 0);
  const live = (cpuShare: number, stallMs: number, loadLimited: boolean) =>
    ({
      ...run,
      live: { generatorCpuShareMax: cpuShare, generatorLoopDelayMsMax: stallMs, loadLimited },
    }) as unknown as RunSummary;

  it('says why: a busy generator, or one starved of a core', () => {
    expect(verdictLine(live(0.93, 100, true))).toBe(
      'verdict: PASS (latencies are load-limited: a generator used 93% of its core)',
    );
    expect(verdictLine(live(0.11, 11_300, true))).toBe(
      "verdict: PASS (latencies are load-limited: a generator's event loop stalled 11.3 s)",
    );
  });

  it('says nothing when the run was not load-limited', () => {
    expect(verdictLine(live(0.2, 300, false))).toBe('verdict: PASS');
  });
});

describe('reports of a breached SLO', () => {
  const detail =
    'by code: unavailable 1; first: a-d0 in g1 (cmid a-1) unavailable after 30000 ms, at 41000 ms';
  const run = {
    ...summary([{ property: 'no-loss', verdict: 'pass', details: 'ok', witness: [] }], 2),
    slo: [{ name: 'failedSends count<1', limit: 1, actual: 1, pass: false, detail }],
  };

  it('JUnit and the table say what stands behind the figure', () => {
    const xml = junitXml([{ summary: run, repro: 'npx chatsim sim steady --seed 7' }]);
    expect(xml).toMatch(
      /name="seed 7: slo:failedSends count&lt;1">\s*<failure[^>]*>failedSends count&lt;1 = 1, limit 1\nby code: unavailable 1; first: a-d0 in g1/,
    );
    expect(verdictTable(run, 'npx chatsim sim steady --seed 7')).toContain(
      `slo failedSends count<1  1 (limit 1): ${detail}`,
    );
  });
});

describe('a run with a suite of its own', () => {
  it("is its own testsuite, beside its scenario's runs", () => {
    const pass = summary([{ property: 'no-loss', verdict: 'pass', details: 'ok', witness: [] }], 0);
    const xml = junitXml([
      { summary: pass, repro: 'npx chatsim sim steady --seed 7' },
      { summary: pass, repro: 'npx chatsim sim steady --seed 7 --clients 150', suite: 'steady@150' },
    ]);
    expect(xml).toMatch(/<testsuite name="steady" tests="1" /);
    expect(xml).toMatch(/<testsuite name="steady@150" tests="1" /);
    expect(xml).toMatch(/<testcase classname="chatsim.steady@150" name="seed 7: no-loss"\/>/);
  });
});
