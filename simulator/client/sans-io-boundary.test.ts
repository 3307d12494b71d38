// Keeps the virtual client sans-I/O: no clock, randomness, timer or node: import may creep in, or a
// million simulated clients could no longer run deterministically on a virtual clock.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

const files = readdirSync(here)
  .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
  .map((name) => [name, join(here, name)] as const);

describe('the virtual client sans-I/O boundary', () => {
  it('finds the client sources', () => {
    expect(files.map(([name]) => name)).toContain('virtual-client.ts');
  });

  it.each(files)('%s reads no clock, random, timer or node: module', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    expect(forbidden.filter((pattern) => pattern.test(text)).map(String)).toEqual([]);
  });

  it.each(files)('%s imports only the client, the history types and the protocol', (name, file) => {
    const imports = [...readFileSync(file, 'utf8').matchAll(/from ['"]([^'"]+)['"]/g)].map((m) => m[1]!);
    for (const path of imports) {
      const allowed =
        path.startsWith('./') ||
        path === '../history.ts' ||
        path.startsWith('../../reference-server/protocol/');
      expect(allowed, `${name} imports ${path}`).toBe(true);
    }
  });
});
