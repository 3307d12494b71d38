// Cost models are data: a good file loads by path; a missing name lists what exists; a broken file is
// refused with every problem named, never half-used.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { costModelNames, loadCostModel } from './load-cost-model.ts';
import { ScenarioError } from './scenario.ts';

const dir = mkdtempSync(join(tmpdir(), 'chatsim-cost-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const good = {
  name: 'box',
  measured: { command: 'chatsim capacity --calibrate', date: '2026-11-30', machine: 'test' },
  inputUs: { hello: 120, send: 40 },
  defaultInputUs: 30,
  effectUs: { frame: 5, recipient: 2, store: 10, publish: 0 },
  calibration: { samples: { hello: 3 } },
};

function file(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

describe('loadCostModel', () => {
  it('loads a model by path, without the calibration notes', () => {
    const model = loadCostModel(file('good.json', good));
    expect(model.inputUs).toEqual({ hello: 120, send: 40 });
    expect(model.effectUs.recipient).toBe(2);
    expect('calibration' in model).toBe(false);
  });

  it('keeps the fixed share of a core a calibration fitted', () => {
    expect(loadCostModel(file('fixed.json', { ...good, fixedCpuShare: 0.18 })).fixedCpuShare).toBe(0.18);
  });

  it('names every problem of a broken model', () => {
    const broken = { ...good, inputUs: { hello: -1, helo: 3 }, effectUs: { frame: 5 }, fixedCpuShare: 1 };
    let error: unknown;
    try {
      loadCostModel(file('broken.json', broken));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ScenarioError);
    const problems = (error as ScenarioError).problems.join('\n');
    expect(problems).toMatch(/inputUs\.hello/);
    expect(problems).toMatch(/helo/);
    expect(problems).toMatch(/effectUs\.recipient/);
    expect(problems).toMatch(/fixedCpuShare/);
  });

  it('loads every model kept in scenarios/cost-model/ by name, each saying how it was measured', () => {
    const names = costModelNames();
    expect(names).toContain('reference-server');
    for (const name of names) {
      const model = loadCostModel(name);
      expect(model.name).toBe(name);
      expect(model.measured.command).toMatch(/^npx chatsim capacity .* --calibrate/);
      expect(Object.keys(model.inputUs).length).toBeGreaterThan(5);
    }
  });

  it('refuses what is not JSON, and a name that does not exist', () => {
    expect(() => loadCostModel(file('bad.json', '{'))).toThrow(/not valid JSON/);
    expect(() => loadCostModel('no-such-model')).toThrow(/no such cost model/);
  });
});
