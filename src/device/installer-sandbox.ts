import { chmod, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { ScaledClock, sleep } from '../clock.js';
import { oniePlatform, type DeviceIdentity } from './identity.js';
import { BLKDEV_COMMON, ONIE_BOOT_MODE, ONIE_NOS_MODE, ONIE_SYSINFO } from './installer-sandbox-tools.js';

/**
 * Where an installer runs: a directory laid out like the parts of ONIE's root file system
 * installers look at. bootlab runs unprivileged, so it cannot chroot into it; instead every
 * tool and path is found through ONIE_SYSROOT (set to `root`). An installer meant to run
 * on real ONIE and in bootlab reads `${ONIE_SYSROOT}/etc/machine.conf`, which is
 * `/etc/machine.conf` on a switch where ONIE_SYSROOT is unset.
 */
export interface SandboxLayout {
  root: string;
  /** root/var/tmp/installer: where ONIE stores every download. */
  installerPath: string;
  /** root/dev/vda: the virtual disk an installer writes the NOS to. */
  diskPath: string;
  /** root/mnt/onie-boot: the ONIE-BOOT partition (grubenv). */
  bootDir: string;
}

export interface RunInstallerOptions {
  sandbox: SandboxLayout;
  execUrl: string;
  /** Exported as onie_disco_<name>. */
  discoVars: Record<string, string>;
  extraEnv?: Record<string, string>;
  /** Each output line, without the pty's \r. */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Raw output kept in the result beyond this many characters is dropped (lines still reach onLine). */
  maxOutputChars?: number;
}

export interface InstallerResult {
  /** The shell's `$?`: the exit status, or 128 + signal number when the installer was killed. */
  exitCode: number;
  signal?: number;
  /** Raw pty output, \r\n line endings included. */
  output: string;
  timedOut: boolean;
}

const DEFAULT_MAX_OUTPUT = 4 * 1024 * 1024;
/** sh -c script: $1 = end marker, then the command. Exits with the installer's `$?`. */
const WRAPPER = 'm=$1; shift; "$@"; rc=$?; printf %s "$m"; read -r _; exit $rc';
const SIGKILL = 9;

export async function prepareSandbox(root: string, id: DeviceIdentity): Promise<SandboxLayout> {
  const layout: SandboxLayout = {
    root,
    installerPath: join(root, 'var/tmp/installer'),
    diskPath: join(root, 'dev/vda'),
    bootDir: join(root, 'mnt/onie-boot'),
  };
  for (const dir of ['etc', 'bin', 'lib/onie', 'var/tmp', 'var/run', 'tmp', 'dev', 'mnt/onie-boot']) {
    await mkdir(join(root, dir), { recursive: true });
  }
  const build = machineBuildConf(id);
  await writeFile(join(root, 'etc/machine-build.conf'), confText(build));
  // gen-config.sh: machine.conf is the build config with the live machine and platform appended.
  await writeFile(join(root, 'etc/machine.conf'), confText([...build, ['onie_machine', id.machine], ['onie_platform', oniePlatform(id)]]));
  await writeFile(
    join(root, 'etc/lsb-release'),
    `DISTRIB_ID=onie\nDISTRIB_RELEASE=${id.onieVersion}\nDISTRIB_DESCRIPTION="Open Network Install Environment"\n`,
  );
  await writeFile(join(root, 'etc/os-release'), `NAME="onie"\nVERSION="${id.onieVersion}"\nID=onie\n`);
  await writeFile(
    join(root, 'lib/onie/sysinfo-platform'),
    [
      '# bootlab sandbox: the EEPROM values onie-sysinfo reports (TLVs 0x23, 0x22, 0x24).',
      `get_serial_num_platform() { echo ${shq(id.serial)} ; }`,
      `get_part_num_platform() { echo ${shq(id.partNumber)} ; }`,
      `get_ethaddr_platform() { echo ${shq(id.mac)} ; }`,
      '',
    ].join('\n'),
  );
  await writeFile(join(root, 'lib/onie/onie-blkdev-common'), BLKDEV_COMMON);
  for (const [name, text] of [
    ['onie-sysinfo', ONIE_SYSINFO],
    ['onie-nos-mode', ONIE_NOS_MODE],
    ['onie-boot-mode', ONIE_BOOT_MODE],
  ] as const) {
    await writeFile(join(root, 'bin', name), text, { mode: 0o755 });
    await chmod(join(root, 'bin', name), 0o755);
  }
  // The disk and grubenv are device state: a second prepare (a reboot) keeps them.
  await writeIfAbsent(layout.diskPath, '');
  await writeIfAbsent(join(layout.bootDir, 'grubenv'), grubenvText([['onie_mode', 'install']]));
  return layout;
}

/**
 * Runs the downloaded installer the way exec_installer does: made executable, started as
 * the program itself with no arguments, output on a terminal, `$?` as the verdict.
 */
export async function runInstaller(opts: RunInstallerOptions): Promise<InstallerResult> {
  for (let attempt = 0; ; attempt++) {
    const result = await runInstallerOnce(opts);
    // exec(2) fails with ETXTBSY while any process holds the file open for writing. Our
    // download closed it, but a sibling device's forkpty child may still carry a copy of
    // that descriptor until its own exec: a race of the emulator, not of the installer,
    // which never started (the shell says so and exits 126). Try again shortly.
    const busy = result.exitCode === 126 && !result.timedOut && /text file busy/i.test(result.output);
    const wait = TEXT_BUSY_RETRY_MS[attempt];
    if (!busy || wait === undefined) return result;
    tellLine(opts, `bootlab: ${opts.sandbox.installerPath} was busy (ETXTBSY); starting it again in ${wait} ms`);
    await sleep(WALL_CLOCK, wait, opts.signal);
  }
}

/** Waits before re-running an installer whose exec failed with ETXTBSY (about 0.6 s in all). */
const TEXT_BUSY_RETRY_MS = [10, 20, 40, 80, 160, 320];
const WALL_CLOCK = new ScaledClock();

/** Hands one output line (without the pty's \r) to the caller, whose bug must not end the installer run. */
function tellLine(opts: RunInstallerOptions, line: string): void {
  try {
    opts.onLine?.(line.replace(/\r+$/, ''));
  } catch {
    // A subscriber's bug must not end the installer run.
  }
}

async function runInstallerOnce(opts: RunInstallerOptions): Promise<InstallerResult> {
  const { sandbox, signal } = opts;
  if (signal?.aborted) throw signal.reason;
  await chmod(sandbox.installerPath, 0o755);
  const [file, args] = (await isDirectlyExecutable(sandbox.installerPath))
    ? [sandbox.installerPath, []]
    : // busybox ash runs a file that is neither #! nor ELF as a shell script (ENOEXEC fallback).
      ['/bin/sh', [sandbox.installerPath]];

  const env: Record<string, string> = {
    PATH: `${join(sandbox.root, 'bin')}:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: sandbox.root,
    TERM: 'dumb',
    ONIE_SYSROOT: sandbox.root,
    onie_installer: sandbox.installerPath,
    ...onieInstallerVariables(opts.execUrl, opts.discoVars),
  };
  Object.assign(env, opts.extraEnv ?? {});

  const maxOutput = opts.maxOutputChars ?? DEFAULT_MAX_OUTPUT;
  // Linux drops what is still in flight on a pty when its last writer exits (the master
  // sees the hangup first), so a fast installer's final lines would be lost. A wrapper
  // shell runs the installer, prints a one-time marker and waits for a line from us: once
  // the marker arrives everything before it has arrived too. The marker travels as an
  // argument, never in the environment, so the installer cannot print it by accident.
  const marker = `__bootlab_installer_done_${randomBytes(12).toString('hex')}__`;
  const child = pty.spawn('/bin/sh', ['-c', WRAPPER, 'bootlab-installer', marker, file, ...args], {
    name: env['TERM'] ?? 'dumb',
    cols: 160,
    rows: 48,
    cwd: sandbox.root,
    env,
  });
  let output = '';
  let pending = '';
  let unscanned = '';
  let finished = false;
  let timedOut = false;
  const emitLine = (line: string): void => tellLine(opts, line);
  const deliver = (data: string): void => {
    if (output.length < maxOutput) output += data.slice(0, maxOutput - output.length);
    pending += data;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      emitLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  };
  const dataSub = child.onData((data) => {
    if (finished) return;
    unscanned += data;
    const at = unscanned.indexOf(marker);
    if (at >= 0) {
      deliver(unscanned.slice(0, at));
      unscanned = '';
      finished = true;
      child.write('\n');
      return;
    }
    // Hold back only a tail that could be the start of a marker split across reads: a
    // line the installer printed is passed on as soon as it arrives, not when more follows.
    let keep = Math.min(unscanned.length, marker.length - 1);
    while (keep > 0 && !marker.startsWith(unscanned.slice(unscanned.length - keep))) keep--;
    deliver(unscanned.slice(0, unscanned.length - keep));
    unscanned = unscanned.slice(unscanned.length - keep);
  });
  // The pty child leads its own session, so -pid reaches everything it started (a
  // `sleep` the script is waiting on would otherwise outlive it and hold the pty open).
  const killAll = (): void => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  const timer = opts.timeoutMs !== undefined ? setTimeout(() => ((timedOut = true), killAll()), opts.timeoutMs) : undefined;
  const onAbort = (): void => killAll();
  signal?.addEventListener('abort', onAbort, { once: true });

  const exit = await new Promise<{ exitCode: number; signal?: number }>((resolve) => {
    child.onExit((e) => resolve(e));
  });
  clearTimeout(timer);
  signal?.removeEventListener('abort', onAbort);
  dataSub.dispose();
  // Daemons the installer left behind do not outlive its run.
  killAll();
  if (!finished) deliver(unscanned);
  if (pending.length > 0) emitLine(pending);
  if (signal?.aborted) throw signal.reason;

  const killedBy = exit.signal !== undefined && exit.signal !== 0 ? exit.signal : timedOut ? SIGKILL : undefined;
  const result: InstallerResult = {
    exitCode: killedBy !== undefined ? 128 + killedBy : exit.exitCode,
    output,
    timedOut,
  };
  if (killedBy !== undefined) result.signal = killedBy;
  return result;
}

/** `onie-nos-mode -g` = yes: a NOS installer declared itself installed. */
export async function readNosMode(sandbox: SandboxLayout): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(join(sandbox.bootDir, 'grubenv'), 'latin1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  return parseGrubenv(text).get('onie_nos_mode') === 'yes';
}

function parseGrubenv(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) vars.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return vars;
}

/** GRUB's environment block: header, NAME=value lines, '#' padding to 1024 bytes. */
function grubenvText(vars: Array<[string, string]>): string {
  const body = `# GRUB Environment Block\n${vars.map(([k, v]) => `${k}=${v}\n`).join('')}`;
  return body.padEnd(1024, '#');
}

/** Key order of build-config/make/images.make (onie.md §2.2). */
function machineBuildConf(id: DeviceIdentity): Array<[string, string]> {
  return [
    ['onie_version', id.onieVersion],
    ['onie_vendor_id', String(id.vendorId)],
    ['onie_build_machine', id.machine],
    ['onie_machine_rev', String(id.machineRev)],
    ['onie_arch', id.arch],
    ['onie_build_platform', oniePlatform(id)],
    ['onie_config_version', String(id.configVersion)],
    ['onie_build_date', id.buildDate],
    ['onie_partition_type', id.partitionType],
    ['onie_kernel_version', id.kernelVersion],
    ['onie_firmware', id.firmware],
    ['onie_switch_asic', id.switchAsic],
    ['onie_skip_ethmgmt_macs', 'no'],
  ];
}

function confText(pairs: Array<[string, string]>): string {
  return pairs
    .map(([k, v]) =>
      // images.make quotes the build date; plain tokens stay bare as in real machine.conf files.
      k === 'onie_build_date' && /^[^"\\$`\n]*$/.test(v) ? `${k}="${v}"` : /^[A-Za-z0-9._:+/-]*$/.test(v) ? `${k}=${v}` : `${k}=${shq(v)}`,
    )
    .map((l) => `${l}\n`)
    .join('');
}

function shq(v: string): string {
  return `'${v.replaceAll("'", `'\\''`)}'`;
}

async function writeIfAbsent(path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text, { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

async function isDirectlyExecutable(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    const b = head.subarray(0, bytesRead);
    return (b.length >= 2 && b[0] === 0x23 && b[1] === 0x21) || (b.length === 4 && b.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])));
  } finally {
    await fh.close();
  }
}

/** What ONIE tells an installer about how it was found: onie_exec_url and the onie_disco_* variables. */
export function onieInstallerVariables(execUrl: string, discoVars: Record<string, string>): Record<string, string> {
  const vars: Record<string, string> = { onie_exec_url: execUrl };
  for (const [name, value] of Object.entries(discoVars)) {
    // A name no shell can read would only be noise in the environment.
    if (/^[A-Za-z0-9_]+$/.test(name)) vars[`onie_disco_${name}`] = value;
  }
  return vars;
}
