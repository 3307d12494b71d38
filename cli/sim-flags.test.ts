// `chatsim sim --checker-thread`: auto judges on a second thread only for big runs on a machine with
// a second core; on and off are taken as said; anything else is a usage error.

import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { checkerThreadClientsMin, parseCheckerThread, usesCheckerThread } from './sim.ts';

describe('--checker-thread', () => {
  it('auto: from the threshold up, with two cores', () => {
    expect(usesCheckerThread('auto', checkerThreadClientsMin, 2)).toBe(true);
    expect(usesCheckerThread('auto', checkerThreadClientsMin - 1, 2)).toBe(false);
    expect(usesCheckerThread('auto', 1_000_000, 1)).toBe(false);
  });

  it('on and off whatever the size', () => {
    expect(usesCheckerThread('on', 10, 1)).toBe(true);
    expect(usesCheckerThread('off', 1_000_000, 8)).toBe(false);
  });

  it('names the choices on a wrong value', () => {
    expect(parseCheckerThread('on')).toBe('on');
    expect(() => parseCheckerThread('yes')).toThrow(InvalidArgumentError);
    expect(() => parseCheckerThread('yes')).toThrow(/auto, on or off/);
  });
});
