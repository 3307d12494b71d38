// The costed-steps run verdict (verdict.ts): with a cost model, every step a node takes must be of a
// kind the model costs. The adversaries' bad frames include JSON objects that are no client frame (an
// unknown `t`, none), which reach a simulated node as `frame` inputs; a classifier that names such a
// step no costed kind (74bbde3 seed-5 sample mutant 1949: "" instead of `frame-other`) made the cost
// model throw and the run crash; so did a classifier that throws (3c0f288 seed-2 mutant 1868). Each is
// a failed verdict now, and costed-storm judges it.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { InputClassifier, type InputKind } from '../reference-server/core/input-kind.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from './run-scenario.ts';
import { costedStepsProperty, judgeCostedSteps } from './verdict.ts';

const seed = 1;
const clients = 120;
const simTimeoutMs = 300_000;

describe('costed steps (costed-storm)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('judges nothing without a costed step, and fails one of no costed kind', () => {
    expect(judgeCostedSteps([{ costedSteps: 0, uncostedSteps: new Map() }]).verdict).toBe('unknown');
    expect(judgeCostedSteps([{ costedSteps: 5, uncostedSteps: new Map() }]).verdict).toBe('pass');
    const failed = judgeCostedSteps([
      { costedSteps: 5, uncostedSteps: new Map([['', 2]]) },
      { costedSteps: 3, uncostedSteps: new Map([['', 1]]) },
    ]);
    expect(failed.verdict).toBe('fail');
    expect(failed.details).toMatch(/^3 of 11 steps/);
  });

  it(
    'the reference server costs every step, and the run passes',
    async () => {
      const summary = await runScenario(loadScenario('costed-storm'), { seed, clients });
      const verdict = summary.verdicts.find((v) => v.property === costedStepsProperty)!;
      expect(verdict.verdict).toBe('pass');
      expect(summary.exitCode).toBe(0);
    },
    simTimeoutMs,
  );

  it(
    'fails a classifier that names a frame of an unknown type no costed kind, instead of crashing',
    async () => {
      const kindOf = InputClassifier.prototype.kindOf;
      vi.spyOn(InputClassifier.prototype, 'kindOf').mockImplementation(function (
        this: InputClassifier,
        step,
      ) {
        const kind = kindOf.call(this, step);
        return step !== 'tick' && step !== 'start' && step.type === 'frame' && kind === 'frame-other'
          ? ('' as InputKind)
          : kind;
      });
      const summary = await runScenario(loadScenario('costed-storm'), { seed, clients });
      const verdict = summary.verdicts.find((v) => v.property === costedStepsProperty)!;
      expect(verdict.verdict).toBe('fail');
      expect(verdict.details).toMatch(/classed as no costed kind \(""\)/);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );

  it(
    'fails a classifier that throws on text with no `t` (3c0f288 seed-2 mutant 1868), instead of crashing',
    async () => {
      const kindOf = InputClassifier.prototype.kindOf;
      vi.spyOn(InputClassifier.prototype, 'kindOf').mockImplementation(function (
        this: InputClassifier,
        step,
      ) {
        if (step !== 'tick' && step !== 'start' && step.type === 'text' && !step.text.includes('"t"'))
          throw new TypeError("Cannot read properties of null (reading '1')");
        return kindOf.call(this, step);
      });
      const summary = await runScenario(loadScenario('costed-storm'), { seed, clients });
      const verdict = summary.verdicts.find((v) => v.property === costedStepsProperty)!;
      expect(verdict.verdict).toBe('fail');
      expect(verdict.details).toMatch(/"threw TypeError"/);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );
});
