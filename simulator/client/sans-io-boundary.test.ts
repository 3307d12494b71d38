// Keeps the virtual client sans-I/O: no clock, randomness, timer or node: import may creep in, or a
// million simulated clients could no longer run deterministically on a virtual clock.

import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importsOf, sansIoViolations, sourcesIn } from '../../test-support/sans-io.ts';

const files = sourcesIn(dirname(fileURLToPath(import.meta.url))).map(
  (file) => [basename(file), file] as const,
);

describe('the virtual client sans-I/O boundary', () => {
  it('finds the client sources', () => {
    expect(files.map(([name]) => name)).toContain('virtual-client.ts');
  });

  it.each(files)('%s reads no clock, random, timer or node: module', (_name, file) => {
    expect(sansIoViolations(file)).toEqual([]);
  });

  it.each(files)('%s imports only the client, the history types and the protocol', (name, file) => {
    for (const path of importsOf(file)) {
      const allowed =
        path.startsWith('./') ||
        path === '../history.ts' ||
        path.startsWith('../../reference-server/protocol/');
      expect(allowed, `${name} imports ${path}`).toBe(true);
    }
  });
});
