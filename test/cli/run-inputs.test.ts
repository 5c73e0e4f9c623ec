import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/trust/test-pki.js';

// Bad input given to `bootlab run` and its scenario files, through the real, built CLI:
// each case must end with its exit code and one line on stderr that names the flag or file.
const exec = promisify(execFile);
const repo = new URL('../../', import.meta.url).pathname;
const quickstart = join(repo, 'scenarios', 'quickstart.yaml');
let dir: string;

async function bootlab(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // The timeout turns a hang (recursive mkdir on procfs) into a failed case, not a stuck suite.
  return exec('node', [join(repo, 'dist/cli/bin.js'), ...args], { cwd: dir, timeout: 60_000 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number | null; signal?: string; stdout: string; stderr: string }) => ({ code: e.code ?? -1, stdout: e.stdout, stderr: e.stderr }),
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-run-inputs-'));
  await writeFile(join(dir, 'a-file'), 'not a directory\n');
  await writeFile(join(dir, 'a-file.pem'), 'not a certificate\n');
  await symlink(join(dir, 'no-such-target'), join(dir, 'dangling'));
  await mkdir(join(dir, 'user-data'));
  await writeFile(join(dir, 'user-data', 'thesis.tex'), 'keep me\n');
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Case {
  name: string;
  args: () => string[];
  code: number;
  /** What the one line on stderr must name. */
  names: RegExp;
}

const runFlagCases: Case[] = [
  { name: '--artifacts on procfs', args: () => ['--artifacts', '/proc/nope'], code: 2, names: /--artifacts \/proc\/nope: cannot create/ },
  { name: '--artifacts naming a file', args: () => ['--artifacts', 'a-file'], code: 2, names: /--artifacts a-file: is not a directory/ },
  { name: '--artifacts naming a dangling symlink', args: () => ['--artifacts', 'dangling'], code: 2, names: /--artifacts dangling: is a symbolic link to nothing/ },
  { name: '--artifacts under a file', args: () => ['--artifacts', 'a-file/sub'], code: 2, names: /--artifacts a-file\/sub: .*a-file is not a directory/ },
  { name: '--artifacts naming a non-empty directory', args: () => ['--artifacts', 'user-data'], code: 2, names: /--artifacts user-data: is not empty .*--force/ },
  { name: '--events in a missing directory', args: () => ['--events', '/nonexistent/dir/ev.jsonl'], code: 2, names: /--events \/nonexistent\/dir\/ev\.jsonl: no directory/ },
  { name: '--events that cannot be created', args: () => ['--events', '/proc/bootlab-ev.jsonl'], code: 2, names: /--events \/proc\/bootlab-ev\.jsonl: cannot write/ },
  { name: '--report that cannot be created', args: () => ['--report', '/proc/bootlab-report.json'], code: 2, names: /--report \/proc\/bootlab-report\.json: cannot write/ },
  { name: '--junit that cannot be created', args: () => ['--junit', '/proc/bootlab-junit.xml'], code: 2, names: /--junit \/proc\/bootlab-junit\.xml: cannot write/ },
];

describe('bootlab run: output flags', () => {
  it.each(runFlagCases)('$name', async (c) => {
    const r = await bootlab('run', '-q', quickstart, ...c.args());
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(c.names);
    expect(r.code).toBe(c.code);
  });

  it('keeps a non-empty directory untouched, writes into it with --force, and reuses a previous run\'s directory', async () => {
    const forced = await bootlab('run', '-q', quickstart, '--artifacts', 'user-data', '--force');
    expect(forced).toMatchObject({ code: 0, stderr: '' });
    const out = join(dir, 'out', 'nested');
    expect(await bootlab('run', '-q', quickstart, '--artifacts', out)).toMatchObject({ code: 0, stderr: '' });
    expect(await bootlab('run', '-q', quickstart, '--artifacts', out)).toMatchObject({ code: 0, stderr: '' });
  });
});

interface ScenarioCase {
  name: string;
  /** Edits of scenarios/quickstart.yaml: [from, to] pairs, each of which must match. */
  edits: Array<[string | RegExp, string]>;
  /** file:line: field: what, as the one line on stderr must say it. */
  names: RegExp;
}

const scenarioCases: ScenarioCase[] = [
  {
    name: 'a golden image the trust store rejects',
    edits: [['signedBy: vendor', 'signedBy: rogue'], ['outcome: installed', 'outcome: not-installed'], [/\n +image: demo-nos\n +attestation: pass\n +secret: released/, '']],
    names: /^bootlab: bad\.yaml:26: attestation\.goldenImage: the golden image demo-nos is not trusted/,
  },
  {
    name: 'a reversed DHCP pool',
    edits: [['start: 192.0.2.100, end: 192.0.2.199', 'start: 192.0.2.200, end: 192.0.2.100']],
    names: /^bootlab: bad\.yaml:8: servers\.dhcp\.pool\.end: the pool ends before it starts/,
  },
  { name: 'a misspelt top-level key', edits: [[/^trust:/m, 'trusts:']], names: /^bootlab: bad\.yaml:23: unknown key "trusts" \(did you mean "trust"\?\)/ },
  { name: 'a misspelt nested key', edits: [['    signedBy: vendor', '    signedby: vendor']], names: /^bootlab: bad\.yaml:21: images\.0: unknown key "signedby" \(did you mean "signedBy"\?\)/ },
  { name: 'an unknown key nothing is near', edits: [['      outcome: installed', '      zzzzzzz: installed']], names: /^bootlab: bad\.yaml:35: devices\.0\.expect: unknown key "zzzzzzz"$/ },
  { name: 'a missing image source directory', edits: [[/source: .*/, 'source: no-such-dir']], names: /^bootlab: bad\.yaml:20: images\.0\.source: .*no-such-dir/ },
  { name: 'a missing trust.db PEM file', edits: [['db: [db-ca]', 'db: [db-ca, missing.pem]']], names: /^bootlab: bad\.yaml:24: trust\.db\.1: cannot read .*missing\.pem/ },
  { name: 'a trust.db PEM file that holds no certificate', edits: [['db: [db-ca]', 'db: [db-ca, a-file.pem]']], names: /^bootlab: bad\.yaml:24: trust\.db\.1: a-file\.pem: no PEM CERTIFICATE block/ },
];

describe('bootlab run: scenario files', () => {
  it.each(scenarioCases)('$name', async (c) => {
    let text = (await readFile(quickstart, 'utf8')).replace('../images/demo-nos', join(repo, 'images', 'demo-nos'));
    for (const [from, to] of c.edits) {
      expect(text).toMatch(from);
      text = text.replace(from, to);
    }
    await writeFile(join(dir, 'bad.yaml'), text);
    const r = await bootlab('run', '-q', 'bad.yaml');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(c.names);
    expect(r.code).toBe(2);
  });
});

describe('bootlab run: images given as file:', () => {
  // Before: every file: image was logged "signed by vendor", a key the run never used on it.
  it('logs what the file holds: no signature, or the signer the scenario accepts', async () => {
    const ca = issueCertificate({ subject: 'my db CA (TEST ONLY)', ca: true });
    const signer = issueCertificate({ subject: 'my signer (TEST ONLY)', issuer: ca });
    await writeFile(join(dir, 'my-db.pem'), ca.certPem);
    await writeFile(join(dir, 'my.key'), signer.keyPem);
    await writeFile(join(dir, 'my.pem'), signer.certPem);
    expect((await bootlab('image', 'build', join(repo, 'images', 'demo-nos'), '-o', 'mine.bin')).code).toBe(0);
    expect((await bootlab('image', 'sign', 'mine.bin', '--key', 'my.key', '--cert', 'my.pem', '-o', 'mine.signed.bin')).code).toBe(0);
    const base = await readFile(quickstart, 'utf8');
    const unsigned = base
      .replace('source: ../images/demo-nos', 'file: mine.bin')
      .replace('outcome: installed', 'outcome: not-installed')
      .replace(/\n +image: demo-nos\n +attestation: pass\n +secret: released/, '')
      .replace(/\nattestation:\n(  .*\n)+/, '\n')
      // One discovery pass: the refused image is the whole story, no 20 s wait for a second.
      .replace('\ndevices:', '\nonie:\n  maxPasses: 1\ndevices:');
    await writeFile(join(dir, 'unsigned.yaml'), unsigned);
    const u = await bootlab('run', 'unsigned.yaml');
    expect(u.stdout).toMatch(/image demo-nos: \d+ bytes, file mine\.bin as given, not accepted by the scenario's certificates \(no-signature\)/);
    expect(u.stdout).not.toMatch(/signed by vendor/);
    expect(u.code).toBe(0);
    const own = base.replace('source: ../images/demo-nos', 'file: mine.signed.bin').replace('db: [db-ca]', 'db: [my-db.pem]');
    await writeFile(join(dir, 'own.yaml'), own);
    const o = await bootlab('run', 'own.yaml');
    expect(o.stdout).toMatch(/image demo-nos: \d+ bytes, file mine\.signed\.bin as given, signed by "CN=my signer \(TEST ONLY\)"/);
    expect(o.code).toBe(0);
  }, 120_000);
});

describe('bootlab attest verify on a run directory', () => {
  it("points at the devices inside a run's artifacts root instead of a missing policy.json", async () => {
    expect((await bootlab('run', '-q', quickstart, '--artifacts', 'run-root')).code).toBe(0);
    const r = await bootlab('attest', 'verify', 'run-root', '--trust-dir-policy');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/run-root is a run's artifacts directory: verify one device, e\.g\. run-root\/switch-1 \(devices: switch-1\)/);
    expect(r.code).toBe(2);
    // One device's directory is still verified as before (its own AK, for this re-check only).
    const device = join('run-root', 'switch-1');
    const one = await bootlab('attest', 'verify', device, '--trust-dir-policy', '--ak', join(device, 'ak.pub.pem'));
    expect(one.stdout).toMatch(/ok +signature +ECDSA-sha256 by the AK/);
    expect(one.stderr).toBe('');
  }, 60_000);
});

describe('bootlab scenario', () => {
  it('check: ok with the counts for a good file, exit 2 and file:line for a bad one, nothing run', async () => {
    const ok = await bootlab('scenario', 'check', join(repo, 'scenarios', 'fleet.yaml'));
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toBe(`${join(repo, 'scenarios', 'fleet.yaml')}: ok (200 devices, 1 image)\n`);
    const text = (await readFile(quickstart, 'utf8')).replace('source: ../images/demo-nos', 'source: no-such-dir');
    await writeFile(join(dir, 'check-bad.yaml'), text);
    const bad = await bootlab('scenario', 'check', 'check-bad.yaml');
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^bootlab: check-bad\.yaml:20: images\.0\.source: cannot read .*no-such-dir: ENOENT/);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
  });

  it('schema: prints the JSON Schema shipped for editors', async () => {
    const r = await bootlab('scenario', 'schema');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(await readFile(join(repo, 'schema', 'scenario.schema.json'), 'utf8'));
    expect(JSON.parse(r.stdout)).toMatchObject({ title: 'bootlab scenario', type: 'object' });
  });
});

describe('bootlab run: the wait between discovery passes', () => {
  it('names onie.passDelay and the pass that follows, so a failing scenario does not look hung', async () => {
    const r = await bootlab('run', join(repo, 'scenarios', 'untrusted-signer.yaml'));
    expect(r.stdout).toMatch(/switch-1 no installer this pass; waiting 20 s \(onie\.passDelay\) before pass 2/);
    expect(r.code).toBe(0);
  }, 60_000);
});

describe('bootlab run: artifacts', () => {
  it('store each image once: published names are the built file, no padded source or unsigned copy is kept', async () => {
    // Twice into one directory: a previous run's published files are replaced, not refused.
    for (let i = 0; i < 2; i++) {
      expect((await bootlab('run', '-q', join(repo, 'scenarios', 'merkle-mirror.yaml'), '--artifacts', 'mm')).code).toBe(0);
    }
    const work = join(dir, 'mm', '.run');
    const built = await stat(join(work, 'nos-mirrored.bin'));
    const published = await stat(join(work, 'www', 'mirror', 'nos.bin'));
    expect(published.ino).toBe(built.ino);
    expect((await stat(join(work, 'www', 'onie-installer-x86_64-accton_as7326_56x.bin'))).ino).toBe((await stat(join(work, 'demo-nos.bin'))).ino);
    const left = await readdir(work);
    expect(left.filter((f) => f.endsWith('.src') || f.endsWith('.unsigned.bin') || f.endsWith('.vendor-only.bin'))).toEqual([]);
  }, 120_000);
});
