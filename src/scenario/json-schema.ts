import { z } from 'zod';
import { scenarioSchema } from './schema.js';

/**
 * The JSON Schema editors validate scenario files with (e.g. yaml-language-server's
 * `# yaml-language-server: $schema=…` line). It is generated from the one zod schema the
 * loader uses, as the input a user writes (durations as text, defaults optional), and
 * shipped as schema/scenario.schema.json; a test keeps the file current.
 */
export function scenarioJsonSchema(): string {
  const schema = z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'throw' });
  return `${JSON.stringify({ ...schema, title: 'bootlab scenario' }, null, 2)}\n`;
}
