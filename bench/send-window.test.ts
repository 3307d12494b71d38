import { describe, expect, it } from 'vitest';
import { SendWindow } from './send-window.ts';

function recorder(): { keys: string[]; send: (n: number) => string } {
  const keys: string[] = [];
  return {
    keys,
    send: (n) => {
      keys.push(`k${n}`);
      return `k${n}`;
    },
  };
}

describe('SendWindow, closed model', () => {
  it('fills the window at once and refills one slot per completion', () => {
    const w = new SendWindow(3, null, 0);
    const r = recorder();
    w.pump(0, r.send);
    expect(r.keys).toEqual(['k0', 'k1', 'k2']);
    w.pump(5, r.send);
    expect(r.keys).toHaveLength(3);
    expect(w.complete('k1', 7)).toBe(7);
    w.pump(7, r.send);
    expect(r.keys).toEqual(['k0', 'k1', 'k2', 'k3']);
    expect(w.complete('k3', 10)).toBe(3);
  });

  it('ignores a repeated answer and frees abandoned slots', () => {
    const w = new SendWindow(1, null, 0);
    const r = recorder();
    w.pump(0, r.send);
    expect(w.complete('k0', 1)).toBe(1);
    expect(w.complete('k0', 2)).toBeNull();
    w.pump(2, r.send);
    expect(w.abandon('k1')).toBe(true);
    expect(w.abandon('k1')).toBe(false);
    expect(w.size).toBe(0);
  });

  it('sends nothing once stopped but still completes what is outstanding', () => {
    const w = new SendWindow(2, null, 0);
    const r = recorder();
    w.pump(0, r.send);
    w.stop();
    expect(w.complete('k0', 4)).toBe(4);
    w.pump(4, r.send);
    expect(r.keys).toHaveLength(2);
    expect(w.sentCount).toBe(2);
  });
});

describe('SendWindow, open model', () => {
  it('sends on schedule while the window has room', () => {
    const w = new SendWindow(10, 10, 100);
    const r = recorder();
    w.pump(99, r.send);
    expect(r.keys).toEqual([]);
    w.pump(125, r.send);
    expect(r.keys).toEqual(['k0', 'k1', 'k2']);
    expect(w.complete('k2', 126)).toBe(6);
  });

  it('counts the time a due send waited for a full window in its latency', () => {
    const w = new SendWindow(1, 10, 0);
    const r = recorder();
    w.pump(0, r.send);
    expect(w.complete('k0', 50)).toBe(50);
    w.pump(50, r.send);
    // k1 was due at 10 but could only leave at 50: its latency runs from 10.
    expect(w.complete('k1', 52)).toBe(42);
  });

  it('refuses nonsense bounds', () => {
    expect(() => new SendWindow(0, null, 0)).toThrow(RangeError);
    expect(() => new SendWindow(1, 0, 0)).toThrow(RangeError);
  });
});
