import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../simulator/history.ts';
import { phaseNames, slotOf } from './harness-families.ts';
import { RunRecorder } from './run-recorder.ts';

const message = (seq: number, cmid: string) => ({ conv: 'g', seq, from: 'a', cmid, body: 'x', ts: 0 });
const dev = (user: string) => ({ user, device: `${user}-d0` });

function recorder(): RunRecorder {
  return new RunRecorder({
    scenario: 's',
    runId: 'r',
    devicesPerUser: 1,
    thresholdsMs: [250, 333],
    properties: ['no-loss', 'per-conversation-order'],
  });
}

/** Observations per bucket bound (ms) of a histogram family in one phase, non-cumulative. */
function buckets(r: RunRecorder, name: string, phase = 0): Record<string, number> {
  const family = r.layout.families.find((f) => f.name === name)!;
  const base = slotOf(family, 0, phase);
  const out: Record<string, number> = {};
  family.bounds.forEach((bound, i) => {
    if (r.values[base + i]! > 0) out[bound] = r.values[base + i]!;
  });
  if (r.values[base + family.bounds.length]! > 0) out['+Inf'] = r.values[base + family.bounds.length]!;
  return out;
}

function feed(r: RunRecorder, events: HistoryEvent[]): void {
  for (const event of events) r.observe(event);
}

describe('RunRecorder', () => {
  it('measures delivery from the scheduled send, fan-out first to last, and from the ack', () => {
    const r = recorder();
    feed(r, [
      { k: 'conv', at: 0, conv: 'g', kind: 'group', members: ['a', 'b', 'c'] },
      { k: 'send', at: 100, conv: 'g', cmid: 'm1', body: 'x', ...dev('a') },
      { k: 'durable', at: 120, message: message(1, 'm1') },
      { k: 'ack', at: 140, conv: 'g', cmid: 'm1', seq: 1, ts: 0, sentAt: 100, ...dev('a') },
      { k: 'display', at: 141, via: 'own', message: message(1, 'm1'), ...dev('a') },
      { k: 'display', at: 150, via: 'push', message: message(1, 'm1'), ...dev('b') },
      { k: 'display', at: 400, via: 'sync', message: message(1, 'm1'), ...dev('c') },
    ]);
    expect(buckets(r, 'chatsim_harness_delivery_latency_seconds')).toEqual({ 50: 1, 300: 1 });
    expect(buckets(r, 'chatsim_harness_ack_latency_seconds')).toEqual({ 50: 1 });
    expect(buckets(r, 'chatsim_harness_fanout_from_ack_seconds')).toEqual({ 10: 1, 300: 1 });
    // Complete after both recipients (3 members x 1 device, minus the sender's own).
    expect(buckets(r, 'chatsim_harness_fanout_lag_seconds')).toEqual({ 250: 1 });
    expect(r.total('displays')).toBe(2);
    expect(r.total('sends')).toBe(1);
    expect(r.total('acks')).toBe(1);
  });

  it('resolves the thresholds it was given as bucket bounds', () => {
    const family = recorder().layout.families[0]!;
    expect(family.bounds).toContain(333);
    expect(family.bounds).toContain(250);
    expect([...family.bounds].sort((x, y) => x - y)).toEqual(family.bounds);
  });

  it('times a push that beats the ack from the scheduled send, and its lag from the ack as 0', () => {
    const r = recorder();
    feed(r, [
      { k: 'conv', at: 0, conv: 'g', kind: 'direct', members: ['a', 'b'] },
      { k: 'send', at: 1000, conv: 'g', cmid: 'm1', body: 'x', ...dev('a') },
      { k: 'display', at: 1020, via: 'push', message: message(1, 'm1'), ...dev('b') },
      { k: 'ack', at: 1030, conv: 'g', cmid: 'm1', seq: 1, ts: 0, sentAt: 1000, ...dev('a') },
    ]);
    expect(buckets(r, 'chatsim_harness_delivery_latency_seconds')).toEqual({ 25: 1 });
    expect(buckets(r, 'chatsim_harness_fanout_from_ack_seconds')).toEqual({ 1: 1 });
    expect(buckets(r, 'chatsim_harness_ack_latency_seconds')).toEqual({ 50: 1 });
    expect(buckets(r, 'chatsim_harness_fanout_lag_seconds')).toEqual({ 1: 1 });
  });

  it('judges fan-outs still open at the end as they stand, and counts violations by property', () => {
    const r = recorder();
    feed(r, [
      { k: 'conv', at: 0, conv: 'g', kind: 'group', members: ['a', 'b', 'c', 'd'] },
      { k: 'phase', at: 0, phase: 'warmup' },
      { k: 'send', at: 10, conv: 'g', cmid: 'm1', body: 'x', ...dev('a') },
      { k: 'ack', at: 20, conv: 'g', cmid: 'm1', seq: 1, ts: 0, sentAt: 10, ...dev('a') },
      { k: 'display', at: 30, via: 'push', message: message(1, 'm1'), ...dev('b') },
      { k: 'display', at: 2030, via: 'resume', message: message(1, 'm1'), ...dev('c') },
      { k: 'phase', at: 3000, phase: 'final' },
    ]);
    expect(buckets(r, 'chatsim_harness_fanout_lag_seconds', 4)).toEqual({});
    r.finish(
      [
        { property: 'no-loss', verdict: 'fail', details: '3 violations: 3 lost (3 kept)', witness: [] },
        { property: 'per-conversation-order', verdict: 'pass', details: '', witness: [] },
      ],
      3000,
    );
    expect(buckets(r, 'chatsim_harness_fanout_lag_seconds', 4)).toEqual({ 2000: 1 });
    const violations = r.layout.families.find((f) => f.name === 'chatsim_harness_violations')!;
    expect(r.values[slotOf(violations, 0, phaseNames.indexOf('final'))]).toBe(3);
    expect(r.values[slotOf(violations, 1, phaseNames.indexOf('final'))]).toBe(0);
  });

  it('counts sessions, reconnects, lost sessions and resyncs, and keeps the connected gauge', () => {
    const r = recorder();
    feed(r, [
      { k: 'session', at: 5, connectMs: 4, first: true, ...dev('a') },
      { k: 'session', at: 6, connectMs: 700, first: true, ...dev('b') },
      { k: 'session-lost', at: 9, reason: '1012', ...dev('a') },
      { k: 'session', at: 20, connectMs: 3, first: false, ...dev('a') },
      { k: 'sync-sent', at: 21, conv: 'g', after: 0, ...dev('a') },
    ]);
    expect(r.total('sessions')).toBe(3);
    expect(r.total('reconnects')).toBe(1);
    expect(r.total('sessionsLost')).toBe(1);
    expect(r.total('resyncs')).toBe(1);
    expect(r.connected).toBe(2);
    expect(buckets(r, 'chatsim_harness_connect_latency_seconds')).toEqual({ 5: 2, 750: 1 });
  });

  it('labels counters by the phase they happened in and samples once per interval', () => {
    const r = recorder();
    feed(r, [
      { k: 'send', at: 1, conv: 'g', cmid: 'm1', body: 'x', ...dev('a') },
      { k: 'phase', at: 1000, phase: 'faults' },
      { k: 'send', at: 1001, conv: 'g', cmid: 'm2', body: 'x', ...dev('a') },
      { k: 'send', at: 1002, conv: 'g', cmid: 'm3', body: 'x', ...dev('a') },
    ]);
    const sends = r.layout.families.find((f) => f.name === 'chatsim_harness_sends')!;
    expect(r.values[slotOf(sends, 0, 0)]).toBe(1);
    expect(r.values[slotOf(sends, 0, 1)]).toBe(2);
    r.tick(0, 10);
    r.tick(500, 20);
    r.tick(1000, 30);
    expect(r.snapshots.map((s) => s.at)).toEqual([0, 1000]);
    expect(r.total('events')).toBe(30);
  });

  it('refuses a violation of a property it was not told of (a verdict must not vanish)', () => {
    expect(() =>
      recorder().finish([{ property: 'mystery', verdict: 'fail', details: 'x', witness: [] }], 0),
    ).toThrow(/unknown property/);
  });
});

describe('scenarioRecorder', () => {
  it('counts a failed log-store run verdict (store-open-files, store-segment-size) instead of throwing on it', async () => {
    const { scenarioRecorder } = await import('./scenario-recorder.ts');
    const { loadScenario } = await import('../scenarios/load-scenario.ts');
    const recorder = scenarioRecorder(loadScenario('steady'), 'sim-steady-1');
    expect(() =>
      recorder.finish(
        [
          {
            property: 'store-open-files',
            verdict: 'fail',
            details: '1 violation: 5 files open',
            witness: [],
          },
          { property: 'store-segment-size', verdict: 'fail', details: '2 violations: big', witness: [] },
        ],
        1000,
      ),
    ).not.toThrow();
  });
});
