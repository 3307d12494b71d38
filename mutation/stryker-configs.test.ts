// The mutation runs measure the gate, so their profile must run every scenario the gate runs: a
// Stryker config that leaves one out counts its kills as survivors and under-reports the gate (the
// sample's config missed fleet-races and memory-store until session 25). stryker.store.config.json
// is the quick store-only run and names its own subset.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gateRunScenarios } from '../cli/gate.ts';

function profileScenarios(config: string): string[] {
  const { commandRunner } = JSON.parse(readFileSync(config, 'utf8')) as {
    commandRunner: { command: string };
  };
  const list = /CHATSIM_MUTATION_SCENARIOS=(\S+)/.exec(commandRunner.command)?.[1];
  if (list === undefined) throw new Error(`${config}: no CHATSIM_MUTATION_SCENARIOS in its command`);
  return list.split(',');
}

describe('the Stryker configs', () => {
  it.each(['stryker.config.json', 'stryker.sample.config.json'])(
    '%s runs every gate scenario once',
    (config) => {
      const names = profileScenarios(config);
      expect([...names].sort()).toEqual([...gateRunScenarios].sort());
    },
  );
});
