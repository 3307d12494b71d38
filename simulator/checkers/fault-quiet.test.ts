// FaultQuiet: what idempotency's give-ups and read-pages' silences are judged by. A stretch is quiet only
// when no fault is open and none started or healed inside it; overlapping faults stay open until the last heals.

import { describe, expect, it } from 'vitest';
import type { HistoryEventOf } from '../history.ts';
import { FaultQuiet } from './fault-quiet.ts';

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
});
