import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/errors.js';
import { loadScenario } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';
import { scenarioFailure } from './scenario-failure.js';

const repo = resolve(import.meta.dirname, '../..');
const work = await mkdtemp(join(tmpdir(), 'bootlab-inputs-'));
afterAll(() => rm(work, { recursive: true, force: true }));
let n = 0;

/** A scenario of one image (`image` is its YAML flow mapping's inner part) and one device, written to a fresh directory. */
function scenarioText(image: string, extra = ''): string {
  return `name: inputs
clockSpeed: 20
servers:
  dhcp:
    pool: { start: 192.0.2.10, end: 192.0.2.20 }
    options: { defaultUrl: "http://{http}/nos.bin" }
images:
  - { name: nos, ${image} }
trust:
  db: [db-ca]${extra}
onie: { maxPasses: 1 }
devices:
  - id: sw1
    expect: { outcome: installed, within: 60s }
`;
}

async function writeScenario(text: string): Promise<{ dir: string; file: string }> {
  const dir = join(work, `s${n++}`);
  await mkdir(dir);
  const file = join(dir, 'scenario.yaml');
  await writeFile(file, text);
  return { dir, file };
}

/** The ScenarioError a run of `file` fails with. */
async function runFailure(file: string, opts: Parameters<typeof runScenario>[1] = {}): Promise<ScenarioError> {
  const e = await runScenario(await loadScenario(file), opts).then(
    () => undefined,
    (x: unknown) => x,
  );
  if (e instanceof ScenarioError) return e;
  throw new Error(`expected a ScenarioError, got ${String(e)}`);
}

describe('published names stay inside their server root', () => {
  it('refuses ".." in publishTftp as HTTP publish does, with the file, line and field', () => {
    const e = scenarioFailure(scenarioText('source: ../images/demo-nos, publishTftp: [../../../../tmp/owned]'));
    expect(e.message).toBe('x.yaml:8: images.0.publishTftp.0: "../../../../tmp/owned": a published name has no ".." part (it stays inside the server root)');
    expect(scenarioFailure(scenarioText('source: ../images/demo-nos, publishTftp: [a/../../b]')).path).toBe('images.0.publishTftp.0');
    expect(scenarioFailure(scenarioText('source: ../images/demo-nos, publish: [../x.bin]')).message).toMatch(/^x\.yaml:8: images\.0\.publish\.0: .*no "\.\." part/);
  });

  it('refuses absolute names, NUL bytes, empty parts and a TFTP path published twice', () => {
    expect(scenarioFailure(scenarioText('source: ../images/demo-nos, publish: [/etc/cron.d/x]')).message).toMatch(/images\.0\.publish\.0: "\/etc\/cron\.d\/x": a published name is a relative path/);
    expect(scenarioFailure(scenarioText('source: ../images/demo-nos, publishTftp: ["a\\0b"]')).path).toBe('images.0.publishTftp.0');
    expect(scenarioFailure(scenarioText('source: ../images/demo-nos, publish: [a//b]')).message).toMatch(/no empty or "\." part/);
    const twice = scenarioText('source: ../images/demo-nos, publishTftp: [p/x] }\n  - { name: other, source: ../images/diag, publishTftp: [p/x]');
    expect(scenarioFailure(twice).message).toBe('x.yaml:9: images.1.publishTftp.0: "p/x" is already published by image "nos"');
  });

  it('does not write through a symlink planted in a reused --artifacts directory', async () => {
    const outside = join(work, `outside-${n++}`);
    await mkdir(outside);
    const { file } = await writeScenario(scenarioText(`source: ${join(repo, 'images/demo-nos')}, publishTftp: [evil/onie-installer], publish: [nos.bin]`));
    const artifacts = join(work, `artifacts-${n++}`);
    await mkdir(join(artifacts, '.run', 'tftp'), { recursive: true });
    await symlink(outside, join(artifacts, '.run', 'tftp', 'evil'));
    const e = await runFailure(file, { artifactsDir: artifacts });
    expect(e.message).toMatch(new RegExp(`scenario\\.yaml:8: images\\.0\\.publishTftp\\.0: cannot publish "evil/onie-installer": .*evil is a symbolic link`));
    expect(await readdir(outside)).toEqual([]);

    await rm(join(artifacts, '.run', 'tftp', 'evil'));
    await rm(join(artifacts, '.run', 'www', 'nos.bin'), { force: true });
    await symlink(join(outside, 'planted'), join(artifacts, '.run', 'www', 'nos.bin'));
    expect((await runFailure(file, { artifactsDir: artifacts })).message).toMatch(/images\.0\.publish\.0: cannot publish "nos\.bin": .*nos\.bin is a symbolic link/);
    expect(await readdir(outside)).toEqual([]);
  });
});

describe('image and PEM files lie in the scenario directory, bootlab images/, or --allow-outside', () => {
  it('refuses an image file elsewhere (/etc/passwd), naming the file, line and field', async () => {
    const { file } = await writeScenario(scenarioText('file: /etc/passwd, publish: [nos.bin]'));
    const e = await runFailure(file);
    expect(e.message).toBe(`${file}:8: images.0.file: /etc/passwd is outside the scenario's directory and bootlab's bundled images; name its directory with --allow-outside to use it`);
  });

  it('sees through symlinks and ".." out of the scenario directory, and refuses a PEM entry outside too', async () => {
    const secretDir = join(work, `secret-${n++}`);
    await mkdir(secretDir);
    await writeFile(join(secretDir, 'key'), 'not for publishing\n');
    const { dir, file } = await writeScenario(scenarioText('file: link, publish: [nos.bin]'));
    await symlink(join(secretDir, 'key'), join(dir, 'link'));
    expect((await runFailure(file)).message).toMatch(new RegExp(`images\\.0\\.file: ${join(dir, 'link')} \\(really ${join(secretDir, 'key')}\\) is outside`));
    const dotdot = await writeScenario(scenarioText(`file: ../${secretDir.split('/').pop()}/key, publish: [nos.bin]`));
    expect((await runFailure(dotdot.file)).path).toBe('images.0.file');
    const pem = await writeScenario(scenarioText('source: ../images/demo-nos, publish: [nos.bin]').replace('db: [db-ca]', `db: [db-ca, ${join(secretDir, 'ca.pem')}]`));
    await writeFile(join(secretDir, 'ca.pem'), 'x');
    expect((await runFailure(pem.file)).message).toMatch(/scenario\.yaml:10: trust\.db\.1: .*ca\.pem is outside the scenario's directory/);
  });

  it('boots an image from a directory named with allowOutside, and from bootlab images/ by absolute path', async () => {
    const elsewhere = join(work, `elsewhere-${n++}`);
    await cp(join(repo, 'images/demo-nos'), join(elsewhere, 'nos'), { recursive: true });
    const { file } = await writeScenario(scenarioText(`source: ${join(elsewhere, 'nos')}, publish: [nos.bin]`));
    expect((await runFailure(file)).path).toBe('images.0.source');
    const report = await runScenario(await loadScenario(file), { allowOutside: [elsewhere] });
    expect(report.devices.map((d) => [d.outcome, d.installedImage])).toEqual([['installed', 'nos']]);
    await expect(runScenario(await loadScenario(file), { allowOutside: [join(work, 'absent')] })).rejects.toThrow(/--allow-outside .*absent: ENOENT/);
  });

  it('bootlab run: exits 2 on an image outside, and --allow-outside is the way to name it', async () => {
    const { file } = await writeScenario(scenarioText('file: /etc/passwd, publish: [nos.bin]'));
    const bootlab = (...args: string[]) => promisify(execFile)('node', [join(repo, 'dist/cli/bin.js'), ...args]).catch((e: { code: number; stderr: string }) => e);
    expect(await bootlab('run', file)).toMatchObject({ code: 2, stderr: expect.stringContaining(`${file}:8: images.0.file: /etc/passwd is outside the scenario's directory`) });
    expect(await bootlab('run', file, '--allow-outside', join(work, 'absent'))).toMatchObject({ code: 2, stderr: expect.stringMatching(/--allow-outside .*absent: ENOENT/) });
  });
});
