import { describe, expect, it } from 'vitest';
import { finalReadOrder, finalReadOrderSlackMs } from './final-read-order.ts';

describe('finalReadOrder', () => {
  it('says nothing when every ack came before the final read began (or there was none)', () => {
    expect(finalReadOrder(171_999, 172_000)).toBeNull();
    expect(finalReadOrder(172_000, 172_000)).toBeNull();
    // Within the two processes' clock slack of the read's start: not taken for after it.
    expect(finalReadOrder(172_000 + finalReadOrderSlackMs, 172_000)).toBeNull();
    expect(finalReadOrder(Number.NEGATIVE_INFINITY, 0)).toBeNull();
  });

  it('an ack after the final read began makes the run unknown, with both times', () => {
    // cap9's burst, 04:30: the read began at the settle deadline (172 s), acks went on to 192 s.
    const verdict = finalReadOrder(192_083.6, 172_032);
    expect(verdict).toMatchObject({ property: 'final-read-order', verdict: 'unknown' });
    expect(verdict?.details).toContain('an ack at 192084 ms came after the final read began at 172032 ms');
    expect(verdict?.witness).toHaveLength(1);
    expect(finalReadOrder(172_000 + finalReadOrderSlackMs + 1, 172_000)?.verdict).toBe('unknown');
  });
});
