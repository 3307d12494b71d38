// The raw side of bench:delivery measures what it says: on the bare broadcast server every frame
// reaches the other members of its room once (none missing), latencies are counted per delivery,
// and the sockets' open rate and idle memory are reported.

import { afterAll, describe, expect, it } from 'vitest';
import { ChildGroup } from './child-group.ts';
import { runRawDelivery } from './raw-delivery.ts';

const group = new ChildGroup();
afterAll(() => group.close());

describe('raw delivery worker', () => {
  it('counts every delivery to the other members of each room, from the scheduled time', async () => {
    const options = { rooms: 2, roomSize: 5, ratePerSec: 50, seconds: 1, warmupSeconds: 0.2 };
    const figures = await runRawDelivery(group, 'broadcast', options);
    expect(figures.connections).toBe(10);
    expect(figures.missing).toBe(0);
    // Sends scheduled after the warm-up, each seen by the 4 other members of its room.
    expect(figures.deliveries % 4).toBe(0);
    expect(figures.deliveries).toBeGreaterThanOrEqual(4 * 40);
    expect(figures.p50).toBeGreaterThan(0);
    expect(figures.p999).toBeGreaterThanOrEqual(figures.p50);
    expect(figures.openRssBytes).toBeGreaterThan(figures.openHeapUsedBytes);
  }, 90_000);
});
