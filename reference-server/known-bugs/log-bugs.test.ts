import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SegmentSink } from '../store/segment-file.ts';
import { logBugPolicies, withWriteBehind } from './log-bugs.ts';

function recordingSink(calls: string[]): SegmentSink {
  return {
    open: async (segment) => void calls.push(`open ${segment}`),
    write: async (data, position) => void calls.push(`write ${data.length}@${position}`),
    sync: async () => void calls.push('sync'),
    close: async () => void calls.push('close'),
  };
}

describe("withWriteBehind ('ack-before-durable' live)", () => {
  afterEach(() => vi.useRealTimers());

  it('holds each write back by the delay, so a crash in that window loses it', async () => {
    vi.useFakeTimers();
    const calls: string[] = [];
    const sink = withWriteBehind({}, 50).wrapSink!(recordingSink(calls));
    const written = sink.write(Buffer.alloc(10), 0);
    await vi.advanceTimersByTimeAsync(49);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await written;
    expect(calls).toEqual(['write 10@0']);
  });

  it('keeps a sink policy it is combined with (fsync-retry still retries)', async () => {
    const calls: string[] = [];
    let fails = 1;
    const failingOnce: SegmentSink = {
      ...recordingSink(calls),
      sync: async () => {
        calls.push('sync');
        if (fails-- > 0) throw new Error('EIO');
      },
    };
    const sink = withWriteBehind(logBugPolicies(['fsync-retry']), 1).wrapSink!(failingOnce);
    await sink.sync();
    expect(calls).toEqual(['sync', 'sync']);
  });
});
