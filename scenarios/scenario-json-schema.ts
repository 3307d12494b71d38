// Writes scenarios/scenario.schema.json from the zod schema, so editors complete and check scenario
// files (each standard scenario names it in `$schema`). `npm run scenarios:schema` regenerates it;
// a test fails when the committed file is stale.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { scenariosDir } from './load-scenario.ts';
import { scenarioSchema } from './scenario-schema.ts';

export const scenarioJsonSchemaPath = join(scenariosDir, 'scenario.schema.json');

export function scenarioJsonSchema(): string {
  const schema = z.toJSONSchema(scenarioSchema, { io: 'input', target: 'draft-2020-12' });
  return `${JSON.stringify({ ...schema, title: 'chatsim scenario' }, null, 2)}\n`;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  writeFileSync(scenarioJsonSchemaPath, scenarioJsonSchema());
  console.log(`wrote ${scenarioJsonSchemaPath}`);
}
