// A proxy's toxic chains on their own: names unique across both streams, upstream listed first, each
// in insertion order; changes serialized; reset removes everything.

import { describe, expect, it } from 'vitest';
import type { Toxic } from './toxic.ts';
import { ToxicCollection } from './toxic-collection.ts';
import { latency } from './toxics/latency.ts';
import { noop } from './toxics/noop.ts';

const toxic = (name: string, direction: 'upstream' | 'downstream'): Toxic => ({
  name,
  kind: name.startsWith('l') ? latency : noop,
  stream: direction,
  direction,
  toxicity: 1,
  attributes: {},
});

describe('ToxicCollection', () => {
  it('lists upstream toxics first, each stream in insertion order, behind a hidden noop', async () => {
    const collection = new ToxicCollection();
    for (const t of [
      toxic('d1', 'downstream'),
      toxic('u1', 'upstream'),
      toxic('d2', 'downstream'),
      toxic('u2', 'upstream'),
    ])
      expect(await collection.add(t)).toBe(true);
    expect(collection.list().map((t) => t.name)).toEqual(['u1', 'u2', 'd1', 'd2']);
    expect(collection.liveChains().upstream.map((t) => t.name)).toEqual(['', 'u1', 'u2']);
  });

  it('refuses a name taken on either stream, even when two adds race', async () => {
    const collection = new ToxicCollection();
    const results = await Promise.all([
      collection.add(toxic('same', 'upstream')),
      collection.add(toxic('same', 'downstream')),
    ]);
    expect(results.sort()).toEqual([false, true]);
    expect(collection.list()).toHaveLength(1);
  });

  it('updates in place, removes by name, resets to nothing', async () => {
    const collection = new ToxicCollection();
    await collection.add(toxic('l1', 'upstream'));
    await collection.add(toxic('n1', 'upstream'));
    await collection.update({ ...toxic('l1', 'upstream'), toxicity: 0.5 });
    expect(collection.list().map((t) => [t.name, t.toxicity])).toEqual([
      ['l1', 0.5],
      ['n1', 1],
    ]);
    expect(await collection.remove('missing')).toBe(false);
    expect(await collection.remove('l1')).toBe(true);
    expect(collection.list().map((t) => t.name)).toEqual(['n1']);
    await collection.add(toxic('d', 'downstream'));
    await collection.reset();
    expect(collection.list()).toEqual([]);
  });
});
