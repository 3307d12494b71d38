import { describe, expect, it } from 'vitest';
import { QueueDrain } from './queue-drain.ts';

describe('QueueDrain', () => {
  it('gives the latest ack of a send issued by a time, acks in any order', () => {
    const drain = new QueueDrain();
    drain.acked('n1', 1000, 5000);
    drain.acked('n1', 3000, 4000); // issued later, acked sooner: covered by the first
    drain.acked('n1', 2000, 9000);
    drain.acked('n1', 4000, 8000); // covered by the one issued at 2000
    drain.acked('n1', 6000, 12_000);
    expect(drain.drainedBy(500, ['n1'])).toBe(Number.NEGATIVE_INFINITY);
    expect(drain.drainedBy(1000, ['n1'])).toBe(5000);
    expect(drain.drainedBy(1999, ['n1'])).toBe(5000);
    expect(drain.drainedBy(2000, ['n1'])).toBe(9000);
    expect(drain.drainedBy(5999, ['n1'])).toBe(9000);
    expect(drain.drainedBy(7000, ['n1'])).toBe(12_000);
  });

  it('keeps nodes apart; a node not known counts for every node, and widens a query to every node', () => {
    const drain = new QueueDrain();
    drain.acked('n1', 1000, 5000);
    drain.acked('n2', 1000, 30_000);
    expect(drain.drainedBy(2000, ['n1', 'n1'])).toBe(5000);
    expect(drain.drainedBy(2000, ['n1', 'n2'])).toBe(30_000);
    expect(drain.drainedBy(2000, ['n1', undefined])).toBe(30_000);
    drain.acked(undefined, 1500, 7000);
    expect(drain.drainedBy(2000, ['n1'])).toBe(7000);
  });

  it('counts sends issued within 100 ms as one, and never as issued earlier than that', () => {
    const drain = new QueueDrain();
    drain.acked('n1', 1000, 2000);
    drain.acked('n1', 1050, 3000);
    expect(drain.drainedBy(1000, ['n1'])).toBe(3000);
    drain.acked('n1', 1200, 4000);
    expect(drain.drainedBy(1100, ['n1'])).toBe(3000);
    expect(drain.drainedBy(1200, ['n1'])).toBe(4000);
  });
});
