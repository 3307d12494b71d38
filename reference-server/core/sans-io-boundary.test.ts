// Keeps the core sans-I/O: no clock, randomness, timer or node: import may creep in, or the
// simulator could no longer run it deterministically.

import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importsOf, sansIoViolations, sourcesIn } from '../../test-support/sans-io.ts';
import { bugNames } from '../known-bugs/bugs.ts';

const here = dirname(fileURLToPath(import.meta.url));
const files = [...sourcesIn(here), ...sourcesIn(join(here, '../protocol'))];

describe('the sans-I/O boundary', () => {
  it('finds the core sources', () => {
    expect(files.some((file) => file.endsWith('chat-node.ts'))).toBe(true);
  });

  it.each(files.map((file) => [relative(join(here, '..'), file), file] as const))(
    '%s reads no clock, random, timer or node: module',
    (_name, file) => {
      expect(sansIoViolations(file)).toEqual([]);
    },
  );

  it('imports nothing outside core/, protocol/ and the store port types', () => {
    for (const file of files) {
      for (const path of importsOf(file)) {
        const allowed =
          path.startsWith('./') ||
          path.startsWith('../protocol/') ||
          path === '../store/message-store.ts' ||
          path.startsWith('../core/');
        expect(allowed, `${file} imports ${path}`).toBe(true);
      }
    }
  });

  it('carries no deliberate bug: known-bug variants are built in place of the node, not branches in it', () => {
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(text, `${file} mentions the bug catalogue`).not.toMatch(
        /\bbugs?\b.*\.has\(|known-bugs|bugs\.ts/,
      );
      for (const bug of bugNames)
        expect(text.includes(`'${bug}'`), `${file} names the bug '${bug}'`).toBe(false);
    }
  });
});
