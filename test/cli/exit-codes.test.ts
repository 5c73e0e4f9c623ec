import { execFile, type ExecFileException } from 'node:child_process';
import { statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// One exit-code contract for every command, through the real built CLI:
// 0 ok, 1 failed expectation, 2 bad input or usage, 3 environment, 70 a bug of ours.
const repo = new URL('../../', import.meta.url).pathname;
const bin = join(repo, 'dist/cli/bin.js');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], opts: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv; file?: string } = {}): Promise<Result> {
  const [file, argv] = opts.file ? [opts.file, args] : ['node', [...(opts.nodeArgs ?? []), bin, ...args]];
  return new Promise((resolve) => {
    execFile(file, argv, { cwd: repo, env: { ...process.env, ...opts.env }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as ExecFileException).code === 'number' ? ((err as ExecFileException).code as number) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

// Each command with what gets it past its required options, a misspelled real flag and the
// flag commander should suggest, and an invocation missing an argument.
const commands: { cmd: string[]; pass: string[]; typo: string; suggest: string; missing: string[] }[] = [
  { cmd: ['run'], pass: ['s.yaml'], typo: '--artifact', suggest: '--artifacts', missing: [] },
  { cmd: ['serve'], pass: [], typo: '--dhcp-rang', suggest: '--dhcp-range', missing: ['--http-root'] },
  { cmd: ['report', 'merge'], pass: ['r.json'], typo: '--junitt', suggest: '--junit', missing: [] },
  { cmd: ['keys', 'init'], pass: ['d'], typo: '--hepl', suggest: '--help', missing: [] },
  { cmd: ['image', 'build'], pass: ['d', '-o', 'x'], typo: '--updatr', suggest: '--updater', missing: ['-o', 'x'] },
  { cmd: ['image', 'inspect'], pass: ['i'], typo: '--dbb', suggest: '--db', missing: [] },
  { cmd: ['image', 'sign'], pass: ['i', '--key', 'k', '--cert', 'c', '-o', 'x'], typo: '--certt', suggest: '--cert', missing: ['i', '--key', 'k', '--cert', 'c'] },
  { cmd: ['image', 'countersign'], pass: ['i', '--key', 'k', '--cert', 'c', '-o', 'x'], typo: '--kye', suggest: '--key', missing: ['--key', 'k', '--cert', 'c', '-o', 'x'] },
  { cmd: ['image', 'verify'], pass: ['i', '--db', 'c'], typo: '--manifst', suggest: '--manifest', missing: ['i'] },
  { cmd: ['image', 'extract'], pass: ['i', '-o', 'x'], typo: '--no-verfy', suggest: '--no-verify', missing: ['-o', 'x'] },
  { cmd: ['image', 'manifest'], pass: ['i', '--key', 'k', '--cert', 'c', '-o', 'x'], typo: '--chunk-sise', suggest: '--chunk-size', missing: ['i', '--key', 'k', '--cert', 'c'] },
  { cmd: ['attest', 'verify'], pass: ['d'], typo: '--polcy', suggest: '--policy', missing: [] },
  { cmd: ['attest', 'policy'], pass: ['--image', 'i', '--db', 'c'], typo: '--machin', suggest: '--machine', missing: [] },
  { cmd: ['eventlog', 'show'], pass: ['f'], typo: '--hlep', suggest: '--help', missing: [] },
];

describe.concurrent('bootlab exit codes', () => {
  it.each(commands)('$cmd: a misspelled flag exits 2 and suggests the right one', async ({ cmd, pass, typo, suggest }) => {
    const r = await cli([...cmd, ...pass, typo]);
    expect(r.stderr).toContain(`unknown option '${typo}'`);
    expect(r.stderr).toContain(`(Did you mean ${suggest}?)`);
    expect(r.code).toBe(2);
  });

  it.each(commands)('$cmd: a missing argument or required option exits 2', async ({ cmd, missing }) => {
    const r = await cli([...cmd, ...missing]);
    expect(r.stderr).toMatch(/error: (missing required argument|required option|option '.*' argument missing)/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.code).toBe(2);
  });

  it.each(commands)('$cmd: --help and --version exit 0', async ({ cmd }) => {
    const help = await cli([...cmd, '--help']);
    expect(help.stdout).toContain(`Usage: bootlab ${cmd.join(' ')}`);
    expect(help.code).toBe(0);
    const version = await cli([...cmd, '--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(version.code).toBe(0);
  });

  it('prints the version from package.json', async () => {
    const { version } = (await import(join(repo, 'package.json'), { with: { type: 'json' } })).default as { version: string };
    const r = await cli(['--version']);
    expect(r.stdout).toBe(`${version}\n`);
    expect(r.code).toBe(0);
  });

  it('states the exit-code contract in the top-level --help', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const line of [/^ {2}0 {3}ok$/m, /^ {2}1 {3}an expectation or verification failed/m, /^ {2}2 {3}bad input or usage/m, /^ {2}3 {3}environment/m, /^ {2}70 {2}internal error/m]) {
      expect(r.stdout).toMatch(line);
    }
  });

  it('an unknown command exits 2 with a did-you-mean', async () => {
    const r = await cli(['serv']);
    expect(r.stderr).toContain("unknown command 'serv'");
    expect(r.stderr).toContain('(Did you mean serve?)');
    expect(r.code).toBe(2);
  });

  it('a command group without its subcommand exits 2', async () => {
    const r = await cli(['image']);
    expect(r.code).toBe(2);
  });

  describe('environment', () => {
    let holder: Server;
    let taken: number;
    beforeAll(async () => {
      holder = createServer();
      taken = await new Promise<number>((resolve) => holder.listen(0, '127.0.0.1', () => resolve((holder.address() as { port: number }).port)));
    });
    afterAll(() => new Promise<void>((resolve) => holder.close(() => resolve())));

    it('serve on a port another process holds exits 3, naming the address', async () => {
      const r = await cli(['serve', '--bind', '127.0.0.1', '--http-root', repo, '--http-port', String(taken)]);
      expect(r.stderr).toContain(`cannot bind 127.0.0.1:${taken}`);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.code).toBe(3);
    });
  });

  describe('a bug of ours', () => {
    const forced = ['--import', join(repo, 'test/cli/fixtures/force-internal-error.mjs')];

    it('exits 70 with one please-report line and no stack', async () => {
      const r = await cli(['run', 'x.yaml'], { nodeArgs: forced, env: { BOOTLAB_TEST_FORCE: 'bug', BOOTLAB_DEBUG: '' } });
      expect(r.stderr).toMatch(/^bootlab: internal error \(please report [^)]+\): forced bug for the exit-code test/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.code).toBe(70);
    });

    it('shows the stack under --debug and under BOOTLAB_DEBUG=1', async () => {
      for (const r of await Promise.all([
        cli(['--debug', 'run', 'x.yaml'], { nodeArgs: forced, env: { BOOTLAB_TEST_FORCE: 'bug', BOOTLAB_DEBUG: '' } }),
        cli(['run', 'x.yaml'], { nodeArgs: forced, env: { BOOTLAB_TEST_FORCE: 'bug', BOOTLAB_DEBUG: '1' } }),
      ])) {
        expect(r.stderr).toMatch(/internal error/);
        expect(r.stderr).toMatch(/^ {4}at .*forcedBug/m);
        expect(r.code).toBe(70);
      }
    });
  });

  describe('raw Node errors that reach the top', () => {
    const forced = ['--import', join(repo, 'test/cli/fixtures/force-internal-error.mjs')];
    it.each([
      { kind: 'eaddrinuse', code: 3, line: /^bootlab: listen 127\.0\.0\.1:8080: address already in use .*\[EADDRINUSE\]$/ },
      { kind: 'missing-tool', code: 3, line: /^bootlab: qemu-system-x86_64: command not found/ },
      { kind: 'uncaught', code: 3, line: /^bootlab: bind 0\.0\.0\.0:67: permission denied .*\[EACCES\]$/ },
      { kind: 'enoent', code: 2, line: /^bootlab: \/nonexistent\/scenario\.yaml: no such file or directory \[ENOENT\]$/ },
    ])('$kind exits $code with one line', async ({ kind, code, line }) => {
      const r = await cli(['run', 'x.yaml'], { nodeArgs: forced, env: { BOOTLAB_TEST_FORCE: kind, BOOTLAB_DEBUG: '' } });
      expect(r.stderr.trim()).toMatch(line);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.code).toBe(code);
    });
  });

  describe('the bin', () => {
    it('is executable after the build, so npx bootlab runs it', async () => {
      expect(statSync(bin).mode & 0o111).toBe(0o111);
      const r = await cli([], { file: bin });
      expect(r.code).toBe(2); // no command: usage
      const v = await cli(['--version'], { file: 'npx' });
      expect(v.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
      expect(v.code).toBe(0);
    });
  });
});
