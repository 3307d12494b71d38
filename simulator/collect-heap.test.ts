import { setImmediate as tick } from 'node:timers/promises';
import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { collectHeap } from './collect-heap.ts';

const mib = 2 ** 20;

describe('collectHeap', () => {
  it("frees this thread's dead objects now, and the typed arrays they owned", async () => {
    // Dead objects in the old generation (they survived collections while held), and a typed array's
    // owner: no collection comes on its own in this test.
    let held: unknown[] | null = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `item ${i}` }));
    let column: Float64Array | null = new Float64Array(mib);
    const columnRef = new WeakRef(column);
    collectHeap();
    collectHeap(); // promoted by now
    await tick(); // a WeakRef's target is kept to the end of the job that made it
    const before = getHeapStatistics().used_heap_size;
    expect(held.length + column.length).toBeGreaterThan(0);
    held = null;
    column = null;
    collectHeap();
    expect(getHeapStatistics().used_heap_size).toBeLessThan(before - 10 * mib);
    expect(columnRef.deref()).toBeUndefined();
  });

  it('leaves gc where it was: not exposed to the program', () => {
    collectHeap();
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
