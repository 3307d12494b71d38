import { describe, expect, it } from 'vitest';
import { applyMutant, locateMutants, type ReportMutant, relocateMutant } from './replay-mutants.ts';

const mutant = (start: [number, number], end: [number, number], replacement: string): ReportMutant => ({
  id: '1',
  mutatorName: 'ConditionalExpression',
  replacement,
  status: 'Survived',
  location: { start: { line: start[0], column: start[1] }, end: { line: end[0], column: end[1] } },
});

describe('applyMutant', () => {
  const source = 'const a = 1;\nif (a === 1) go();\nend();\n';

  it("puts Stryker's replacement at its location (lines and columns from 1)", () => {
    expect(applyMutant(source, mutant([2, 5], [2, 12], 'false'))).toBe(
      'const a = 1;\nif ((false)) go();\nend();\n',
    );
  });

  it("keeps the tree's grouping: an expression's replacement goes in brackets", () => {
    // Stryker mutates the inner `a && b` of `a && b && c` (left-associative) to `a || b`.
    const chain = 'if (a && b && c) go();\n';
    expect(applyMutant(chain, mutant([1, 5], [1, 11], 'a || b'))).toBe('if ((a || b) && c) go();\n');
  });

  it("replaces a switch case as it is (Stryker's ConditionalExpression empties it)", () => {
    const sw = "switch (t) {\n  case 'a':\n    go();\n    return;\n}\n";
    expect(applyMutant(sw, mutant([2, 3], [4, 12], "case 'a':"))).toBe("switch (t) {\n  case 'a':\n}\n");
  });

  it('replaces a block across lines as it is, and refuses a location outside the file', () => {
    const block = { ...mutant([2, 14], [3, 7], '{}'), mutatorName: 'BlockStatement' };
    expect(applyMutant(source, block)).toBe('const a = 1;\nif (a === 1) {}\n');
    expect(() => applyMutant(source, mutant([9, 1], [9, 2], 'x'))).toThrow(/outside the file/);
  });
});

describe('locateMutants', () => {
  const at = (id: string): ReportMutant => ({ ...mutant([1, 1], [1, 2], 'x'), id });
  const report = {
    files: {
      'a.ts': { source: 'a', mutants: [at('1'), at('2')] },
      'b.ts': { source: 'b', mutants: [at('7')] },
    },
  };

  it('finds each id in its own file of a many-file report, and names the ids it has not', () => {
    const { found, missing } = locateMutants(report, ['7', '1', '9']);
    expect(found.map((f) => `${f.id}@${f.path}`)).toEqual(['7@b.ts', '1@a.ts']);
    expect(missing).toEqual(['9']);
  });
});

describe('relocateMutant', () => {
  const then = ['a();', 'b();', 'c();', 'if (x === 1) go();', 'd();', 'e();', 'f();', ''].join('\n');
  const at = mutant([4, 5], [4, 12], 'false');

  it('keeps the place in an unchanged file, and follows lines added above in a changed one', () => {
    expect(relocateMutant(then, then, at)).toBe(at);
    const moved = relocateMutant(then, `new();\nmore();\n${then}`, at)!;
    expect(moved.location).toEqual({ start: { line: 6, column: 5 }, end: { line: 6, column: 12 } });
    expect(applyMutant(`new();\nmore();\n${then}`, moved)).toContain('if ((false)) go();');
  });

  it('refuses to place a mutant whose code, or the code around it, changed, or occurs twice', () => {
    expect(relocateMutant(then, then.replace('x === 1', 'x === 2'), at)).toBeNull();
    expect(relocateMutant(then, then.replace('d();', 'dd();'), at)).toBeNull();
    expect(relocateMutant(then, `${then}${then}`, at)).toBeNull();
  });
});
