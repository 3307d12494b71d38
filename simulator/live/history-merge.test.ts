import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { HistoryMerge } from './history-merge.ts';

const ev = (at: number, tag: string): HistoryEvent => ({ k: 'phase', at, phase: tag as 'warmup' });
const tags = (events: HistoryEvent[]) => events.map((e) => (e as { phase: string }).phase);

describe('HistoryMerge', () => {
  it('holds a fast generator back until the slow one has promised past its events, then releases in time order', () => {
    const out: HistoryEvent[] = [];
    const merge = new HistoryMerge((e) => out.push(e));
    const a = merge.addSource();
    const b = merge.addSource();
    // b (the receiver) reports first what it saw at 20; a (the typist) has not reported its 10 yet.
    merge.push(b, [ev(20, 'b-received')], 25);
    expect(out).toEqual([]);
    expect(merge.held).toBe(1);
    merge.push(a, [ev(10, 'a-typed')], 15);
    expect(tags(out)).toEqual(['a-typed']);
    merge.push(a, [], 30);
    expect(tags(out)).toEqual(['a-typed', 'b-received']);
    expect(merge.held).toBe(0);
  });

  it("keeps each generator's own order, and releases everything of a generator that ended", () => {
    const out: HistoryEvent[] = [];
    const merge = new HistoryMerge((e) => out.push(e));
    const a = merge.addSource();
    const b = merge.addSource();
    merge.push(a, [ev(5, 'a1'), ev(3, 'a2'), ev(8, 'a3')], null);
    merge.push(b, [ev(4, 'b1'), ev(9, 'b2')], 9);
    expect(out).toEqual([]);
    merge.close(a);
    expect(tags(out)).toEqual(['b1', 'a1', 'a2', 'a3', 'b2']);
    merge.close(b);
    merge.close(b);
    expect(out).toHaveLength(5);
  });

  it('with one generator, passes its events straight through once promised', () => {
    const out: HistoryEvent[] = [];
    const merge = new HistoryMerge((e) => out.push(e));
    const a = merge.addSource();
    merge.push(a, [ev(1, 'x'), ev(2, 'y')], 2);
    expect(tags(out)).toEqual(['x', 'y']);
  });
});
