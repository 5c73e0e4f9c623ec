/** Writes schema/scenario.schema.json from the scenario schema: `npm run schema`. */
import { writeFileSync } from 'node:fs';
import { scenarioJsonSchema } from '../src/scenario/json-schema.js';

writeFileSync(new URL('../schema/scenario.schema.json', import.meta.url), scenarioJsonSchema());
