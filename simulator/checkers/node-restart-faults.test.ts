import { describe, expect, it } from 'vitest';
import { faultTypes } from '../../scenarios/scenario.ts';
import { drainRestart } from '../faults/rolling-restart.ts';
import { nodeRestartFaultTypes } from './node-restart-faults.ts';

describe('nodeRestartFaultTypes', () => {
  it('names only fault types that exist (a misspelt one would excuse nothing)', () => {
    const known = new Set<string>([...faultTypes, drainRestart]);
    for (const type of nodeRestartFaultTypes) expect(known.has(type), type).toBe(true);
  });

  it('holds every fault whose name says it crashes or restarts, and the disk faults that restart a store', () => {
    for (const type of faultTypes.filter((t) => /crash|restart/.test(t)))
      expect(nodeRestartFaultTypes.has(type), type).toBe(true);
    for (const type of ['disk-torn-write', 'disk-lost-flush', 'disk-fsync-error', 'disk-full'])
      expect(nodeRestartFaultTypes.has(type), type).toBe(true);
    // A slow disk or a pause keeps the process, and its memory.
    expect(nodeRestartFaultTypes.has('disk-slow')).toBe(false);
    expect(nodeRestartFaultTypes.has('node-pause')).toBe(false);
  });
});
