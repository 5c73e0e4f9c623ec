import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { scenarioJsonSchema } from '../../src/scenario/json-schema.js';

describe('schema/scenario.schema.json', () => {
  it('is the JSON Schema of the scenario schema as it is now (npm run schema rewrites it)', async () => {
    const shipped = await readFile(new URL('../../schema/scenario.schema.json', import.meta.url), 'utf8');
    expect(shipped).toBe(scenarioJsonSchema());
  });

  it('describes fleet templates: count, start and the patterns of id and identity', () => {
    const schema = JSON.parse(scenarioJsonSchema()) as { properties: { devices: { items: { properties: Record<string, { description?: string }> } } } };
    const entry = schema.properties.devices.items.properties;
    expect(Object.keys(entry)).toEqual(expect.arrayContaining(['template', 'count', 'start', 'id', 'identity', 'tpm', 'trust', 'expect']));
    expect(entry['id']!.description).toContain('{n:04}');
  });
});
