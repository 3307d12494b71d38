// Toxiproxy 2.12's registry: exactly these types, every attribute zero-valued by default.

import { describe, expect, it } from 'vitest';
import { toxicKinds } from './index.ts';
import { zeroAttributes } from './toxic-kind.ts';

describe('toxicKinds', () => {
  it('registers the eight toxic types of Toxiproxy 2.12, and not "down"', () => {
    expect([...toxicKinds.keys()].sort()).toEqual(
      ['bandwidth', 'latency', 'limit_data', 'noop', 'reset_peer', 'slicer', 'slow_close', 'timeout'].sort(),
    );
    expect(toxicKinds.has('down')).toBe(false);
  });

  it('gives each type its attributes in Toxiproxy order, zero-valued', () => {
    const zeroes = Object.fromEntries(
      [...toxicKinds].map(([type, kind]) => [type, JSON.stringify(zeroAttributes(kind))]),
    );
    expect(zeroes).toEqual({
      noop: '{}',
      latency: '{"latency":0,"jitter":0}',
      bandwidth: '{"rate":0}',
      slow_close: '{"delay":0}',
      timeout: '{"timeout":0}',
      reset_peer: '{"timeout":0}',
      slicer: '{"average_size":0,"size_variation":0,"delay":0}',
      limit_data: '{"bytes":0}',
    });
  });
});
