import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/errors.js';
import { loadScenario, parseScenario } from '../../src/scenario/load.js';
import { planServe } from '../../src/scenario/serve-config.js';
import { MAX_INPUT_FILE_BYTES } from '../../src/scenario/input-file.js';
import { MAX_YAML_ALIASES, MAX_YAML_NODES } from '../../src/scenario/yaml-limits.js';
import { scenarioFailure } from './scenario-failure.js';

const repo = resolve(import.meta.dirname, '../..');
const dir = await mkdtemp(join(tmpdir(), 'bootlab-yaml-limits-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const head = `name: t
servers:
  dhcp:
    pool: { start: 192.0.2.10, end: 192.0.2.20 }
images:
  - { name: nos, source: ../images/demo-nos, publish: [nos.bin] }
trust: { db: [db-ca] }
`;

const laughs = `${head}description: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
devices: [{ id: sw1, expect: { outcome: installed } }]
`;

describe('YAML inputs are bounded before and while they are built', () => {
  it('refuses the billion laughs with the file and the line of the alias that crosses the limit', () => {
    const e = scenarioFailure(laughs);
    expect(e.message).toBe(`x.yaml:13: YAML: aliases expand the document past ${MAX_YAML_NODES} YAML nodes, the most a file may hold`);
  });

  it('accepts a real file with hundreds of aliases of one anchor (yaml stops at 100 by default)', () => {
    const ok = `${head}devices:\n  - { id: sw0, expect: &ok { outcome: installed, within: 30s } }\n${Array.from({ length: 399 }, (_, i) => `  - { id: sw${i + 1}, expect: *ok }`).join('\n')}\n`;
    const s = parseScenario(ok);
    expect(s.devices).toHaveLength(400);
    expect(s.devices[399]!.expect).toEqual({ outcome: 'installed', within: 30_000 });
  });

  it('refuses more aliases than yaml can resolve in reasonable time (its lookup is quadratic), before building', () => {
    const many = (n: number) => `${head}description: &d x\nx-many: [${Array(n).fill('*d').join(', ')}]\ndevices: [{ id: sw1, expect: { outcome: installed } }]\n`;
    expect(scenarioFailure(many(MAX_YAML_ALIASES)).path).toBe(''); // x-many is no scenario key: it got past the limits
    expect(scenarioFailure(many(MAX_YAML_ALIASES)).message).toMatch(/x-many/);
    expect(scenarioFailure(many(MAX_YAML_ALIASES + 1)).message).toBe(`x.yaml:9: YAML: more than ${MAX_YAML_ALIASES} aliases, the most a file may hold`);
  });

  it('refuses an alias inside the node it names', () => {
    expect(scenarioFailure(`${head}description: &loop [a, *loop]\n`).message).toMatch(/^x\.yaml:8: YAML: /);
  });

  it('refuses a file of more nodes than the limit before building it', () => {
    const flood = `${head}description: [${'1,'.repeat(MAX_YAML_NODES)}1]\n`;
    expect(flood.length).toBeLessThan(MAX_INPUT_FILE_BYTES);
    expect(scenarioFailure(flood).message).toBe(`x.yaml:8: YAML: more than ${MAX_YAML_NODES} YAML nodes (keys, values and items), the most a file may hold`);
  });

  it('refuses a scenario or serve config over 4 MiB before reading it, naming the file and the limit', async () => {
    const big = join(dir, 'big.yaml');
    await writeFile(big, `${head}description: "${'a'.repeat(MAX_INPUT_FILE_BYTES)}"\n`);
    await expect(loadScenario(big)).rejects.toThrow(new ScenarioError(big, '', 'scenario is larger than 4194304 bytes (4 MiB), the most an input file may hold'));
    await expect(planServe({ config: big })).rejects.toThrow(`${big}: config is larger than 4194304 bytes (4 MiB), the most an input file may hold`);
    await expect(loadScenario(join(dir, 'absent.yaml'))).rejects.toThrow(/absent\.yaml: cannot read scenario: ENOENT/);
  });

  it('bootlab run: an alias bomb exits 2 with the file and line, not an internal error', async () => {
    const file = join(dir, 'laughs.yaml');
    await writeFile(file, laughs);
    const r = await promisify(execFile)('node', [join(repo, 'dist/cli/bin.js'), 'run', file]).catch((e: { code: number; stderr: string }) => e);
    expect(r).toMatchObject({ code: 2, stderr: `bootlab: ${file}:13: YAML: aliases expand the document past ${MAX_YAML_NODES} YAML nodes, the most a file may hold\n` });
  });
});
