// Finds a cost model by name (scenarios/cost-model/<name>.json) or by path and validates it. A model is
// data a calibration wrote (`chatsim capacity --calibrate`); a broken or hand-mangled file is refused
// with every problem named, as a scenario is, never half-used.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { effectFeatures, inputKinds } from '../reference-server/core/input-kind.ts';
import type { CostModel } from '../simulator/world/cost-model.ts';
import { scenariosDir } from './load-scenario.ts';
import { ScenarioError } from './scenario.ts';

export const costModelsDir = join(scenariosDir, 'cost-model');

const us = z.number().min(0).max(1_000_000);

export const costModelSchema = z.strictObject({
  $comment: z.string().optional(),
  name: z.string().min(1),
  measured: z.strictObject({
    command: z.string().min(1),
    date: z.string().min(1),
    machine: z.string().min(1),
    note: z.string().optional(),
  }),
  inputUs: z.partialRecord(z.enum(inputKinds), us),
  defaultInputUs: us,
  effectUs: z.strictObject(
    Object.fromEntries(effectFeatures.map((f) => [f, us])) as Record<
      (typeof effectFeatures)[number],
      typeof us
    >,
  ),
  cpuShare: z.number().gt(0).max(1).optional(),
  fixedCpuShare: z.number().min(0).lt(1).optional(),
  host: z
    .strictObject({
      cores: z.number().gt(0).max(4096),
      othersFixedCores: z.number().min(0),
      othersUsPerMessage: z.number().min(0).max(1_000_000),
      others: z.string(),
    })
    .optional(),
  /** What the calibration saw (samples per kind, the fit), kept for the reader; not used to cost. */
  calibration: z.unknown().optional(),
});

export function costModelNames(): string[] {
  if (!existsSync(costModelsDir)) return [];
  return readdirSync(costModelsDir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .sort();
}

export function costModelPath(nameOrPath: string): string {
  return /[/\\]|\.json$/.test(nameOrPath) ? resolve(nameOrPath) : join(costModelsDir, `${nameOrPath}.json`);
}

export function loadCostModel(nameOrPath: string): CostModel {
  const path = costModelPath(nameOrPath);
  if (!existsSync(path))
    throw new ScenarioError(nameOrPath, [
      `no such cost model; use one of: ${costModelNames().join(', ') || '(none yet)'}, or a path to a .json file (chatsim capacity --calibrate writes one)`,
    ]);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ScenarioError(path, [`is not valid JSON: ${(error as Error).message}`]);
  }
  const parsed = costModelSchema.safeParse(value);
  if (!parsed.success)
    throw new ScenarioError(
      path,
      parsed.error.issues.map((issue) => `${issue.path.join('.') || 'cost model'}: ${issue.message}`),
    );
  const { $comment: _comment, calibration: _calibration, ...model } = parsed.data;
  return model;
}
