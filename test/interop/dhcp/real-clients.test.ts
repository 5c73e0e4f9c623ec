import { mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { onieDhcpClientOptions } from '../../../src/device/onie/dhcp-client-options.js';
import { kvmIdentity } from '../../device/onie/fixtures.js';
import { createLab, requireInterop, waitForLine, type Lab } from '../netns.js';

/**
 * Real DHCP clients nobody here wrote, in a network namespace, against `bootlab serve`
 * in another; and bootlab's own client against dnsmasq.
 */
const repo = new URL('../../../', import.meta.url).pathname;
const bin = join(repo, 'dist/cli/bin.js');
let lab: Lab;
let dir: string;
let server: ChildProcess | undefined;

beforeAll(async () => {
  await requireInterop(['ip', 'busybox', 'dhclient', 'dnsmasq']);
  lab = await createLab();
  dir = await mkdtemp(join(tmpdir(), 'bootlab-dhcp-interop-'));
  // Client hook scripts write the environment the client hands them.
  await writeFile(join(dir, 'env-hook.sh'), `#!/bin/sh\nenv | sort > "${dir}/env-\${1:-$reason}.txt"\n`);
  await chmod(join(dir, 'env-hook.sh'), 0o755);
});

afterEach(async () => {
  const s = server;
  server = undefined;
  // The next test binds port 67 again: wait until this server has let go of it.
  if (s) expect(await stop(s, 'SIGTERM')).toBe(0);
});

afterAll(async () => {
  await lab?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function serve(...args: string[]): Promise<void> {
  server = lab.spawn(lab.server.ns, ['node', bin, 'serve', '--interface', lab.server.dev, ...args]);
  await waitForLine(server, /bootlab serve: DHCP on 0\.0\.0\.0:67/, 10_000);
}

/** Signals `child` and resolves with its exit code (the signal's name if it died of one). */
function stop(child: ChildProcess, signal: NodeJS.Signals, ms = 10_000): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode!);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pid ${child.pid} still running ${ms} ms after ${signal}`)), ms);
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      resolve(code ?? sig ?? 'unknown');
    });
    child.kill(signal);
  });
}

const udhcpc = (...extra: string[]): string[] =>
  ['busybox', 'udhcpc', '-i', lab.client.dev, '-n', '-q', '-t', '3', '-T', '1', '-f', '-s', join(dir, 'env-hook.sh'), ...extra];

async function env(name: string): Promise<Record<string, string>> {
  const text = await readFile(join(dir, `env-${name}.txt`), 'utf8');
  return Object.fromEntries(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

const range = (lab: Lab): string => `10.213.${lab.n}.100-10.213.${lab.n}.150`;
const inRange = (lab: Lab): RegExp => new RegExp(`^10\\.213\\.${lab.n}\\.(1[0-4]\\d|150)$`);
const hex = (data: Uint8Array): string => Buffer.from(data).toString('hex');

describe('real DHCP clients against bootlab serve', () => {
  it('busybox udhcpc gets a lease with the router and subnet mask it asked for', async () => {
    await serve('--dhcp-range', range(lab), '--router', lab.server.address);
    await lab.exec(lab.client.ns, udhcpc());
    const vars = await env('bound');
    expect(vars['ip']).toMatch(inRange(lab));
    expect(vars['router']).toBe(lab.server.address);
    expect(vars['subnet']).toBe('255.255.255.0');
    expect(vars['serverid']).toBe(lab.server.address);
  });

  it("busybox udhcpc with ONIE's options gets the option 114 and VIVSO installer URLs", async () => {
    await serve(
      '--dhcp-range', range(lab),
      '--default-url', `http://${lab.server.address}/onie-installer`,
      '--onie-installer-url', `http://${lab.server.address}/onie-installer-x86_64-kvm_x86_64-r0`,
    );
    const opts = new Map(onieDhcpClientOptions(kvmIdentity).map((o) => [o.code, o.data]));
    const argv = udhcpc(
      '-V', `onie_vendor:x86_64-kvm_x86_64-r0`,
      '-x', `77:${hex(opts.get(77)!)}`,
      '-x', `61:${hex(opts.get(61)!)}`,
      '-x', `125:${hex(opts.get(125)!)}`,
      ...[7, 43, 54, 66, 67, 72, 114, 125].flatMap((o) => ['-O', String(o)]),
    );
    await lab.exec(lab.client.ns, argv);
    const vars = await env('bound');
    // Stock busybox knows neither 114 nor 125 by name, so it exports them as hex.
    expect(Buffer.from(vars['opt114'] ?? '', 'hex').toString()).toBe(`http://${lab.server.address}/onie-installer`);
    const vivso = Buffer.from(vars['opt125'] ?? '', 'hex');
    expect(vivso.readUInt32BE(0)).toBe(42623);
    expect(vivso.subarray(7).toString()).toBe(`http://${lab.server.address}/onie-installer-x86_64-kvm_x86_64-r0`);
  });

  it('ISC dhclient gets a lease and the default-url it requested', async () => {
    await serve('--dhcp-range', range(lab), '--router', lab.server.address, '--default-url', `http://${lab.server.address}/onie-installer`);
    await writeFile(join(dir, 'dhclient.conf'), 'option default-url code 114 = string;\nrequest subnet-mask, routers, default-url;\n');
    await lab.exec(lab.client.ns, [
      'dhclient', '-1', '-v', '-sf', join(dir, 'env-hook.sh'), '-lf', join(dir, 'dhclient.leases'), '-pf', join(dir, 'dhclient.pid'),
      '-cf', join(dir, 'dhclient.conf'), lab.client.dev,
    ]);
    const vars = await env('BOUND');
    expect(vars['new_ip_address']).toMatch(inRange(lab));
    expect(vars['new_routers']).toBe(lab.server.address);
    expect(vars['new_default_url']).toBe(`http://${lab.server.address}/onie-installer`);
    await lab.exec(lab.client.ns, ['dhclient', '-x', '-pf', join(dir, 'dhclient.pid')]).catch(() => undefined);
  });
});

describe('bootlab serve --lease-file across kill -9', () => {
  it('gives a client its address again after a SIGKILL and restart, and keeps it from a stranger', async () => {
    const leaseFile = join(dir, 'serve.leases');
    const args = ['--dhcp-range', range(lab), '--lease-file', leaseFile];
    await serve(...args);
    await lab.exec(lab.client.ns, udhcpc());
    const a = (await env('bound'))['ip'];
    expect(a).toMatch(inRange(lab));
    // No clean shutdown: only what the ACK waited for on disk can bring the lease back.
    expect(await stop(server!, 'SIGKILL')).toBe('SIGKILL');
    server = undefined;
    await serve(...args);

    // A different client id asking for A must be given another address. A server that
    // forgot the lease would hand out A (it is free, asked for, and the first in range).
    await lab.exec(lab.client.ns, udhcpc('-r', a!, '-x', `61:ff${Buffer.from('stranger').toString('hex')}`));
    const b = (await env('bound'))['ip'];
    expect(b).toMatch(inRange(lab));
    expect(b).not.toBe(a);

    // The first client again (busybox's default client id, 01 + its MAC).
    await lab.exec(lab.client.ns, udhcpc('-r', a!));
    expect((await env('bound'))['ip']).toBe(a);
  });
});

describe("bootlab's client against dnsmasq", () => {
  it('gets a lease and the option 114 URL from dnsmasq over a real link', async () => {
    const dnsmasq = lab.spawn(lab.server.ns, [
      'dnsmasq', '--no-daemon', '--port=0', '--no-resolv', '--no-hosts', `--interface=${lab.server.dev}`, '--bind-interfaces',
      `--dhcp-range=10.213.${lab.n}.160,10.213.${lab.n}.170,255.255.255.0,1h`, `--dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`,
      `--dhcp-option=114,http://${lab.server.address}/from-dnsmasq`, '--log-facility=-', '--log-dhcp',
    ]);
    try {
      await waitForLine(dnsmasq, /DHCP, IP range/, 10_000);
      const { stdout } = await lab.exec(lab.client.ns, ['node', join(repo, 'test/interop/dhcp/fixtures/bootlab-client.mjs'), lab.client.mac], 30_000);
      const lease = JSON.parse(stdout) as { address: string; serverId: string; vars: Record<string, string> };
      expect(lease.address).toMatch(new RegExp(`^10\\.213\\.${lab.n}\\.(16\\d|170)$`));
      expect(lease.serverId).toBe(lab.server.address);
      expect(lease.vars['url']).toBe(`http://${lab.server.address}/from-dnsmasq`);
    } finally {
      dnsmasq.kill('SIGTERM');
    }
  });
});
