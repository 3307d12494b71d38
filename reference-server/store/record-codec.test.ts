// The frame format's checks, which decide where recovery stops: length, CRC and shape.

import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeJsonFrame, frameHeaderBytes, readFrame } from './record-codec.ts';

const record = { t: 'append', conv: 'g', seq: 1, from: 'a', cmid: 'x', body: 'héllo', ts: 5 };

describe('record codec', () => {
  it('round-trips a record through a frame', () => {
    const frame = encodeJsonFrame(record);
    const read = readFrame(frame, 0, 1 << 20);
    expect(read.ok && read.end).toBe(frame.length);
    expect(read.ok && decodeRecord(read.payload)).toEqual(record);
  });

  it('reports a cut-short frame with the bytes it needs, and a short header', () => {
    const frame = encodeJsonFrame(record);
    expect(readFrame(frame.subarray(0, frame.length - 1), 0, 1 << 20)).toEqual({
      ok: false,
      reason: 'frame cut short',
      needBytes: frame.length,
    });
    expect(readFrame(frame.subarray(0, 5), 0, 1 << 20)).toMatchObject({
      ok: false,
      needBytes: frameHeaderBytes,
    });
  });

  it('refuses a zero-filled tail, an oversized length and a flipped payload bit', () => {
    expect(readFrame(Buffer.alloc(64), 0, 1 << 20)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/implausible/),
    });
    const frame = encodeJsonFrame(record);
    expect(readFrame(frame, 0, 10)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/implausible/),
    });
    frame[frameHeaderBytes + 3]! ^= 0x20;
    expect(readFrame(frame, 0, 1 << 20)).toEqual({ ok: false, reason: 'CRC mismatch' });
  });

  it('decodes only records of a known shape', () => {
    const bad = [
      { t: 'append', conv: 'g' },
      { t: 'nope' },
      [1],
      'text',
      { t: 'cursor', conv: 'g', user: 'a', kind: 'x', seq: 1 },
    ];
    for (const value of bad) expect(decodeRecord(Buffer.from(JSON.stringify(value)))).toBeNull();
    expect(decodeRecord(Buffer.from('{not json'))).toBeNull();
  });
});
