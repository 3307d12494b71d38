// `extends`: a scenario file may start from another and write only what differs. The base is
// resolved first (recursively, cycles refused), then the file is laid over it: objects merge key by
// key, lists and plain values replace, and `null` removes a key (e.g. `"swarm": null`).

import { ScenarioError } from './scenario.ts';

/** Reads a base scenario named in `extends` from the file `from`; returns its parsed JSON and path. */
export type ReadBase = (ref: string, from: string) => { value: unknown; source: string };

/** Limits how deep `extends` chains go, so a long chain is a clear error rather than a stack overflow. */
const extendsDepthMax = 16;

export function resolveExtends(
  value: unknown,
  source: string,
  read: ReadBase,
  chain: string[] = [],
): unknown {
  if (!isObject(value) || value.extends === undefined) return value;
  const ref = value.extends;
  if (typeof ref !== 'string')
    throw new ScenarioError(source, [`extends must be a string, got ${JSON.stringify(ref)}`]);
  const here = [...chain, source];
  if (here.length > extendsDepthMax)
    throw new ScenarioError(source, [
      `extends chains more than ${extendsDepthMax} files: ${here.join(' -> ')}`,
    ]);
  const base = read(ref, source);
  if (here.includes(base.source))
    throw new ScenarioError(source, [`extends makes a cycle: ${[...here, base.source].join(' -> ')}`]);
  const resolvedBase = resolveExtends(base.value, base.source, read, here);
  const { extends: _ref, ...own } = value;
  // The base's name and description describe the base, not this file.
  const { name: _name, description: _description, ...inherited } = isObject(resolvedBase) ? resolvedBase : {};
  return merge(inherited, own);
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === null) delete out[key];
    else if (isObject(value) && isObject(out[key]))
      out[key] = merge(out[key] as Record<string, unknown>, value);
    else out[key] = value;
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
