import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transformSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { sourceMapPlaces, summarize } from './cpu-profile-summary.ts';

const dir = mkdtempSync(join(tmpdir(), 'cpu-profile-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Two functions on lines 2 and 6 of a TypeScript file, minified onto one line as tsx does.
const source = [
  '// first line',
  'export function first(a: number): number {',
  '  return a + 1;',
  '}',
  '',
  'export const second = (b: number): number => b * 2;',
].join('\n');
const out = transformSync(source, {
  loader: 'ts',
  minifyWhitespace: true,
  sourcemap: 'external',
  sourcefile: 'fake.ts',
});
const script = join(dir, 'fake.mjs');
writeFileSync(script, out.code);
writeFileSync(`${script}.map`, out.map);
const url = pathToFileURL(script).href;
const frame = (functionName: string, column: number) => ({
  functionName,
  url,
  lineNumber: 0,
  columnNumber: column,
});

describe('sourceMapPlaces', () => {
  it('names a function by its line in the source the map points to', () => {
    const place = sourceMapPlaces();
    expect(place(frame('first', out.code.indexOf('function first')))).toEqual({
      url: pathToFileURL(join(dir, 'fake.ts')).href,
      line: 2,
    });
    expect(place(frame('second', out.code.indexOf('b=>'))).line).toBe(6);
  });

  it('keeps a frame without a map where the profile put it', () => {
    expect(sourceMapPlaces()({ functionName: 'x', url: 'node:fs', lineNumber: 9, columnNumber: 3 })).toEqual({
      url: 'node:fs',
      line: 10,
    });
  });

  it('summarizes self time by the mapped places', () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', 0) },
        { id: 2, callFrame: frame('first', out.code.indexOf('function first')) },
      ],
      samples: [2, 2, 1],
      timeDeltas: [10, 10, 20],
      startTime: 0,
      endTime: 40,
    };
    const text = summarize(profile, 5, sourceMapPlaces());
    expect(text).toContain('50.0%  first');
    expect(text).toContain('fake.ts:2');
  });
});
