import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = new URL('../../', import.meta.url).pathname;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-byo-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The page's `sh` blocks, in order: exactly what a reader types. */
function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

describe('docs/byo-nos.md, followed line by line', () => {
  it('keys init, build, sign, verify, a scenario of ones own, run and attest verify all succeed as written', async () => {
    const blocks = shellBlocks(await readFile(join(repo, 'docs', 'byo-nos.md'), 'utf8'));
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    // `npx bootlab` inside a clone is the clone's CLI; here it is this checkout's build,
    // and the page's text runs unchanged (the test runs outside the clone, where npx
    // would ask the registry).
    const cli = join(repo, 'dist', 'cli', 'bin.js');
    const prelude = `set -eu\nnpx() { if [ "$1" = bootlab ]; then shift; node ${JSON.stringify(cli)} "$@"; else echo "unexpected npx $*" >&2; exit 99; fi; }\n`;
    const { stdout } = await run('bash', ['-c', prelude + blocks.join('\n')], { cwd: dir, timeout: 60_000 });
    expect(stdout).toMatch(/my-nos\.signed\.bin: trusted \(signature\)/);
    expect(stdout).toMatch(/switch-1 image trusted \(signature\)/);
    expect(stdout).toMatch(/my-nos: PASS \(1\/1 devices met their expectations\)/);
    expect(stdout).toMatch(/run-1\/switch-1: attestation PASS/);
    const consoleText = await readFile(join(dir, 'lab', 'run-1', 'switch-1', 'console.log'), 'utf8');
    expect(consoleText).toMatch(/my-nos: installing on x86_64-accton_as7326_56x-r0 from http:\/\/127\.0\.0\.1:\d+\/onie-installer/);
    expect(await readFile(join(dir, 'lab', 'run-1', 'switch-1', 'sandbox', 'dev', 'vda'), 'utf8')).toBe('my-nos 1.0\n');
  }, 60_000); // the shell's own budget: five commands and a run, on a machine that may be busy
});
