import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConnectGate } from './connect-gate.ts';

describe('ConnectGate: a bound on connects in flight', () => {
  it('never has more than its capacity in flight, and every connect asked for is dialed, in order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 60 }),
        // Each step: a client asks to connect, or one in flight finishes (welcomed or closed), or one cancels.
        fc.array(fc.tuple(fc.constantFrom('ask', 'done', 'cancel'), fc.nat()), { maxLength: 300 }),
        (capacity, clients, steps) => {
          const inFlight = new Set<number>();
          const dialed: number[] = [];
          const gate = new ConnectGate(capacity, clients, (i) => {
            inFlight.add(i);
            dialed.push(i);
            expect(inFlight.size).toBeLessThanOrEqual(capacity);
          });
          // What each client wants: to be connected (asked, not yet dialed or done), and the order asked.
          const wanting: number[] = [];
          for (const [what, n] of steps) {
            const i = n % clients;
            if (what === 'ask') {
              if (inFlight.has(i) || wanting.includes(i)) continue;
              wanting.push(i);
              gate.request(i);
              if (inFlight.has(i)) wanting.splice(wanting.indexOf(i), 1);
            } else if (what === 'done') {
              const held = [...inFlight];
              if (held.length === 0) continue;
              const j = held[n % held.length]!;
              inFlight.delete(j);
              const before = dialed.length;
              gate.release(j);
              // The slot went to the longest-waiting client, if any.
              for (const k of dialed.slice(before)) {
                expect(k).toBe(wanting[0]);
                wanting.shift();
              }
            } else {
              if (!wanting.includes(i)) continue;
              wanting.splice(wanting.indexOf(i), 1);
              gate.release(i);
            }
            expect(gate.inFlight).toBe(inFlight.size);
            // Work-conserving: nobody waits while a slot is free.
            if (wanting.length > 0) expect(inFlight.size).toBe(capacity);
          }
          // Drain: finishing every connect in flight dials every client still waiting.
          while (inFlight.size > 0) {
            const [j] = inFlight;
            inFlight.delete(j!);
            gate.release(j!);
          }
          for (const i of wanting) expect(dialed).toContain(i);
          expect(gate.waiting === 0 || wanting.length === 0).toBe(true);
          expect(gate.heldMax).toBeLessThanOrEqual(capacity);
        },
      ),
    );
  });

  it('queues beyond its capacity and counts the connects that waited', () => {
    const dialed: number[] = [];
    const gate = new ConnectGate(2, 5, (i) => dialed.push(i));
    for (let i = 0; i < 5; i++) gate.request(i);
    expect(dialed).toEqual([0, 1]);
    expect(gate.waiting).toBe(3);
    expect(gate.isWaiting(2)).toBe(true);
    gate.release(3); // cancelled while queued: gives no slot back
    gate.release(0);
    expect(dialed).toEqual([0, 1, 2]);
    gate.release(1);
    expect(dialed).toEqual([0, 1, 2, 4]);
    expect(gate.waited).toBe(3);
    expect(gate.heldMax).toBe(2);
  });

  it('dials a client that holds a slot again at once when it asks again', () => {
    const dialed: number[] = [];
    const gate = new ConnectGate(1, 2, (i) => dialed.push(i));
    gate.request(0);
    gate.request(1);
    gate.request(0);
    expect(dialed).toEqual([0, 0]);
    expect(gate.inFlight).toBe(1);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new ConnectGate(0, 1, () => {})).toThrow(/positive integer/);
    expect(() => new ConnectGate(1.5, 1, () => {})).toThrow(/positive integer/);
  });
});
