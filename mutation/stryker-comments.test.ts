// The mutation score is only as honest as what it ignores. A `// Stryker disable all` runs to the next
// `restore all` that Stryker attaches to a node, and one placed after the last member of a class
// attaches to nothing: every mutant below it was silently ignored (online() and change() in presence.ts,
// 20 mutants, during the second run). So every disable here names the line and the mutators it covers,
// and says why the mutant is equivalent.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const roots = ['reference-server/core', 'reference-server/store'];

function sources(): string[] {
  return roots.flatMap((root) =>
    readdirSync(root)
      .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
      .map((name) => join(root, name)),
  );
}

describe('Stryker comments in the mutated code', () => {
  it('disable only the next line, by mutator name, with a reason', () => {
    const bad: string[] = [];
    for (const file of sources())
      for (const [i, line] of readFileSync(file, 'utf8').split('\n').entries()) {
        if (!line.includes('Stryker')) continue;
        if (!/\/\/ Stryker disable next-line [A-Za-z]+(,[A-Za-z]+)*: \S/.test(line))
          bad.push(`${file}:${i + 1}: ${line.trim()}`);
      }
    expect(bad).toEqual([]);
  });
});
