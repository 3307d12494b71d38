// The step coster refuses a step kind it has no cost for: a classifier that names a kind outside
// `inputKinds` must stop a cost-model run loudly, never cost it NaN (a NaN service time would schedule
// the step's effects at no time at all) or nothing.

import { describe, expect, it } from 'vitest';
import type { InputKind } from '../../reference-server/core/input-kind.ts';
import { UncostedStepError } from '../../reference-server/runtime/cost-meter.ts';
import { flatCostModel } from '../../test-support/flat-cost-model.ts';
import { StepCoster } from './cost-model.ts';

describe('StepCoster', () => {
  it('costs every known kind, and throws UncostedStepError for a kind it does not know', () => {
    const coster = new StepCoster({ ...flatCostModel(10), inputUs: { start: 40 } });
    expect(coster.cpuUs('start', [])).toBe(40);
    expect(coster.cpuUs('send', [])).toBe(10);
    expect(coster.kindOf('start')).toBe('start');
    expect(() => coster.cpuUs('stored' as InputKind, [])).toThrow(UncostedStepError);
    expect(() => coster.serviceMs(undefined as unknown as InputKind, [])).toThrow(/classed as undefined/);
  });
});
