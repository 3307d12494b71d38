// A toxic's JSON is Toxiproxy's: key order, every attribute, and toxicity printed as Go prints a float32.

import { describe, expect, it } from 'vitest';
import { float32, toxicJson } from './toxic.ts';
import { latency } from './toxics/latency.ts';

describe('toxicJson', () => {
  it('orders keys as Toxiproxy does and copies the attributes', () => {
    const attributes = { latency: 10, jitter: 2 };
    const json = toxicJson({
      name: 'l',
      kind: latency,
      stream: 'Upstream',
      direction: 'upstream',
      toxicity: 0.5,
      attributes,
    });
    expect(JSON.stringify(json)).toBe(
      '{"attributes":{"latency":10,"jitter":2},"name":"l","type":"latency","stream":"Upstream","toxicity":0.5}',
    );
    attributes.latency = 99;
    expect(json.attributes.latency).toBe(10);
  });

  it('prints toxicity as a float32 in its shortest form', () => {
    expect(float32(0.1)).toBe(0.1);
    expect(float32(1)).toBe(1);
    expect(float32(2.5)).toBe(2.5);
    expect(float32(0.123456789)).toBe(0.12345679);
    expect(float32(1 / 3)).toBe(0.33333334);
    expect(float32(-1)).toBe(-1);
  });
});
