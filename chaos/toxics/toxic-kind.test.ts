// The rules a toxic kind adds over Toxiproxy where Toxiproxy would crash or hang: negative rates and
// jitter, slicer sizes that recurse for ever or cut negative slices.

import { describe, expect, it } from 'vitest';
import { toxicKinds } from './index.ts';
import { type Attributes, zeroAttributes } from './toxic-kind.ts';

const check = (type: string, attributes: Attributes) => {
  const kind = toxicKinds.get(type)!;
  return kind.validate?.({ ...zeroAttributes(kind), ...attributes }) ?? null;
};

describe('toxic kind validation', () => {
  it('refuses what would crash Toxiproxy, accepts what Toxiproxy accepts', () => {
    expect(check('bandwidth', { rate: -1 })).toMatch(/rate/);
    expect(check('bandwidth', { rate: 0 })).toBeNull();
    expect(check('latency', { jitter: -1 })).toMatch(/jitter/);
    expect(check('latency', { latency: -5 })).toBeNull();
    expect(check('slicer', { average_size: 0 })).toMatch(/average_size/);
    expect(check('slicer', { average_size: 4, size_variation: 5 })).toMatch(/size_variation/);
    expect(check('slicer', { average_size: 4, size_variation: 4 })).toBeNull();
    expect(check('limit_data', { bytes: -3 })).toBeNull();
  });

  it('marks reset_peer as the toxic that makes closes RST, timeout as closing on removal, limit_data as stateful', () => {
    expect([...toxicKinds.values()].filter((k) => k.lingerZero).map((k) => k.type)).toEqual(['reset_peer']);
    expect([...toxicKinds.values()].filter((k) => k.cleanup).map((k) => k.type)).toEqual(['timeout']);
    expect([...toxicKinds.values()].filter((k) => k.newState).map((k) => k.type)).toEqual(['limit_data']);
  });
});
