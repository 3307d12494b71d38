// The cost meter counts each step under its kind, and refuses a step the classifier names with no
// costed kind (a `stored` answer classed as plain `stored`, a start classed as nothing): a reading
// with NaN or a lost step would fit a wrong cost model without a word.

import { describe, expect, it } from 'vitest';
import type { Input } from '../core/inputs.ts';
import { CostMeter, UncostedStepError } from './cost-meter.ts';

describe('CostMeter.step', () => {
  it('counts a start and a tick under their kinds', () => {
    const meter = new CostMeter();
    meter.step('start', [], 0.5);
    meter.step('tick', [], 0.25);
    const reading = meter.reading();
    expect(reading.steps[reading.kinds.indexOf('start')]).toBe(1);
    expect(reading.steps[reading.kinds.indexOf('tick')]).toBe(1);
    expect(reading.stepUs[reading.kinds.indexOf('start')]).toBe(500);
  });

  it('throws UncostedStepError for a step of no costed kind', () => {
    const meter = new CostMeter();
    expect(() => meter.step({ type: 'no-such-input' } as unknown as Input, [], 1)).toThrow(UncostedStepError);
    expect(() => meter.step({ type: 'no-such-input' } as unknown as Input, [], 1)).toThrow(/"no-such-input"/);
  });
});
