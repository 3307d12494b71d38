import { describe, expect, it } from 'vitest';
import { type AllocationNode, summarizeAllocations } from './alloc-profile-summary.ts';

const frame = (functionName: string, url: string, lineNumber: number) => ({
  functionName,
  url,
  lineNumber,
  columnNumber: 0,
});
const node = (
  functionName: string,
  url: string,
  lineNumber: number,
  selfSize: number,
  children: AllocationNode[] = [],
): AllocationNode => ({ callFrame: frame(functionName, url, lineNumber), selfSize, children });

describe('summarizeAllocations', () => {
  it('sums bytes by allocating function and charges builtins to their caller', () => {
    const checker = 'file:///repo/simulator/checkers/rate-limit.ts';
    const queue = 'file:///repo/simulator/kernel/calendar-queue.ts';
    const profile = {
      head: node('(root)', '', -1, 0, [
        node('observe', checker, 130, 600, [node('observe', checker, 130, 200)]),
        node('sortFrom', queue, 117, 0, [node('sort', '', -1, 150, [node('(anonymous)', '', -1, 50)])]),
      ]),
    };
    const text = summarizeAllocations(profile, 10);
    expect(text).toContain('allocated 0 MiB (sampled)');
    const rows = text.split('\n').slice(3);
    expect(rows).toEqual([
      '   80.0%  observe simulator/checkers/rate-limit.ts:131',
      '   15.0%  sort < sortFrom simulator/kernel/calendar-queue.ts:118',
      '    5.0%  (anonymous) < sortFrom simulator/kernel/calendar-queue.ts:118',
    ]);
  });

  it('keeps only the top sites', () => {
    const url = 'file:///repo/simulator/world/world.ts';
    const profile = {
      head: node('(root)', '', -1, 0, [node('a', url, 1, 3), node('b', url, 2, 2), node('c', url, 3, 1)]),
    };
    const rows = summarizeAllocations(profile, 2).split('\n').slice(3);
    expect(rows.map((row) => row.trim().split(/\s+/)[1])).toEqual(['a', 'b']);
  });
});
