// What a sans-I/O module may not touch (clock, randomness, timers, process, node: modules, dynamic
// imports), and a finder for a folder's sources: the core's and the client's boundary tests share it.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const sansIoForbidden = [
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

/** The non-test TypeScript sources directly in `dir`. */
export function sourcesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
    .map((name) => join(dir, name));
}

/** The forbidden patterns a file matches (empty when it is clean). */
export function sansIoViolations(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return sansIoForbidden.filter((pattern) => pattern.test(text)).map(String);
}

/** The module specifiers a file imports. */
export function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/from ['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}
