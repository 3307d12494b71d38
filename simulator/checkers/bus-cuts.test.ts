import { describe, expect, it } from 'vitest';
import type { HistoryEventOf } from '../history.ts';
import { BusCuts, healMarginMs } from './bus-cuts.ts';
import { history } from './history-fixture.ts';

type Fault = HistoryEventOf<'fault'>;

const busCut = (at: number, phase: 'start' | 'heal', node = 'n2'): Fault => history.busCut(at, phase, node);
const storeCut = (at: number, phase: 'start' | 'heal', node = 'n2'): Fault => ({
  k: 'fault',
  at,
  type: 'partition',
  phase,
  nodes: [node],
  target: 'store',
});
const outage = (at: number, phase: 'start' | 'heal'): Fault => ({
  k: 'fault',
  at,
  type: 'store-outage',
  phase,
});
const slow = (at: number, phase: 'start' | 'heal', node?: string): Fault => ({
  k: 'fault',
  at,
  type: 'redis-latency',
  phase,
  ...(node === undefined ? {} : { nodes: [node] }),
});

const cuts = (...faults: Fault[]): BusCuts => {
  const book = new BusCuts();
  for (const fault of faults) book.observe(fault);
  return book;
};

describe('BusCuts', () => {
  it("binds a welcome whose connection began in its node's cut to changes answered before the heal", () => {
    const book = cuts(busCut(1000, 'start'), busCut(3000, 'heal'));
    // Connection began at 1500 (in the cut), welcome at 1600 (still in it): owed the change at 1200.
    expect(book.binds('n2', 1200, 1500, 1600)).toBe(true);
    // A change before the cut too (its event may have been lost in flight).
    expect(book.binds('n2', 500, 1500, 1600)).toBe(true);
    // Welcomed after the heal: owed what was answered up to the heal's margin.
    expect(book.binds('n2', 3000 - healMarginMs, 3500, 3600)).toBe(true);
    expect(book.binds('n2', 3000 - healMarginMs + 1, 3500, 3600)).toBe(false);
    // Another node, a change after the connection began, a connection that began before the cut: no.
    expect(book.binds('n1', 1200, 1500, 1600)).toBe(false);
    expect(book.binds('n2', 1550, 1500, 1600)).toBe(false);
    expect(book.binds('n2', 500, 900, 1600)).toBe(false);
    expect(book.binds(undefined, 1200, 1500, 1600)).toBe(false);
  });

  it('ends a cut at the first heal of any fault that cut the bus, as the simulated bus does', () => {
    // A store partition and a bus partition overlap on n2: the first heal (2000) brings the bus back.
    const book = cuts(storeCut(1000, 'start'), busCut(1500, 'start'), storeCut(2000, 'heal'));
    expect(book.binds('n2', 1900 - healMarginMs, 2100, 2200)).toBe(true);
    expect(book.binds('n2', 1800, 2100, 2200)).toBe(false);
    // A store outage's heal ends every node's cut, and its start counts as none (it names no node).
    const out = cuts(busCut(1000, 'start'), outage(1200, 'start'), outage(1400, 'heal'));
    expect(out.binds('n2', 1300, 1350, 1500)).toBe(false);
    expect(out.binds('n2', 800, 1350, 1500)).toBe(true);
    expect(cuts(outage(1000, 'start')).binds('n2', 1100, 1200, 1300)).toBe(false);
  });

  it('binds after the heal only if nothing slowed the node while it was cut', () => {
    const slowed = cuts(busCut(1000, 'start'), slow(1200, 'start', 'n2'), slow(1300, 'heal', 'n2'));
    // While the cut is open a welcome is always owed: the node cannot have caught up.
    expect(slowed.binds('n2', 1100, 1150, 1400)).toBe(true);
    slowed.observe(busCut(3000, 'heal'));
    expect(slowed.binds('n2', 1100, 1150, 3500)).toBe(false);
    const everyNode = cuts(slow(500, 'start'), busCut(1000, 'start'), busCut(3000, 'heal'));
    expect(everyNode.binds('n2', 1100, 1150, 3500)).toBe(false);
    const elsewhere = cuts(slow(500, 'start', 'n1'), busCut(1000, 'start'), busCut(3000, 'heal'));
    expect(elsewhere.binds('n2', 1100, 1150, 3500)).toBe(true);
  });
});
