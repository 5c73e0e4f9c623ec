import { isAbsolute, resolve, dirname } from 'node:path';
import { expandFleet } from '../fleet/templates.js';
import { fillPositions } from '../rack/position-fill.js';
import { scenarioSchema, type Scenario, type ScenarioFile } from './schema.js';
import { publishedNameProblem } from './published-path.js';
import { checkRackPlan } from './rack-checks.js';
import { parseYamlFile, readYamlText, type FailAt } from './yaml-file.js';

export type { FailAt };

export interface LoadedScenario {
  scenario: Scenario;
  file: string;
  /** Directory that relative paths in the scenario are resolved against. */
  baseDir: string;
  /** Throws a ScenarioError at the line of `path` in the file (absent: the error names no line). */
  fail?: FailAt;
}


const PKI_KEYS = new Set(['db-ca', 'vendor', 'rogue']);

/** Reads, parses and validates a scenario; every problem names the file, line and path. */
export async function loadScenario(file: string): Promise<LoadedScenario> {
  const text = await readYamlText(file, 'scenario');
  const { scenario, fail } = parseChecked(text, file);
  return { scenario, file, baseDir: dirname(resolve(file)), fail };
}

export function parseScenario(text: string, file = '<scenario>'): Scenario {
  return parseChecked(text, file).scenario;
}

function parseChecked(text: string, file: string): { scenario: Scenario; fail: FailAt } {
  const { value, fail } = parseYamlFile(text, file, scenarioSchema);
  checkReferences(value, fail);
  const devices = expandFleet(value, fail);
  const scenario = { ...value, devices, racks: fillPositions(value.racks, devices, fail) };
  checkRackPlan(scenario, fail);
  return { scenario, fail };
}

function checkReferences(s: ScenarioFile, fail: (path: (string | number)[], message: string) => never): void {
  const images = new Set<string>();
  s.images.forEach((img, i) => {
    if (images.has(img.name)) fail(['images', i, 'name'], `duplicate image name "${img.name}"`);
    images.add(img.name);
  });
  // HTTP and TFTP names follow one rule: each stays inside its server's root, once.
  for (const field of ['publish', 'publishTftp'] as const) {
    const published = new Map<string, string>();
    s.images.forEach((img, i) =>
      img[field].forEach((name, j) => {
        const problem = publishedNameProblem(name);
        if (problem) fail(['images', i, field, j], `"${name}": ${problem}`);
        const other = published.get(name);
        if (other) fail(['images', i, field, j], `"${name}" is already published by image "${other}"`);
        published.set(name, img.name);
      }),
    );
  }
  const checkDb = (db: string[], path: (string | number)[]): void =>
    db.forEach((entry, i) => {
      if (!PKI_KEYS.has(entry) && !entry.endsWith('.pem')) {
        fail([...path, i], `"${entry}" is neither a test PKI key (${[...PKI_KEYS].join(', ')}) nor a .pem file`);
      }
    });
  checkDb(s.trust.db, ['trust', 'db']);
  s.devices.forEach((d, i) => {
    if (d.trust?.db) checkDb(d.trust.db, ['devices', i, 'trust', 'db']);
    if (d.expect.image !== undefined && !images.has(d.expect.image)) {
      fail(['devices', i, 'expect', 'image'], `no image named "${d.expect.image}"`);
    }
    if (d.expect.image !== undefined && d.expect.outcome === 'not-installed') {
      fail(['devices', i, 'expect', 'image'], 'an image is expected although the outcome is not-installed');
    }
  });
  if (s.attestation && !images.has(s.attestation.goldenImage)) {
    fail(['attestation', 'goldenImage'], `no image named "${s.attestation.goldenImage}"`);
  }
  if (!s.attestation && s.devices.some((d) => d.expect.attestation !== undefined)) {
    const i = s.devices.findIndex((d) => d.expect.attestation !== undefined);
    fail(['devices', i, 'expect', 'attestation'], 'an attestation expectation needs a top-level attestation.goldenImage');
  }
}

/** Resolves a path written in the scenario relative to the scenario's directory. */
export function scenarioPath(loaded: LoadedScenario, p: string): string {
  return isAbsolute(p) ? p : resolve(loaded.baseDir, p);
}
