import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario, scenarioNames } from './load-scenario.ts';
import { ScenarioError, validateScenario } from './scenario.ts';

describe('scenarios', () => {
  it('ships the standard set, each valid', () => {
    const names = scenarioNames();
    for (const name of [
      'steady',
      'partition',
      'crash-restart',
      'reconnect-storm',
      'store-outage',
      'large-group',
      'churn',
      'adversarial',
    ])
      expect(names).toContain(name);
    for (const name of names) expect(loadScenario(name).name).toBe(name);
  });

  it('reports every problem of a broken scenario at once', () => {
    const broken = {
      ...structuredClone(loadScenario('steady')),
      name: 'Bad Name',
      topology: { nodes: 0, store: 'x' },
    };
    (broken as Record<string, unknown>).faults = [{ type: 'meteor', atMs: -1 }];
    try {
      validateScenario(broken, 'broken.json');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ScenarioError);
      const problems = (error as ScenarioError).problems.join('\n');
      expect(problems).toMatch(/name must be kebab-case/);
      expect(problems).toMatch(/topology.nodes must be a positive integer/);
      expect(problems).toMatch(/topology.store/);
      expect(problems).toMatch(/faults\[0\].type must be one of/);
      expect(problems).toMatch(/faults\[0\].atMs/);
    }
  });

  it('says which names exist for an unknown name, and where JSON broke', () => {
    expect(() => loadScenario('nope')).toThrow(/use one of: .*steady/);
    const dir = mkdtempSync(join(tmpdir(), 'chatsim-scenario-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"name": ');
    expect(() => loadScenario(file)).toThrow(/not valid JSON/);
  });

  it('freezes what it returns', () => {
    const scenario = loadScenario('steady');
    expect(Object.isFrozen(scenario.workload)).toBe(true);
  });
});
