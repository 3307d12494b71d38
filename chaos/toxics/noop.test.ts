// The central property of the link model: toxics added, updated and removed on an open connection
// never lose, duplicate or reorder a byte, in either direction, whatever the chunking.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  keepsEveryByte,
  resetToxics,
  streamThrough,
  toxicBody,
  useHarness,
} from '../../test-support/proxy-harness.ts';

const harness = useHarness();

describe('noop, and toxics changing on open connections', () => {
  keepsEveryByte(harness, (stream) => fc.constant(toxicBody('noop', stream, {})), { numRuns: 25 });

  it('a noop toxic passes large chunks whole', async () => {
    await resetToxics(harness());
    const chunks = [Buffer.from('a'), Buffer.alloc(70_000, 7), Buffer.from('z')];
    const received = await streamThrough(harness(), 'upstream', chunks, [
      { at: 0, op: 'add', toxic: toxicBody('noop', 'upstream', {}) },
    ]);
    expect(received.equals(Buffer.concat(chunks))).toBe(true);
  });
});
