import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { faultTypes } from '../../scenarios/scenario.ts';
import { faults } from './index.ts';

const here = dirname(fileURLToPath(import.meta.url));

describe('the faults', () => {
  it('has one fault per scenario fault type, each under its own name', () => {
    expect(Object.keys(faults).sort()).toEqual([...faultTypes].sort());
    for (const [type, fault] of Object.entries(faults)) expect(fault.type).toBe(type);
  });

  it('has a test beside every file', () => {
    const sources = readdirSync(here).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'));
    const untested = sources
      .filter((name) => name !== 'fault-harness.ts')
      .filter((name) => !existsSync(join(here, name.replace(/\.ts$/, '.test.ts'))));
    expect(untested).toEqual([]);
  });
});
