import { describe, expect, it } from 'vitest';
import { findKnee, type RepeatResult, type StepResult, stepHeld } from './knee.ts';

const repeat = (broke: string[] = []): RepeatResult => ({
  exitCode: broke.length === 0 ? 0 : 2,
  broke,
  sentPerSec: 1,
  ackedPerSec: 1,
  displayedPerSec: 1,
  failedSends: 0,
  ackP99Ms: 1,
  deliveryP99Ms: 1,
  serverCpuShare: null,
  serverBytesPerConnection: null,
  serverConnectionsPeak: null,
  generatorCpuShareMax: 0,
  generatorRssBytesMax: 0,
  generatorLimited: false,
});
const step = (
  phase: StepResult['phase'],
  clients: number,
  rate: number,
  ...repeats: RepeatResult[]
): StepResult => ({
  phase,
  clients,
  offeredMsgsPerSec: rate,
  repeats,
  held: stepHeld(repeats),
});

describe('findKnee', () => {
  it('a step holds only if every repeat held', () => {
    expect(stepHeld([repeat(), repeat(['threshold ackLatency p(99)<=500 (actual 900)'])])).toBe(false);
    expect(stepHeld([repeat(), repeat()])).toBe(true);
    expect(stepHeld([])).toBe(false);
  });

  it('brackets the knee in the rate phase and names every distinct limit once', () => {
    const steps = [
      step('connections', 100, 20, repeat()),
      step('connections', 200, 40, repeat()),
      step('rate', 200, 80, repeat()),
      step(
        'rate',
        200,
        160,
        repeat(['threshold failedSends count<1 (actual 3)']),
        repeat(['threshold failedSends count<1 (actual 3)', 'did not settle']),
      ),
    ];
    const knee = findKnee(steps);
    expect(knee.lastHeld).toBe(steps[2]);
    expect(knee.firstBroken).toBe(steps[3]);
    expect(knee.limit).toEqual(['threshold failedSends count<1 (actual 3)', 'did not settle']);
    expect(knee.describe).toContain('knee between 200 connections, 80 msgs/s offered (held)');
  });

  it('a connections-phase break leaves the last held connections step as the knee', () => {
    const steps = [
      step('connections', 100, 20, repeat()),
      step('connections', 200, 40, repeat(['check no-loss failed'])),
    ];
    const knee = findKnee(steps);
    expect(knee.lastHeld?.clients).toBe(100);
    expect(knee.limit).toEqual(['check no-loss failed']);
  });

  it('after a connections break, the rate phase at the connections that held gets its own knee', () => {
    const steps = [
      step('connections', 100, 20, repeat()),
      step('connections', 200, 40, repeat(['did not settle'])),
      step('rate', 100, 40, repeat()),
      step('rate', 100, 80, repeat(['threshold ackLatency p(99)<=2000 (actual 3407.9)'])),
    ];
    const knee = findKnee(steps);
    expect(knee.firstBroken).toBe(steps[1]);
    expect(knee.rate?.lastHeld).toBe(steps[2]);
    expect(knee.rate?.firstBroken).toBe(steps[3]);
    expect(knee.rate?.limit).toEqual(['threshold ackLatency p(99)<=2000 (actual 3407.9)']);
    expect(knee.describe).toContain(
      'messages/s at 100 connections: knee between 100 connections, 40 msgs/s offered (held)',
    );
  });

  it('says when it found no knee, or when the first step already broke', () => {
    expect(findKnee([step('connections', 100, 20, repeat())]).describe).toMatch(/^no knee found/);
    const first = findKnee([step('connections', 100, 20, repeat(['did not settle']))]);
    expect(first.lastHeld).toBeNull();
    expect(first.describe).toMatch(/first step already broke/);
  });
});
