import { describe, expect, it } from 'vitest';
import { applyMutant, type ReportMutant } from './replay-mutants.ts';

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
      'const a = 1;\nif (false) go();\nend();\n',
    );
  });

  it('replaces across lines, and refuses a location outside the file', () => {
    expect(applyMutant(source, mutant([2, 14], [3, 7], '{}'))).toBe('const a = 1;\nif (a === 1) {}\n');
    expect(() => applyMutant(source, mutant([9, 1], [9, 2], 'x'))).toThrow(/outside the file/);
  });
});
