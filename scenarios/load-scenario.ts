// Finds a scenario by name (scenarios/<name>.json) or by path, parses it, resolves `extends` and
// validates it. Every way this can fail is a ScenarioError that says what to do: which names exist,
// where the JSON broke, every field that is wrong.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveExtends } from './extend-scenario.ts';
import { type Scenario, ScenarioError, validateScenario } from './scenario.ts';

export const scenariosDir = dirname(fileURLToPath(import.meta.url));

export function scenarioNames(): string[] {
  return readdirSync(scenariosDir)
    .filter((name) => name.endsWith('.json') && !name.endsWith('.schema.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .sort();
}

const looksLikePath = (ref: string) => /[/\\]|\.json$/.test(ref);

/** A name from scenarios/, or a path (relative to `base`, by default the working directory). */
function locate(nameOrPath: string, base: string): string {
  const path = looksLikePath(nameOrPath)
    ? resolve(base, nameOrPath)
    : join(scenariosDir, `${nameOrPath}.json`);
  if (!existsSync(path))
    throw new ScenarioError(nameOrPath, [
      `no such scenario; use one of: ${scenarioNames().join(', ')}, or a path to a .json file`,
    ]);
  return path;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ScenarioError(path, [`is not valid JSON: ${(error as Error).message}`]);
  }
}

export function loadScenario(nameOrPath: string): Scenario {
  const path = locate(nameOrPath, process.cwd());
  const value = resolveExtends(readJson(path), path, (ref, from) => {
    let base: string;
    try {
      base = locate(ref, dirname(from));
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      throw new ScenarioError(
        from,
        error.problems.map((problem) => `extends "${ref}": ${problem}`),
      );
    }
    return { value: readJson(base), source: base };
  });
  return validateScenario(value, path, basename(path, '.json'));
}
