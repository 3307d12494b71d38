// Finds a scenario by name (scenarios/<name>.json) or by path, parses and validates it. Every way
// this can fail is a ScenarioError that says what to do: which names exist, where the JSON broke,
// every field that is wrong.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Scenario, ScenarioError, validateScenario } from './scenario.ts';

export const scenariosDir = dirname(fileURLToPath(import.meta.url));

export function scenarioNames(): string[] {
  return readdirSync(scenariosDir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .sort();
}

export function loadScenario(nameOrPath: string): Scenario {
  const byName = join(scenariosDir, `${nameOrPath}.json`);
  const path = /[/\\]|\.json$/.test(nameOrPath) ? resolve(nameOrPath) : byName;
  if (!existsSync(path))
    throw new ScenarioError(nameOrPath, [
      `no such scenario; use one of: ${scenarioNames().join(', ')}, or a path to a .json file`,
    ]);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ScenarioError(path, [`is not valid JSON: ${(error as Error).message}`]);
  }
  return validateScenario(value, path);
}
