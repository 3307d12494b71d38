import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdTable } from './id-table.ts';

// The memos (last conv, last device, last user) must never answer for another string: whatever the
// order of lookups, every id is the one a plain first-seen numbering gives.
type Op =
  | { op: 'user'; user: number }
  | { op: 'device'; user: number; device: number }
  | { op: 'prime'; user: number; device: number; hint: number }
  | { op: 'conv'; conv: number };

const ops = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('user' as const), user: fc.nat(4) }),
    fc.record({ op: fc.constant('device' as const), user: fc.nat(4), device: fc.nat(2) }),
    fc.record({ op: fc.constant('prime' as const), user: fc.nat(4), device: fc.nat(2), hint: fc.nat(3) }),
    fc.record({ op: fc.constant('conv' as const), conv: fc.nat(4) }),
  ),
  { maxLength: 60 },
);

describe('IdTable', () => {
  it('gives every string the id of a first-seen numbering, whatever the order of lookups', () => {
    fc.assert(
      fc.property(ops, (sequence: Op[]) => {
        const ids = new IdTable();
        const users = new Map<string, number>();
        const devices = new Map<string, number>();
        const convs = new Map<string, number>();
        const first = (map: Map<string, number>, key: string) => {
          if (!map.has(key)) map.set(key, map.size);
          return map.get(key)!;
        };
        for (const step of sequence) {
          // Fresh string objects each time, as events carry: the memos compare by value.
          const user = `u${step.op === 'conv' ? 0 : step.user}`.slice(0);
          if (step.op === 'user') expect(ids.user(user)).toBe(first(users, user));
          if (step.op === 'conv') expect(ids.conv(`c${step.conv}`)).toBe(first(convs, `c${step.conv}`));
          if (step.op === 'device' || step.op === 'prime') {
            const device = `${user}-d${step.device}`;
            // A device's user gets its id before the device does.
            first(users, user);
            const want = first(devices, device);
            if (step.op === 'device') expect(ids.device(user, device)).toBe(want);
            else ids.prime(user, device, step.hint);
            expect(ids.device(user, device)).toBe(want);
            expect(ids.deviceUser(want)).toBe(users.get(user));
            expect(ids.deviceName(want)).toEqual({ user, device });
            expect(ids.findDevice(user, device)).toBe(want);
          }
        }
        for (const [user, id] of users) expect(ids.user(user)).toBe(id);
      }),
    );
  });
});
