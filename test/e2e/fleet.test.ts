import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetReport } from '../../src/report/fleet-report.js';

const exec = promisify(execFile);
const repo = new URL('../../', import.meta.url).pathname;
const bin = join(repo, 'dist/cli/bin.js');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-fleet-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function bootlab(args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await exec('node', [bin, ...args], { cwd: repo, timeout: 240_000, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof x.code !== 'number') throw e;
    return { code: x.code, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

const readJson = async (file: string): Promise<FleetReport> => JSON.parse(await readFile(file, 'utf8')) as FleetReport;

/** scenarios/fleet.yaml with its templates resized (and anything else replaced), written next to the other files. */
async function fleetVariant(name: string, leaves: number, old: number, replace: Array<[string, string]> = []): Promise<string> {
  let text = (await readFile(join(repo, 'scenarios/fleet.yaml'), 'utf8'))
    .replace('source: ../images/demo-nos', `source: ${join(repo, 'images/demo-nos')}`)
    .replace('count: 190', `count: ${leaves}`)
    .replace('count: 10', `count: ${old}`);
  for (const [a, b] of replace) text = text.replace(a, b);
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, text);
  return file;
}

const verdicts = (r: FleetReport) => r.devices.map((d) => ({ id: d.id, suite: d.suite, ok: d.ok, outcome: d.outcome, checks: d.checks.map((c) => [c.what, c.ok]) }));

// Each case runs whole fleets in child processes: their budget is the child's own (240 s),
// not vitest's default 30 s, which a loaded CI machine running other files beside it can
// exceed although no device fails (protocol timers follow the run's clock). Speed targets
// live in bench/fleet.
describe('fleets', { timeout: 240_000 }, () => {
  it('scenarios/fleet.yaml: 200 switches from two templates all meet their expectations; report, JUnit and summary agree', async () => {
    const report = join(dir, 'fleet.json');
    const junit = join(dir, 'fleet.xml');
    const r = await bootlab(['run', 'scenarios/fleet.yaml', '--report', report, '--junit', junit]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/fleet: PASS \(200\/200 devices met their expectations\)\n$/);
    // Over 8 devices and no terminal: no per-device story, a funnel at the end.
    expect(r.stdout).not.toMatch(/leaf-001 discovery pass/);
    expect(r.stdout).toMatch(/^ {2}leased +200\/200 /m);
    expect(r.stdout).toMatch(/^ {2}installed +190\/200 /m);
    expect(r.stdout).toMatch(/^ {2}installs: 190 \(/m);
    const json = await readJson(report);
    expect(json.devices).toHaveLength(200);
    expect(json.devices.filter((d) => d.suite === 'leaf' && d.outcome === 'installed' && d.stages.attested !== undefined)).toHaveLength(190);
    const old = json.devices.filter((d) => d.suite === 'revoked-batch');
    expect(old.map((d) => d.id)).toEqual(Array.from({ length: 10 }, (_, i) => `old-${String(i + 1).padStart(2, '0')}`));
    for (const d of old) expect(d.rejections.map((x) => x.reason)).toEqual(['revoked-signer', 'revoked-signer', 'revoked-signer']);
    expect(new Set(json.devices.map((d) => d.id)).size).toBe(200);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toContain('<testsuites name="fleet" tests="200" failures="0"');
    expect(xml).toMatch(/<testsuite name="leaf" tests="190" failures="0"/);
    expect(xml).toMatch(/<testsuite name="revoked-batch" tests="10" failures="0"/);
  });

  it('three shards run as separate processes merge into the verdicts of the unsharded run', async () => {
    const scenario = await fleetVariant('sharded', 14, 4);
    const whole = join(dir, 'whole.json');
    const parts = [1, 2, 3].map((i) => join(dir, `shard-${i}.json`));
    const runs = await Promise.all([
      bootlab(['run', scenario, '-q', '--report', whole]),
      ...parts.map((p, i) => bootlab(['run', scenario, '-q', '--shard', `${i + 1}/3`, '--report', p])),
    ]);
    for (const x of runs) expect(x, x.stdout + x.stderr).toMatchObject({ code: 0 });
    expect(runs[1]!.stdout).toBe('fleet: PASS (6/6 devices met their expectations)\n');
    const shards = await Promise.all(parts.map(readJson));
    expect(shards.map((s) => s.devices.length)).toEqual([6, 6, 6]);
    // Every shard gets its share of the small template too.
    for (const s of shards) expect(s.devices.some((d) => d.suite === 'revoked-batch')).toBe(true);

    const merged = join(dir, 'merged.json');
    const junit = join(dir, 'merged.xml');
    const m = await bootlab(['report', 'merge', ...parts, '--report', merged, '--junit', junit]);
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(/^18 devices \(shards 1, 2, 3 of 3; fleet of 18\) in /);
    expect(m.stdout).toMatch(/fleet: PASS \(18\/18 devices met their expectations\)\n$/);
    expect(verdicts(await readJson(merged))).toEqual(verdicts(await readJson(whole)));
    expect(await readFile(junit, 'utf8')).toContain('<testsuites name="fleet" tests="18" failures="0"');

    const partial = await bootlab(['report', 'merge', parts[0]!, parts[2]!]);
    expect(partial.code).toBe(1);
    expect(partial.stdout).toMatch(/missing: shard 2 of 3 \(no report given\)\nfleet: FAIL \(12\/18 devices met their expectations\)\n$/);
    const twice = await bootlab(['report', 'merge', parts[0]!, parts[0]!]);
    expect(twice).toMatchObject({ code: 2, stderr: `bootlab: ${parts[0]}: shard 1 of 3 again (also in ${parts[0]})\n` });
  });

  it('failed devices are grouped by reason in the summary and each failed expectation is a JUnit failure with the console tail', async () => {
    const scenario = await fleetVariant('failing', 3, 2, [
      ['      outcome: not-installed\n', '      outcome: installed\n'],
      ['rejected: [revoked-signer, revoked-signer, revoked-signer]', 'rejected: [revoked-signer]'],
    ]);
    const junit = join(dir, 'failing.xml');
    const r = await bootlab(['run', scenario, '--junit', junit]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('  failures by reason:\n    2 × outcome: expected installed, device gave-up: old-01, old-02\n');
    expect(r.stdout).toMatch(/fleet: FAIL \(3\/5 devices met their expectations\)\n$/);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toContain('<testsuite name="revoked-batch" tests="2" failures="2"');
    expect(xml).toContain('<failure type="outcome" message="outcome: expected installed, device gave-up">');
    expect(xml).toContain('<failure type="rejected" message="rejected: expected [revoked-signer], got [revoked-signer, revoked-signer, revoked-signer]">');
    // The attestation failed as expected: no failure for it.
    expect(xml).not.toContain('<failure type="attestation"');
    expect(xml.match(/<failure /g)).toHaveLength(4);
    expect(xml).toMatch(/<system-out>[^<]*revoked/);
  });

  it('refuses an output file whose directory does not exist before it starts the run', async () => {
    const r = await bootlab(['run', 'scenarios/quickstart.yaml', '--junit', '/nonexistent/dir/x.xml']);
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: 'bootlab: --junit /nonexistent/dir/x.xml: no directory /nonexistent/dir\n' });
  });
});
