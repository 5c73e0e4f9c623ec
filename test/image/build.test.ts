import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BootlabError } from '../../src/errors.js';
import { buildImage } from '../../src/image/build.js';
import { parseSharchHeader } from '../../src/protocol/sharch/layout.js';
import { listUstar } from '../../src/protocol/tar/ustar-reader.js';
import { DEMO_NOS_DIR, PLATFORM, makeSandbox, runImage } from './demo-sandbox.js';

const work = mkdtempSync(join(tmpdir(), 'bootlab-build-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('buildImage', () => {
  it('writes header + tar whose sha1 and size the header declares', async () => {
    const out = join(work, 'demo.bin');
    const r = await buildImage(DEMO_NOS_DIR, out, { mtime: 1_700_000_000 });
    const bytes = readFileSync(out);
    expect(r).toEqual({ path: out, size: bytes.length, payloadSha1: expect.stringMatching(/^[0-9a-f]{40}$/), payloadSize: expect.any(Number) });
    const layout = parseSharchHeader(bytes);
    expect(layout.ok).toBe(true);
    if (!layout.ok) return;
    expect(layout.value.headerLength + layout.value.payloadSize).toBe(bytes.length);
    const payload = bytes.subarray(layout.value.headerLength);
    expect(createHash('sha1').update(payload).digest('hex')).toBe(r.payloadSha1);
    const entries = listUstar(payload);
    expect(entries.ok && entries.value.map((e) => e.name)).toEqual(['installer/', 'installer/install.sh', 'installer/nos-release']);
  });

  it('produces a payload GNU tar lists, under installer/ with install.sh executable', async () => {
    const out = join(work, 'list.bin');
    const r = await buildImage(DEMO_NOS_DIR, out);
    const bytes = readFileSync(out);
    const tarFile = join(work, 'list.tar');
    writeFileSync(tarFile, bytes.subarray(r.size - r.payloadSize));
    const listing = execFileSync('tar', ['-tvf', tarFile], { encoding: 'utf8' });
    expect(listing).toMatch(/^drwxr-xr-x root\/root .* installer\/$/m);
    expect(listing).toMatch(/^-rwxr-xr-x root\/root .* installer\/install\.sh$/m);
    expect(listing).toMatch(/^-rw-r--r-- root\/root .* installer\/nos-release$/m);
  });

  it('is reproducible: the same source and mtime give the same bytes', async () => {
    await buildImage(DEMO_NOS_DIR, join(work, 'r1.bin'), { mtime: 5 });
    await buildImage(DEMO_NOS_DIR, join(work, 'r2.bin'), { mtime: 5 });
    expect(readFileSync(join(work, 'r1.bin')).equals(readFileSync(join(work, 'r2.bin')))).toBe(true);
  });

  it('keeps nested directories and modes, sorted, and makes install.sh 0755', async () => {
    const src = join(work, 'nested-src');
    mkdirSync(join(src, 'b/sub'), { recursive: true });
    writeFileSync(join(src, 'install.sh'), '#!/bin/sh\nexit 0\n', { mode: 0o600 });
    chmodSync(join(src, 'install.sh'), 0o600);
    writeFileSync(join(src, 'b/sub/z'), 'z');
    writeFileSync(join(src, 'a'), 'a'.repeat(5000));
    writeFileSync(join(src, 'tool'), 'x');
    chmodSync(join(src, 'tool'), 0o750);
    const out = join(work, 'nested.bin');
    const r = await buildImage(src, out);
    const payload = readFileSync(out).subarray(r.size - r.payloadSize);
    const entries = listUstar(payload);
    expect(entries.ok && entries.value.map((e) => e.name)).toEqual([
      'installer/',
      'installer/a',
      'installer/b/',
      'installer/b/sub/',
      'installer/b/sub/z',
      'installer/install.sh',
      'installer/tool',
    ]);
    const listing = execFileSync('tar', ['-tvf', '-'], { input: payload, encoding: 'utf8' });
    expect(listing).toMatch(/^-rwxr-xr-x .* installer\/install\.sh$/m);
    expect(listing).toMatch(/^-rwxr-x--- .* installer\/tool$/m);
  });

  it('refuses a source directory without install.sh, naming the missing file', async () => {
    const src = join(work, 'no-install');
    mkdirSync(src);
    writeFileSync(join(src, 'readme'), 'x');
    const p = buildImage(src, join(work, 'no.bin'));
    await expect(p).rejects.toBeInstanceOf(BootlabError);
    await expect(p).rejects.toMatchObject({ code: 'BL_IMAGE_SOURCE', message: expect.stringContaining(join(src, 'install.sh')) });
    expect(existsSync(join(work, 'no.bin'))).toBe(false);
  });
});

describe('a built demo image, run by /bin/sh', () => {
  it('extracts only, with -x', async () => {
    const root = makeSandbox(join(work, 'sandbox-x'));
    const image = join(work, 'x.bin');
    await buildImage(DEMO_NOS_DIR, image);
    const r = runImage(image, ['-x'], root);
    expect(r.stdout).toContain('Verifying image checksum ...');
    expect(r.status).toBe(0);
    const m = /Image extracted to: (\S+)/.exec(r.stdout);
    expect(m).not.toBeNull();
    const extracted = m![1]!;
    expect(readFileSync(join(extracted, 'installer/install.sh'), 'utf8')).toBe(readFileSync(join(DEMO_NOS_DIR, 'install.sh'), 'utf8'));
    expect(statSync(join(extracted, 'installer/install.sh')).mode & 0o111).not.toBe(0);
    expect(existsSync(join(root, 'tool-calls.log'))).toBe(false);
    expect(readFileSync(join(root, 'dev/vda'), { flag: 'a+' }).length).toBe(0);
  });

  it('installs the demo NOS into the sandbox and sets the NOS mode', async () => {
    const root = makeSandbox(join(work, 'sandbox-run'));
    const image = join(work, 'run.bin');
    await buildImage(DEMO_NOS_DIR, image);
    const r = runImage(image, [], root);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`onie-sysinfo -p agrees: ${PLATFORM}`);
    const disk = readFileSync(join(root, 'dev/vda'), 'utf8');
    expect(disk).toMatch(/^BOOTLAB-DEMO-NOS-IMAGE v1\n/);
    expect(disk).toContain('nos_name=bootlab Demo NOS\n');
    expect(disk).toContain('nos_version=1.0.0\n');
    expect(disk).toContain(`platform=${PLATFORM}\n`);
    expect(disk).toMatch(/ {2}\.\/install\.sh \d+\n/);
    expect(disk).toMatch(/ {2}\.\/nos-release \d+\n/);
    expect(readFileSync(join(root, 'mnt/onie-boot/nos-boot.conf'), 'utf8')).toContain(`root=${join(root, 'dev/vda')}`);
    expect(readFileSync(join(root, 'tool-calls.log'), 'utf8')).toBe('onie-nos-mode -s\n');
    // The extraction directory is cleaned up after the installer ran.
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  });

  it('writes the NOS to $onie_disk when it is set', async () => {
    const root = makeSandbox(join(work, 'sandbox-disk'));
    const image = join(work, 'disk.bin');
    await buildImage(DEMO_NOS_DIR, image);
    const r = runImage(image, [], root, { onie_disk: join(root, 'dev/sdb') });
    expect(r.status, r.stdout).toBe(0);
    expect(readFileSync(join(root, 'dev/sdb'), 'utf8')).toMatch(/^BOOTLAB-DEMO-NOS-IMAGE v1/);
    expect(existsSync(join(root, 'dev/vda'))).toBe(false);
  });

  it('fails with a clear message when machine.conf is missing', async () => {
    const root = makeSandbox(join(work, 'sandbox-nomc'));
    rmSync(join(root, 'etc/machine.conf'));
    const image = join(work, 'nomc.bin');
    await buildImage(DEMO_NOS_DIR, image);
    const r = runImage(image, [], root);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain(`ERROR: demo NOS installer: cannot read ${join(root, 'etc/machine.conf')}`);
    expect(existsSync(join(root, 'tool-calls.log'))).toBe(false);
  });

  it('fails when onie-nos-mode fails', async () => {
    const root = makeSandbox(join(work, 'sandbox-nosmode'));
    writeFileSync(join(root, 'bin/onie-nos-mode'), '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    const image = join(work, 'nosmode.bin');
    await buildImage(DEMO_NOS_DIR, image);
    const r = runImage(image, [], root);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('onie-nos-mode -s failed');
  });

  it('refuses to run when one payload byte is flipped, printing the checksum error', async () => {
    const root = makeSandbox(join(work, 'sandbox-flip'));
    const image = join(work, 'flip.bin');
    const built = await buildImage(DEMO_NOS_DIR, image);
    const bytes = readFileSync(image);
    const at = built.size - built.payloadSize + 700;
    bytes[at] = bytes[at]! ^ 0x01;
    writeFileSync(image, bytes);
    const r = runImage(image, [], root);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('ERROR: Unable to verify archive checksum');
    expect(r.stdout).toContain(`Expected: ${built.payloadSha1}`);
    expect(r.stdout).toMatch(/Found {3}: [0-9a-f]{40}/);
    expect(readFileSync(join(root, 'dev/vda'), { flag: 'a+' }).length).toBe(0);
  });

  it('ignores bytes appended after the payload, such as a signature', async () => {
    const root = makeSandbox(join(work, 'sandbox-appended'));
    const image = join(work, 'appended.bin');
    await buildImage(DEMO_NOS_DIR, image);
    writeFileSync(image, Buffer.concat([readFileSync(image), Buffer.from('-----BEGIN CMS-----\nAAAA\n-----END CMS-----\n')]));
    const r = runImage(image, [], root);
    expect(r.status, r.stdout).toBe(0);
    expect(readFileSync(join(root, 'tool-calls.log'), 'utf8')).toBe('onie-nos-mode -s\n');
  });
});
