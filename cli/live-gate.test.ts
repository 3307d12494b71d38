import { describe, expect, it } from 'vitest';
import { liveGateExit } from './live-gate.ts';

const planned = [
  { seed: 1, name: 'steady' },
  { seed: 1, name: 'node-down' },
];

describe('liveGateExit', () => {
  it("is the runs' worst when every planned run ran", () => {
    expect(liveGateExit(0, planned, [{}, {}])).toEqual({ exitCode: 0, notRun: [] });
    expect(liveGateExit(2, planned, [{}, {}])).toEqual({ exitCode: 2, notRun: [] });
  });

  it('a planned run the budget cut is could-not-judge, never a pass', () => {
    expect(liveGateExit(0, planned, [{}, undefined])).toEqual({ exitCode: 3, notRun: ['node-down seed 1'] });
  });

  it('a failed run still decides the exit over the runs not started', () => {
    expect(liveGateExit(1, planned, [{}]).exitCode).toBe(1);
    expect(liveGateExit(2, planned, [{}]).exitCode).toBe(2);
  });
});
