// Checkpoint frames reuse the encoded bytes of full index chunks across checkpoints: the bytes must be
// exactly those of a checkpoint encoded from scratch, however the conversation grew in between, and the
// frame codec writes what `encodeFrame(Buffer.from(json))` writes.

import { describe, expect, it } from 'vitest';
import { type CheckpointSource, checkpointFrames } from './checkpoint.ts';
import { encodeFrame, encodeJsonFrame } from './record-codec.ts';
import { StoreState } from './store-state.ts';

function grow(state: StoreState, locations: Map<string, number[]>, from: number, to: number): void {
  for (let i = from; i <= to; i++) {
    state.append({ conv: 'g', from: i % 2 ? 'a' : 'b', cmid: `m${i}`, body: 'é', ts: i * 10 });
    locations.get('g')!.push(i * 7);
  }
}

function bytes(source: CheckpointSource, chunkEntries: number): Buffer {
  return Buffer.concat([...checkpointFrames(source, chunkEntries)]);
}

describe('checkpointFrames', () => {
  it('reuses full chunks across checkpoints with the same bytes as encoding afresh', () => {
    const state = new StoreState();
    state.create({ id: 'g', kind: 'group', members: ['a', 'b'] });
    state.create({ id: 'empty', kind: 'group', members: ['a'] });
    const locations = new Map([
      ['g', [] as number[]],
      ['empty', [] as number[]],
    ]);
    const fullChunks = new Map<string, Buffer[]>();
    const indexFrames = new Map<string, { lastSeq: number; frames: Buffer[] }>();
    let last = 0;
    for (const next of [2, 3, 7, 7, 12, 20]) {
      grow(state, locations, last + 1, next);
      last = next;
      const base = { segment: 1, offset: 0, records: next, conversations: state.records(), state, locations };
      expect(bytes({ ...base, fullChunks, indexFrames }, 3).equals(bytes(base, 3))).toBe(true);
    }
    expect(fullChunks.get('g')).toHaveLength(6);
    // A checkpoint captured before the conversation grew stops at its own lastSeq, cache or not.
    const early = {
      segment: 1,
      offset: 0,
      records: 4,
      conversations: [{ ...state.record('g')!, lastSeq: 4 }],
      state,
      locations,
    };
    expect(bytes({ ...early, fullChunks, indexFrames }, 3).equals(bytes(early, 3))).toBe(true);
  });

  it('encodes a JSON frame as encodeFrame of its UTF-8 bytes', () => {
    for (const value of [{ t: 'end' }, { s: 'é😀\u2028' }, { lone: '\ud800' }])
      expect(encodeJsonFrame(value).equals(encodeFrame(Buffer.from(JSON.stringify(value), 'utf8')))).toBe(
        true,
      );
  });
});
