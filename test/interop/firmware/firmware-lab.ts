import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { access, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { requireInterop, waitForLine } from '../netns.js';

/**
 * Real firmware in QEMU (TCG: no KVM needed) on a tap in a bridge br0 inside a network
 * namespace the test makes and deletes, booting from `bootlab serve` (dist/) run in the
 * same namespace. Each boot succeeds only on a marker the firmware prints on its serial
 * console, and each wait is bounded.
 */
const run = promisify(execFile);
const repo = new URL('../../../', import.meta.url).pathname;
const bin = join(repo, 'dist/cli/bin.js');

export const FIRMWARE_INSTALL_HINT = 'apt-get install -y --no-install-recommends qemu-system-x86 seabios ipxe-qemu ipxe ovmf iproute2';

export const FIRMWARE = {
  /** QEMU's PC BIOS, from seabios. */
  seabios: '/usr/share/seabios/bios-256k.bin',
  /** iPXE for QEMU's virtio-net (legacy PXE ROM and EFI driver in one), from ipxe-qemu. */
  virtioRom: '/usr/lib/ipxe/qemu/efi-virtio.rom',
  /** The iPXE EFI build the UEFI cases boot into, from ipxe. */
  ipxeEfi: '/usr/lib/ipxe/ipxe.efi',
  ovmfCode: '/usr/share/OVMF/OVMF_CODE_4M.fd',
  ovmfVars: '/usr/share/OVMF/OVMF_VARS_4M.fd',
};

/** One VM boot's bound: TCG on a shared 2-core machine boots OVMF into iPXE in about a minute. */
export const BOOT_BUDGET_MS = 120_000;

/** Fails (never skips) when root, QEMU or a firmware file is missing, naming the packages. */
export async function requireFirmware(): Promise<void> {
  await requireInterop(['ip', 'qemu-system-x86_64'], FIRMWARE_INSTALL_HINT);
  for (const file of Object.values(FIRMWARE)) {
    try {
      await access(file);
    } catch {
      throw new Error(`${file} is missing: ${FIRMWARE_INSTALL_HINT}`);
    }
  }
}

export interface FirmwareLab {
  ns: string;
  bridge: string;
  tap: string;
  /** The bridge's address: server id, next server, HTTP host. */
  address: string;
  mac: string;
  tftpRoot: string;
  httpRoot: string;
  dir: string;
  /**
   * Another machine on the same segment (a site's own DHCP server): a namespace whose veth
   * is a port of br0, addressed `address` with the last octet `host`.
   */
  neighbour(host: number): Promise<{ ns: string; dev: string; address: string; spawn(argv: string[]): ChildProcess }>;
  /** Starts `bootlab serve` in the namespace; resolves once it says what it serves. */
  serve(args: string[]): Promise<Served>;
  /** Boots a VM on the tap until `marker` shows on its serial console (or the budget runs out). */
  boot(vm: VmSpec): Promise<Boot>;
  destroy(): Promise<void>;
}

export interface Served {
  child: ChildProcess;
  /** Everything it printed so far. */
  log(): string;
}

export interface VmSpec {
  firmware: 'seabios' | 'ovmf';
  marker: string;
  /** Extra `-fw_cfg name=...,string=...` entries (OVMF's network switches). */
  fwCfg?: Record<string, string>;
  budgetMs?: number;
  /** A console line that means the marker can no longer come (default: the firmware has run out of boot options). */
  giveUpOn?: RegExp;
}

/** What each firmware prints once every network boot option has failed. */
const OUT_OF_OPTIONS: Record<VmSpec['firmware'], RegExp> = {
  seabios: /No bootable device\./,
  ovmf: /BdsDxe: starting Boot\d+ "EFI Internal Shell"/,
};

export interface Boot {
  ms: number;
  serial: string;
}

export async function createFirmwareLab(): Promise<FirmwareLab> {
  const tag = randomBytes(3).toString('hex');
  const n = randomInt(1, 250);
  const ns = `bl-fw-${tag}`;
  const bridge = 'br0';
  const tap = `tap${tag}`;
  const address = `10.215.${n}.1`;
  const mac = `52:54:00:${tag.slice(0, 2)}:${tag.slice(2, 4)}:${tag.slice(4, 6)}`;
  const dir = await mkdtemp(join(tmpdir(), 'bootlab-firmware-'));
  const tftpRoot = join(dir, 'tftp');
  const httpRoot = join(dir, 'http');
  const children = new Set<ChildProcess>();
  const neighbours: string[] = [];
  const ip = (...args: string[]) => run('ip', args, { timeout: 10_000 });
  const destroy = async (): Promise<void> => {
    await Promise.all([...children].map((c) => stopChild(c, 'SIGKILL')));
    await ip('netns', 'del', ns).catch(() => undefined);
    for (const other of neighbours) await ip('netns', 'del', other).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await mkdir(tftpRoot);
    await mkdir(httpRoot);
    await ip('netns', 'add', ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    await ip('-n', ns, 'link', 'add', bridge, 'type', 'bridge');
    await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', bridge);
    await ip('-n', ns, 'link', 'set', bridge, 'up');
    await ip('-n', ns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap');
    await ip('-n', ns, 'link', 'set', tap, 'master', bridge);
    await ip('-n', ns, 'link', 'set', tap, 'up');
    // Node cannot bind a socket to an interface: the broadcast reply needs a route out of br0.
    await ip('-n', ns, 'route', 'add', '255.255.255.255/32', 'dev', bridge);
  } catch (e) {
    await destroy();
    throw e;
  }
  const spawnIn = (argv: string[], where = ns): ChildProcess => {
    const child = spawn('ip', ['netns', 'exec', where, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };
  return {
    ns,
    bridge,
    tap,
    address,
    mac,
    tftpRoot,
    httpRoot,
    dir,
    async neighbour(host) {
      const other = `${ns}-${neighbours.length + 1}`;
      const dev = `nb${tag}${neighbours.length + 1}`;
      const port = `np${tag}${neighbours.length + 1}`;
      neighbours.push(other);
      const at = address.replace(/\.1$/, `.${host}`);
      await ip('netns', 'add', other);
      await ip('-n', ns, 'link', 'add', port, 'type', 'veth', 'peer', 'name', dev, 'netns', other);
      await ip('-n', ns, 'link', 'set', port, 'master', bridge);
      await ip('-n', ns, 'link', 'set', port, 'up');
      await ip('-n', other, 'addr', 'add', `${at}/24`, 'dev', dev);
      await ip('-n', other, 'link', 'set', dev, 'up');
      await ip('-n', other, 'link', 'set', 'lo', 'up');
      return { ns: other, dev, address: at, spawn: (argv: string[]) => spawnIn(argv, other) };
    },
    async serve(args) {
      const child = spawnIn(['node', bin, 'serve', ...args]);
      let text = '';
      child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
      await waitForLine(child, /^bootlab serve: /, 20_000);
      return { child, log: () => text };
    },
    async boot(vm) {
      const serialFile = join(dir, `serial-${vm.firmware}-${randomBytes(2).toString('hex')}.log`);
      await writeFile(serialFile, '');
      const argv = ['qemu-system-x86_64', '-accel', 'tcg', '-m', '512', '-nographic', '-vga', 'none', '-monitor', 'none', '-no-reboot'];
      argv.push('-serial', `file:${serialFile}`);
      if (vm.firmware === 'ovmf') {
        const vars = join(dir, `vars-${randomBytes(2).toString('hex')}.fd`);
        await copyFile(FIRMWARE.ovmfVars, vars);
        argv.push('-machine', 'q35');
        argv.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${FIRMWARE.ovmfCode}`, '-drive', `if=pflash,format=raw,unit=1,file=${vars}`);
      }
      for (const [name, value] of Object.entries(vm.fwCfg ?? {})) argv.push('-fw_cfg', `name=${name},string=${value}`);
      // SeaBIOS boots the NIC's iPXE ROM (QEMU's default romfile, found on its data path
      // in ipxe-qemu's directory; naming the path in romfile= made SeaBIOS skip it here).
      // OVMF takes no ROM and drives virtio-net itself (VirtioNetDxe), so what boots is
      // EDK2's own PXE and HTTP Boot.
      const rom = vm.firmware === 'seabios' ? '' : ',romfile=';
      argv.push('-boot', 'n', '-netdev', `tap,id=n0,ifname=${tap},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=n0,mac=${mac}${rom}`);
      const started = performance.now();
      const qemu = spawnIn(argv);
      let qemuOut = '';
      qemu.stdout?.on('data', (d: Buffer) => (qemuOut += d.toString()));
      qemu.stderr?.on('data', (d: Buffer) => (qemuOut += d.toString()));
      const budget = vm.budgetMs ?? BOOT_BUDGET_MS;
      try {
        for (;;) {
          const serial = await readFile(serialFile, 'utf8');
          const ms = Math.round(performance.now() - started);
          if (serial.includes(vm.marker)) return { ms, serial };
          if ((vm.giveUpOn ?? OUT_OF_OPTIONS[vm.firmware]).test(serial)) throw new Error(`the firmware gave up after ${ms} ms without ${vm.marker}:\n--- serial ---\n${tail(serial)}`);
          if (qemu.exitCode !== null || qemu.signalCode !== null) throw new Error(`QEMU exited (${qemu.exitCode ?? qemu.signalCode}) after ${ms} ms before ${vm.marker}:\n${qemuOut}\n--- serial ---\n${tail(serial)}`);
          if (ms > budget) throw new Error(`no ${vm.marker} on the serial console within ${budget} ms:\n--- serial ---\n${tail(serial)}`);
          await new Promise((r) => setTimeout(r, 500));
        }
      } finally {
        await stopChild(qemu, 'SIGKILL');
      }
    },
    destroy,
  };
}

/** The end of a serial log, without terminal escapes, for a failure message. */
function tail(serial: string): string {
  return serial.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/(\x08 \x08)+/g, '').slice(-4000);
}

/** Signals `child` and resolves once it has exited (bounded: a child that ignores it is left to the namespace's deletion). */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals, ms = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

/** A marker no earlier boot could have printed. */
export function marker(name: string): string {
  return `BOOTLAB-MARKER-${name}-${randomBytes(4).toString('hex')}`;
}

/** An iPXE script that prints the marker and then holds still until the test stops the VM. */
export function markerScript(mark: string): string {
  return `#!ipxe\necho ${mark}\nsleep 60\n`;
}

export const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The suite's lab: made once before its tests (after `require` checked the tools) and
 * destroyed after them. The getter fails loudly if the setup did.
 */
export function useFirmwareLab(require: () => Promise<void> = requireFirmware): () => FirmwareLab {
  let lab: FirmwareLab | undefined;
  beforeAll(async () => {
    await require();
    lab = await createFirmwareLab();
  });
  afterAll(async () => {
    await lab?.destroy();
  });
  return () => {
    if (!lab) throw new Error('the firmware lab was not set up (see the beforeAll error)');
    return lab;
  };
}

/** A class rule as a serve config writes it (the YAML flow mappings given as text). */
export interface ConfigClass {
  name: string;
  match: string;
  options: string;
}

/**
 * Writes a serve config for a chainload: a `dhcp.range` on the lab's /24 unless `range`
 * is false (proxyDHCP), the `ipxe` class first (option 175: iPXE gets the HTTP script
 * stage2.ipxe, not the firmware's boot file again), then the firmware's own class, and
 * the lab's TFTP and HTTP roots. Returns the file's path.
 */
export async function chainloadConfig(lab: FirmwareLab, firmwareClass: ConfigClass, o: { range?: boolean; file?: string } = {}): Promise<string> {
  const a = lab.address;
  const path = join(lab.dir, o.file ?? 'serve.yaml');
  const lines = [
    'dhcp:',
    ...(o.range === false ? [] : [`  range: ${a.replace(/\.1$/, '.100')}-${a.replace(/\.1$/, '.150')}`]),
    '  classes:',
    ...[{ name: 'ipxe', match: '{ ipxe: true }', options: `{ bootFile: "http://${a}/stage2.ipxe" }` }, firmwareClass].flatMap((c) => [
      `    - name: ${c.name}`,
      `      match: ${c.match}`,
      `      options: ${c.options}`,
    ]),
    `tftp: { root: ${lab.tftpRoot} }`,
    `http: { root: ${lab.httpRoot} }`,
    '',
  ];
  await writeFile(path, lines.join('\n'));
  return path;
}
