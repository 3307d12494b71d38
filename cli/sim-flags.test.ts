// `chatsim sim --checker-thread`: auto judges on a second thread only for big runs on a machine with
// a second core; on and off are taken as said; anything else is a usage error.

import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import type { CliIo } from './cli-error.ts';
import { main } from './main.ts';
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

describe('--bug on the memory store', () => {
  it('refuses, as a usage error, a bug the memory store cannot carry, before any run', async () => {
    const lines: string[] = [];
    const io: CliIo = { out: (line) => lines.push(line), err: (line) => lines.push(line), env: {} };
    const code = await main(['sim', 'memory-store', '--seed', '1', '--bug', 'ack-before-durable'], io);
    expect(code).toBe(2);
    expect(lines.join('\n')).toMatch(
      /--bug ack-before-durable needs the log store: memory-store runs on the memory store/,
    );
  });
});
