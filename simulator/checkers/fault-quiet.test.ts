// FaultQuiet: what idempotency's give-ups, read-pages' silences and no-spurious-unavailable's errs are judged
// by. A stretch is quiet only when no fault is open and none started or healed inside it; overlapping faults
// stay open until the last heals. Which faults count depends on what they can do to the request: cut the
// way to a node or stop it (silence), or fail the node's store or bus (only `unavailable`, on that node).

import { describe, expect, it } from 'vitest';
import type { HistoryEventOf } from '../history.ts';
import { FaultQuiet, faultCuts, faultFails } from './fault-quiet.ts';

const fault = (at: number, phase: 'start' | 'heal'): HistoryEventOf<'fault'> => ({
  k: 'fault',
  at,
  type: 'partition',
  phase,
});

describe('FaultQuiet', () => {
  it('is quiet from any time before the first fault', () => {
    const faults = new FaultQuiet();
    expect(faults.anyOpen).toBe(false);
    expect(faults.quietSince(0)).toBe(true);
  });

  it('is not quiet while a fault is open, nor over a stretch a fault started or healed in', () => {
    const faults = new FaultQuiet();
    faults.observe(fault(100, 'start'));
    expect(faults.anyOpen).toBe(true);
    expect(faults.quietSince(200)).toBe(false);
    faults.observe(fault(300, 'heal'));
    expect(faults.anyOpen).toBe(false);
    expect(faults.quietSince(250)).toBe(false);
    expect(faults.quietSince(300)).toBe(false);
    expect(faults.quietSince(301)).toBe(true);
  });

  it('keeps overlapping faults open until the last heals', () => {
    const faults = new FaultQuiet();
    faults.observe(fault(100, 'start'));
    faults.observe(fault(150, 'start'));
    faults.observe(fault(200, 'heal'));
    expect(faults.anyOpen).toBe(true);
    expect(faults.quietSince(500)).toBe(false);
    faults.observe(fault(400, 'heal'));
    expect(faults.anyOpen).toBe(false);
    expect(faults.quietSince(500)).toBe(true);
  });

  it('tells faults that cut a client from its node from faults that fail its store or bus', () => {
    const kind = (type: string, target?: 'clients' | 'node' | 'store' | 'bus') => {
      const event = { type, ...(target ? { target } : {}) };
      return `${faultCuts(event) ? 'cuts' : ''}${faultFails(event) ? 'fails' : ''}` || 'slows';
    };
    expect(kind('partition', 'clients')).toBe('cuts');
    expect(kind('partition', 'node')).toBe('cuts');
    expect(kind('partition')).toBe('cuts');
    expect(kind('partition', 'store')).toBe('fails');
    expect(kind('partition', 'bus')).toBe('fails');
    for (const type of ['node-crash', 'node-pause', 'rolling-restart', 'timeout', 'latency', 'clock-offset'])
      expect(kind(type), type).toBe('cuts');
    for (const type of ['store-outage', 'store-flaky', 'disk-fsync-error', 'disk-full', 'disk-slow'])
      expect(kind(type), type).toBe('fails');
    // The store's machine crashes: embedded, its node with it; shared, the nodes run on and refuse.
    expect(kind('disk-torn-write')).toBe('cutsfails');
    expect(kind('crash-during-recovery')).toBe('cutsfails');
    // A draining node refuses new sends `unavailable` until it exits (swarm seed 125075945314940).
    expect(kind('drain-restart')).toBe('cutsfails');
    expect(kind('redis-latency')).toBe('slows');
    // A type the harness does not know yet is taken as the widest excuse.
    expect(kind('new-fault')).toBe('cuts');
  });

  it('leaves a node reachable while only its store fails, and excuses unavailable on that node only', () => {
    const faults = new FaultQuiet();
    const on = (at: number, phase: 'start' | 'heal', type: string, nodes?: string[]) =>
      faults.observe({ k: 'fault', at, type, phase, ...(nodes ? { nodes } : {}) });
    on(100, 'start', 'store-flaky', ['n2']);
    on(100, 'start', 'redis-latency', ['n1']);
    expect(faults.anyOpen).toBe(true);
    expect(faults.quietSince(50)).toBe(false);
    // Nothing cuts: every node must answer.
    expect(faults.reachableSince(50)).toBe(true);
    // n2's store link is lossy: its unavailable is explained; n1's slow Redis explains none.
    expect(faults.dependenciesQuietSince(50, 'n2')).toBe(false);
    expect(faults.dependenciesQuietSince(50, 'n1')).toBe(true);
    expect(faults.dependenciesQuietSince(50)).toBe(false);
    on(200, 'heal', 'store-flaky', ['n2']);
    expect(faults.dependenciesQuietSince(150, 'n2')).toBe(false);
    expect(faults.dependenciesQuietSince(201, 'n2')).toBe(true);
    // A store outage (no node named) fails every node's store.
    on(300, 'start', 'store-outage');
    expect(faults.dependenciesQuietSince(250, 'n1')).toBe(false);
    expect(faults.reachableSince(250)).toBe(true);
    on(400, 'heal', 'store-outage');
    // A node crash cuts, and fails no store.
    on(500, 'start', 'node-crash', ['n1']);
    expect(faults.reachableSince(450)).toBe(false);
    expect(faults.dependenciesQuietSince(450, 'n1')).toBe(true);
    // It cuts the sessions on n1 only.
    expect(faults.reachableSince(450, 'n1')).toBe(false);
    expect(faults.reachableSince(450, 'n2')).toBe(true);
    on(600, 'heal', 'node-crash', ['n1']);
    expect(faults.cutLastAt()).toBe(600);
    expect(faults.cutLastAt('n1')).toBe(600);
    expect(faults.cutLastAt('n2')).toBe(Number.NEGATIVE_INFINITY);
    expect(faults.reachableSince(601)).toBe(true);
    // A fault on clients' links (no node named) cuts sessions on every node.
    on(700, 'start', 'timeout');
    on(700, 'heal', 'timeout');
    expect(faults.reachableSince(650, 'n2')).toBe(false);
    expect(faults.cutLastAt('n2')).toBe(700);
    // A time not known is never quiet.
    expect(faults.dependenciesQuietSince(Number.NaN, 'n1')).toBe(false);
    expect(faults.reachableSince(Number.NaN)).toBe(false);
  });

  it("takes a failed disk's heal as a cut: the supervisor restarts the store, embedded its node", () => {
    const faults = new FaultQuiet();
    faults.observe({ k: 'fault', at: 100, type: 'disk-fsync-error', phase: 'start', nodes: ['n1'] });
    expect(faults.reachableSince(50)).toBe(true);
    faults.observe({ k: 'fault', at: 200, type: 'disk-fsync-error', phase: 'heal', nodes: ['n1'] });
    expect(faults.reachableSince(150)).toBe(false);
    expect(faults.cutLastAt()).toBe(200);
    expect(faults.reachableSince(150, 'n1')).toBe(false);
    expect(faults.reachableSince(150, 'n2')).toBe(true);
    expect(faults.reachableSince(201)).toBe(true);
    // A slow disk's heal restarts nothing.
    faults.observe({ k: 'fault', at: 300, type: 'disk-slow', phase: 'start', nodes: ['n1'] });
    faults.observe({ k: 'fault', at: 400, type: 'disk-slow', phase: 'heal', nodes: ['n1'] });
    expect(faults.reachableSince(250)).toBe(true);
  });

  it('tells whether a cut or a slow fault was open at any moment of a past stretch, when the last cut before a time healed, and since when a store refused at once', () => {
    const faults = new FaultQuiet();
    const on = (at: number, phase: 'start' | 'heal', type: string, nodes?: string[], target?: 'store') =>
      faults.observe({
        k: 'fault',
        at,
        type,
        phase,
        ...(nodes ? { nodes } : {}),
        ...(target ? { target } : {}),
      });
    on(100, 'start', 'node-pause', ['n1']);
    on(200, 'heal', 'node-pause', ['n1']);
    on(300, 'start', 'disk-fsync-error', ['n2']);
    on(400, 'heal', 'disk-fsync-error', ['n2']);
    on(500, 'start', 'redis-latency', ['n3']);
    on(600, 'start', 'store-flaky', ['n2']);
    // The pause cut n1's sessions from 100 to 200, no other node's.
    expect(faults.cutOrSlowedDuring(150, 160, 'n1')).toBe(true);
    expect(faults.cutOrSlowedDuring(50, 100, 'n1')).toBe(true);
    expect(faults.cutOrSlowedDuring(201, 290, 'n1')).toBe(false);
    expect(faults.cutOrSlowedDuring(150, 160, 'n2')).toBe(false);
    expect(faults.cutOrSlowedDuring(150, 160)).toBe(true);
    // A failed disk fails n2's store from 300 to 400 (no cut), and its heal restarts n2: an instant.
    expect(faults.cutOrSlowedDuring(310, 390, 'n2')).toBe(false);
    expect(faults.cutOrSlowedDuring(310, 400, 'n2')).toBe(true);
    expect(faults.cutEndedBefore(450, 'n2')).toBe(400);
    expect(faults.cutEndedBefore(450, 'n1')).toBe(200);
    expect(faults.cutEndedBefore(150, 'n1')).toBe(Number.NEGATIVE_INFINITY);
    // A slow Redis (still open) slows n3 from 500 on.
    expect(faults.cutOrSlowedDuring(450, 499, 'n3')).toBe(false);
    expect(faults.cutOrSlowedDuring(450, 10_000, 'n3')).toBe(true);
    // A store refusing at once: n2's failed fsync from 300 to 400; a lossy link (store-flaky) is not.
    expect(faults.refusingFrom(0, 299, 'n2')).toBeNaN();
    expect(faults.refusingFrom(0, 10_000, 'n2')).toBe(300);
    expect(faults.refusingFrom(350, 10_000, 'n2')).toBe(300);
    expect(faults.refusingFrom(401, 10_000, 'n2')).toBeNaN();
    expect(faults.refusingFrom(0, 10_000, 'n1')).toBeNaN();
    expect(faults.refusingFrom(0, 10_000)).toBe(300);
    on(700, 'start', 'store-outage');
    expect(faults.refusingFrom(600, 10_000, 'n1')).toBe(700);
    expect(faults.refusingFrom(0, 10_000, 'n2')).toBe(300);
    // A fault on clients' links (no node named) cuts every node's sessions.
    on(1_000, 'start', 'timeout');
    on(1_000, 'heal', 'timeout');
    expect(faults.cutOrSlowedDuring(900, 1_000, 'n2')).toBe(true);
    expect(faults.cutEndedBefore(1_001, 'n2')).toBe(1_000);
  });
});
