import { execFile, spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepareSandbox, readNosMode, runInstaller, type SandboxLayout } from '../../src/device/installer-sandbox.js';
import { accton, kvmIdentity } from './onie/fixtures.js';

const run = promisify(execFile);

describe('installer sandbox', () => {
  let dir: string;
  let sb: SandboxLayout;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bootlab-sandbox-'));
    sb = await prepareSandbox(join(dir, 'root'), accton);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const sysinfo = async (...args: string[]): Promise<string> =>
    (await run(join(sb.root, 'bin/onie-sysinfo'), args, { env: { PATH: '/usr/bin:/bin', ONIE_SYSROOT: sb.root } })).stdout;

  it('lays out the ONIE paths installers use', () => {
    expect(sb).toEqual({
      root: join(dir, 'root'),
      installerPath: join(dir, 'root/var/tmp/installer'),
      diskPath: join(dir, 'root/dev/vda'),
      bootDir: join(dir, 'root/mnt/onie-boot'),
    });
  });

  it('writes machine.conf in images.make order with machine and platform appended', async () => {
    expect(await readFile(join(sb.root, 'etc/machine.conf'), 'utf8')).toBe(
      [
        'onie_version=2020.11.00.05',
        'onie_vendor_id=259',
        'onie_build_machine=accton_as7326_56x',
        'onie_machine_rev=1',
        'onie_arch=x86_64',
        'onie_build_platform=x86_64-accton_as7326_56x-r1',
        'onie_config_version=1',
        'onie_build_date="2021-03-02T11:12+0800"',
        'onie_partition_type=gpt',
        'onie_kernel_version=4.9.95',
        'onie_firmware=bios',
        'onie_switch_asic=bcm',
        'onie_skip_ethmgmt_macs=no',
        'onie_machine=accton_as7326_56x',
        'onie_platform=x86_64-accton_as7326_56x-r1',
        '',
      ].join('\n'),
    );
    const build = await readFile(join(sb.root, 'etc/machine-build.conf'), 'utf8');
    expect(build.split('\n')[0]).toBe('onie_version=2020.11.00.05');
    expect(build).not.toContain('onie_platform=');
    expect(await readFile(join(sb.root, 'etc/lsb-release'), 'utf8')).toMatch(/^DISTRIB_ID=onie$/m);
    expect(await readFile(join(sb.root, 'etc/os-release'), 'utf8')).toMatch(/^NAME="onie"$/m);
    expect(await readFile(sb.diskPath)).toHaveLength(0);
  });

  it('answers each onie-sysinfo flag from the sandbox', async () => {
    expect(await sysinfo()).toBe('x86_64-accton_as7326_56x-r1\n');
    expect(await sysinfo('-p')).toBe('x86_64-accton_as7326_56x-r1\n');
    expect(await sysinfo('-s')).toBe('AS7326-2035A01234\n');
    expect(await sysinfo('-e')).toBe('80:A2:35:5C:11:00\n');
    expect(await sysinfo('-P')).toBe('FP3ZZ7632014A\n');
    expect(await sysinfo('-m')).toBe('accton_as7326_56x\n');
    expect(await sysinfo('-b')).toBe('accton_as7326_56x\n');
    expect(await sysinfo('-r')).toBe('1\n');
    expect(await sysinfo('-c')).toBe('x86_64\n');
    expect(await sysinfo('-v')).toBe('2020.11.00.05\n');
    expect(await sysinfo('-i')).toBe('259\n');
    expect(await sysinfo('-f')).toBe('1\n');
    expect(await sysinfo('-t')).toBe('gpt\n');
    expect(await sysinfo('-d')).toBe('2021-03-02T11:12+0800\n');
    expect(await sysinfo('-S')).toBe('bcm\n');
    expect(await sysinfo('-l')).toBe('bios\n');
    expect(await sysinfo('-a')).toBe(
      'AS7326-2035A01234 FP3ZZ7632014A 80:A2:35:5C:11:00 bios 2020.11.00.05 259 accton_as7326_56x accton_as7326_56x 1 ' +
        'x86_64-accton_as7326_56x-r1 x86_64 1 gpt 2021-03-02T11:12+0800 bcm\n',
    );
  });

  it('prints several flags on one line in ONIE order, whatever order they were given in', async () => {
    expect(await sysinfo('-c', '-s')).toBe('AS7326-2035A01234 x86_64\n');
  });

  it('prints usage and exits 1 for an unknown flag', async () => {
    const e = await sysinfo('-x').catch((x: { code: number; stdout: string }) => x);
    expect(typeof e).toBe('object');
    expect((e as { code: number }).code).toBe(1);
    expect((e as { stdout: string }).stdout).toContain('Dump ONIE system information');
  });

  it('prints unknown for a value machine.conf lacks', async () => {
    const conf = join(sb.root, 'etc/machine.conf');
    await writeFile(conf, (await readFile(conf, 'utf8')).replace(/^onie_switch_asic=.*\n/m, ''));
    expect(await sysinfo('-S')).toBe('unknown\n');
  });

  it('sets, reads and clears the NOS mode in grubenv', async () => {
    const tool = (name: string, ...args: string[]) => run(join(sb.root, 'bin', name), args, { env: { PATH: '/usr/bin:/bin', ONIE_SYSROOT: sb.root } });
    expect((await tool('onie-nos-mode', '-g')).stdout).toBe('none\n');
    expect((await tool('onie-boot-mode', '-l')).stdout).toBe('Default boot: ONIE mode: install\n');
    expect((await tool('onie-nos-mode', '-s', '-v')).stdout).toBe('Enabling NOS mode.\n');
    expect(await readNosMode(sb)).toBe(true);
    // On GRUB platforms setting NOS mode also clears the one-shot ONIE boot mode.
    expect((await tool('onie-boot-mode')).stdout).toBe('Default boot: ONIE mode: unknown\n');
    const env = await readFile(join(sb.bootDir, 'grubenv'), 'latin1');
    expect(env).toHaveLength(1024);
    expect(env.startsWith('# GRUB Environment Block\nonie_nos_mode=yes\n#')).toBe(true);
    expect((await tool('onie-nos-mode', '-v')).stdout).toBe('Current NOS mode: yes\n');
    await tool('onie-nos-mode', '-c');
    expect(await readNosMode(sb)).toBe(false);
    await tool('onie-boot-mode', '-o', 'rescue');
    expect((await tool('onie-boot-mode', '-l')).stdout).toBe('Default boot: ONIE mode: rescue\n');
    await expect(tool('onie-boot-mode', '-o', 'bogus')).rejects.toMatchObject({ code: 1 });
  });

  it('keeps the disk and grubenv when prepared again, as across a reboot', async () => {
    await writeFile(sb.diskPath, 'NOS');
    await run(join(sb.root, 'bin/onie-nos-mode'), ['-s'], { env: { PATH: '/usr/bin:/bin', ONIE_SYSROOT: sb.root } });
    const again = await prepareSandbox(sb.root, accton);
    expect(await readFile(again.diskPath, 'utf8')).toBe('NOS');
    expect(await readNosMode(again)).toBe(true);
  });

  it('runs an installer with the ONIE runtime contract and captures its output', async () => {
    await writeFile(
      sb.installerPath,
      [
        '#!/bin/sh',
        'set -e',
        'grep -Fxq DISTRIB_ID=onie "$ONIE_SYSROOT/etc/lsb-release"',
        'echo "exec_url=$onie_exec_url"',
        'echo "disco_serverid=$onie_disco_serverid"',
        'echo "installer=$onie_installer args=$#"',
        'echo "platform=$(onie-sysinfo)"',
        '. "$ONIE_SYSROOT/etc/machine.conf"',
        'echo "machine=$onie_machine"',
        'dd if=/dev/zero of="$ONIE_SYSROOT/dev/vda" bs=512 count=2 2>/dev/null',
        'onie-nos-mode -s',
        'exit 0',
      ].join('\n'),
    );
    const lines: string[] = [];
    const r = await runInstaller({
      sandbox: sb,
      execUrl: 'http://10.0.0.1/onie-installer',
      discoVars: { serverid: '10.0.0.5', 'bad-name': 'x' },
      onLine: (l) => lines.push(l),
      timeoutMs: 10_000,
    });
    expect(r).toMatchObject({ exitCode: 0, timedOut: false });
    expect(r.signal).toBeUndefined();
    expect(lines).toEqual([
      'exec_url=http://10.0.0.1/onie-installer',
      'disco_serverid=10.0.0.5',
      `installer=${sb.installerPath} args=0`,
      'platform=x86_64-accton_as7326_56x-r1',
      'machine=accton_as7326_56x',
    ]);
    expect(r.output).toContain('exec_url=http://10.0.0.1/onie-installer\r\n');
    expect(await readNosMode(sb)).toBe(true);
    expect(await readFile(sb.diskPath)).toHaveLength(1024);
  });

  it('hands back a non-zero exit code as is', async () => {
    await writeFile(sb.installerPath, '#!/bin/sh\necho "Failure: wrong platform"\nexit 42\n');
    const r = await runInstaller({ sandbox: sb, execUrl: 'http://x/i', discoVars: {}, timeoutMs: 10_000 });
    expect(r).toMatchObject({ exitCode: 42, timedOut: false });
    expect(r.output).toContain('Failure: wrong platform');
    expect(await readNosMode(sb)).toBe(false);
  });

  it('runs a script without a shebang through /bin/sh, as ash does', async () => {
    await writeFile(sb.installerPath, 'echo "no shebang, platform $(onie-sysinfo -p)"\nexit 3\n');
    const lines: string[] = [];
    const r = await runInstaller({ sandbox: sb, execUrl: 'http://x/i', discoVars: {}, onLine: (l) => lines.push(l), timeoutMs: 10_000 });
    expect(r.exitCode).toBe(3);
    expect(lines).toEqual(['no shebang, platform x86_64-accton_as7326_56x-r1']);
  });

  it('passes extra environment and keeps every line of a burst of output', async () => {
    await writeFile(sb.installerPath, '#!/bin/sh\ni=0\nwhile [ $i -lt 2000 ]; do echo "line $i $onie_platform"; i=$((i+1)); done\n');
    const lines: string[] = [];
    const r = await runInstaller({
      sandbox: sb,
      execUrl: 'http://x/i',
      discoVars: {},
      extraEnv: { onie_platform: 'x86_64-accton_as7326_56x-r1' },
      onLine: (l) => lines.push(l),
      timeoutMs: 20_000,
    });
    expect(r.exitCode).toBe(0);
    expect(lines).toHaveLength(2000);
    expect(lines[1999]).toBe('line 1999 x86_64-accton_as7326_56x-r1');
    expect(r.output).not.toContain('__bootlab_installer_done_');
  });

  it('11: starts an installer again when its exec failed because another process held it open for writing', async () => {
    await writeFile(sb.installerPath, '#!/bin/sh\necho "installer ran"\nexit 0\n');
    await chmod(sb.installerPath, 0o755);
    // A process holding the file open for writing is what a sibling's forkpty child is for
    // an instant in a fleet: exec(2) fails with ETXTBSY until it lets go.
    const holder = spawn('/bin/sh', ['-c', 'exec 3>>"$1"; sleep 0.3', 'holder', sb.installerPath], { stdio: 'ignore' });
    // Go on only once the holder has the file open (its fd 3), however slow the machine is.
    for (let i = 0; i < 500; i++) {
      const fd3 = await readlink(`/proc/${holder.pid}/fd/3`).catch(() => '');
      if (fd3 === sb.installerPath) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const lines: string[] = [];
    const r = await runInstaller({ sandbox: sb, execUrl: 'http://x/i', discoVars: {}, onLine: (l) => lines.push(l), timeoutMs: 10_000 });
    holder.kill();
    expect(r.exitCode).toBe(0);
    expect(lines.filter((l) => l === 'installer ran')).toHaveLength(1);
    expect(lines.some((l) => /was busy \(ETXTBSY\); starting it again/.test(l))).toBe(true);
  });

  it('hands back 126 when an installer exits 126 by itself, without running it twice', async () => {
    await writeFile(sb.installerPath, '#!/bin/sh\necho "ran once"\nexit 126\n');
    const lines: string[] = [];
    const r = await runInstaller({ sandbox: sb, execUrl: 'http://x/i', discoVars: {}, onLine: (l) => lines.push(l), timeoutMs: 10_000 });
    expect(r.exitCode).toBe(126);
    expect(lines).toEqual(['ran once']);
  });

  it('kills an installer that outlives its timeout', async () => {
    await writeFile(sb.installerPath, '#!/bin/sh\necho started\nsleep 100\necho never\n');
    const started = Date.now();
    const r = await runInstaller({ sandbox: sb, execUrl: 'http://x/i', discoVars: {}, timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBe(128 + 9);
    expect(r.signal).toBe(9);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.output).toContain('started');
    expect(r.output).not.toContain('never');
  });

  it('rejects with the abort reason and stops the installer when aborted', async () => {
    await writeFile(sb.installerPath, '#!/bin/sh\nsleep 100\n');
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('power off')), 200);
    await expect(runInstaller({ sandbox: sb, execUrl: 'http://x/i', discoVars: {}, signal: ac.signal })).rejects.toThrow('power off');
  });

  it('passes each line on as it is printed, not when more output follows (a power cut waits on one)', async () => {
    await writeFile(sb.installerPath, '#!/bin/sh\necho "part 1 written"\nsleep 100\n');
    const ac = new AbortController();
    const seen = new Promise<string>((resolve) => {
      const run = runInstaller({ sandbox: sb, execUrl: 'http://x/i', discoVars: {}, signal: ac.signal, onLine: (l) => resolve(l) });
      run.catch(() => undefined);
    });
    const first = await Promise.race([seen, new Promise<string>((r) => setTimeout(() => r('nothing within 5 s'), 5000))]);
    ac.abort(new Error('done'));
    expect(first).toBe('part 1 written');
  });

  it('reports the loader of a UEFI identity', async () => {
    const uefi = await prepareSandbox(join(dir, 'kvm'), kvmIdentity);
    const out = await run(join(uefi.root, 'bin/onie-sysinfo'), ['-l', '-e'], { env: { PATH: '/usr/bin:/bin', ONIE_SYSROOT: uefi.root } });
    expect(out.stdout).toBe('52:54:00:13:34:01 uefi\n');
  });
});
