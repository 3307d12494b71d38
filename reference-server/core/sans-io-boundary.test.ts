// Keeps the core sans-I/O: no clock, randomness, timer or node: import may creep in, or the
// simulator could no longer run it deterministically.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const forbidden = [
  /\bDate\.now\b/,
  /\bnew Date\b/,
  /\bMath\.random\b/,
  /\bperformance\.now\b/,
  /\bprocess\./,
  /\bset(Timeout|Interval|Immediate)\b/,
  /\bqueueMicrotask\b/,
  /from ['"]node:/,
  /require\(/,
  /import\(['"](?!\.)/,
];

function sources(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
    .map((name) => join(dir, name));
}

describe('the sans-I/O boundary', () => {
  const files = [...sources(here), ...sources(join(here, '../protocol'))];

  it('finds the core sources', () => {
    expect(files.some((file) => file.endsWith('chat-node.ts'))).toBe(true);
  });

  it.each(files.map((file) => [relative(join(here, '..'), file), file] as const))(
    '%s reads no clock, random, timer or node: module',
    (_name, file) => {
      const text = readFileSync(file, 'utf8');
      expect(forbidden.filter((pattern) => pattern.test(text)).map(String)).toEqual([]);
    },
  );

  it('imports nothing outside core/, protocol/ and the store port types', () => {
    for (const file of files) {
      const imports = [...readFileSync(file, 'utf8').matchAll(/from ['"]([^'"]+)['"]/g)].map((m) => m[1]!);
      for (const path of imports) {
        const allowed =
          path.startsWith('./') ||
          path.startsWith('../protocol/') ||
          path === '../store/message-store.ts' ||
          path.startsWith('../core/');
        expect(allowed, `${file} imports ${path}`).toBe(true);
      }
    }
  });
});
