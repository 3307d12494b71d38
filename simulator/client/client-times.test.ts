// Clients sharing one table of times keep their own rows: growth keeps every row, a row serves one
// client, and two clients' connection timing (connect timeouts here) never leaks into each other.

import { describe, expect, it } from 'vitest';
import { ClientTimes, clientCount, clientRowWidth, clientTime } from './client-times.ts';
import { VirtualClient } from './virtual-client.ts';

describe('ClientTimes', () => {
  it('keeps every row across growth and gives each row to one client only', () => {
    const times = new ClientTimes(1);
    const first = times.claim(0);
    times.values[first + clientTime.lastHeardAt] = 12.5;
    const far = times.claim(40);
    expect(far).toBe(40 * clientRowWidth);
    times.values[far + clientTime.idleTimerAt] = 7.25;
    times.counts[2 * first + clientCount.displayed] = 9;
    times.counts[2 * far + clientCount.errors] = 2;
    expect(times.values[first + clientTime.lastHeardAt]).toBe(12.5);
    expect(times.claim(41)).toBe(41 * clientRowWidth);
    expect(times.values[far + clientTime.idleTimerAt]).toBe(7.25);
    expect(times.counts[2 * first + clientCount.displayed]).toBe(9);
    expect(times.counts[2 * far + clientCount.errors]).toBe(2);
    expect(times.counts[2 * 41 * clientRowWidth + clientCount.errors]).toBe(0);
    // A row's counters lie between its times and the next row's: writing one touches no other.
    const next = times.claim(42);
    for (const column of Object.values(clientTime)) times.values[next + column] = -1.5;
    for (const counter of Object.values(clientCount)) expect(times.counts[2 * next + counter]).toBe(0);
    for (const counter of Object.values(clientCount)) times.counts[2 * next + counter] = -1;
    for (const column of Object.values(clientTime)) expect(times.values[next + column]).toBe(-1.5);
    expect(times.values[next + clientRowWidth + clientTime.reconnectAt]).toBe(0);
    expect(() => times.claim(40)).toThrow(/held by another client/);
    expect(() => times.claim(-1)).toThrow(/whole number/);
  });

  it('lets clients that share it time their connections apart', () => {
    const times = new ClientTimes();
    const services = { rng: () => 0.5, token: () => 't', record: () => {}, times, config: { jitter: false } };
    const early = new VirtualClient({ user: 'u1', device: 'd1', deviceIndex: 0 }, services);
    const late = new VirtualClient({ user: 'u2', device: 'd2', deviceIndex: 1 }, services);
    expect(() => new VirtualClient({ user: 'u3', device: 'd3', deviceIndex: 1 }, services)).toThrow(/held/);
    early.start(0);
    late.start(1000);
    const timeoutMs = early.config.connectTimeoutMs;
    // The early client's connect times out at its own start + timeout; the late one's is still waiting.
    const idle = (client: VirtualClient, now: number) => client.timer('idle', undefined, now);
    expect(idle(early, timeoutMs).some((effect) => effect.type === 'close')).toBe(true);
    expect(idle(late, timeoutMs).some((effect) => effect.type === 'close')).toBe(false);
    expect(idle(late, 1000 + timeoutMs).some((effect) => effect.type === 'close')).toBe(true);
    // Their counters are rows of the same table, apart: each connect timed out once.
    early.displayed += 3;
    expect([early.idleCloses, late.idleCloses, early.reconnects, late.reconnects]).toEqual([1, 1, 1, 1]);
    expect([early.displayed, late.displayed, early.counters.displayed]).toEqual([3, 0, 3]);
  });
});
