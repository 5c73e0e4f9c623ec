import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLab, requireInterop, waitForLine, type Lab } from '../netns.js';

/**
 * proxyDHCP as it runs on a real network: dnsmasq leases addresses and knows nothing of
 * booting; `bootlab serve --proxy-dhcp` on the same link answers the PXE clients with boot
 * information only. Three namespaces: the client, bootlab (whose veth end is bridged) and
 * dnsmasq on a second port of that bridge, so each server owns its port 67.
 */
const run = promisify(execFile);
const repo = new URL('../../../', import.meta.url).pathname;
const bin = join(repo, 'dist/cli/bin.js');
const offersScript = join(repo, 'test/interop/dhcp/fixtures/pxe-offers.mjs');
let lab: Lab;
let dir: string;
let dnsmasqNs: string;
let bootlab: ChildProcess | undefined;
let bootlabLog = '';
let dnsmasq: ChildProcess;
let dnsmasqLog = '';

interface Offer {
  serverId?: string;
  yiaddr: string;
  siaddr: string;
  file: string;
  bootFileName?: string;
  vendorClass?: string;
}

/** Joins a third namespace to the lab's server side through a bridge there; returns its name and address. */
async function addNeighbour(l: Lab): Promise<{ ns: string; dev: string; address: string }> {
  const tag = l.server.ns.slice('bl-s-'.length);
  const ns = `bl-d-${tag}`;
  const dev = `bl-d${tag}`;
  const bridge = `bl-b${tag}`;
  const address = `10.213.${l.n}.2`;
  const ip = (...args: string[]) => run('ip', args, { timeout: 10_000 });
  const s = l.server.ns;
  await ip('netns', 'add', ns);
  await ip('-n', s, 'link', 'add', bridge, 'type', 'bridge');
  await ip('-n', s, 'addr', 'del', `${l.server.address}/24`, 'dev', l.server.dev);
  await ip('-n', s, 'link', 'set', l.server.dev, 'master', bridge);
  await ip('-n', s, 'addr', 'add', `${l.server.address}/24`, 'dev', bridge);
  await ip('-n', s, 'link', 'set', bridge, 'up');
  await ip('-n', s, 'route', 'replace', '255.255.255.255/32', 'dev', bridge);
  await ip('link', 'add', dev, 'type', 'veth', 'peer', 'name', `${dev}p`);
  await ip('link', 'set', dev, 'netns', ns);
  await ip('link', 'set', `${dev}p`, 'netns', s);
  await ip('-n', s, 'link', 'set', `${dev}p`, 'master', bridge);
  await ip('-n', s, 'link', 'set', `${dev}p`, 'up');
  await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', dev);
  await ip('-n', ns, 'link', 'set', dev, 'up');
  await ip('-n', ns, 'link', 'set', 'lo', 'up');
  await ip('-n', ns, 'route', 'add', '255.255.255.255/32', 'dev', dev);
  return { ns, dev, address };
}

beforeAll(async () => {
  await requireInterop(['ip', 'dnsmasq']);
  lab = await createLab();
  dir = await mkdtemp(join(tmpdir(), 'bootlab-proxy-interop-'));
  const neighbour = await addNeighbour(lab);
  dnsmasqNs = neighbour.ns;
  const net = `10.213.${lab.n}`;
  // Addresses only: no boot options, no DNS (--port=0); no ping before an offer, which
  // would hold each new client's offer back by seconds.
  dnsmasq = lab.spawn(dnsmasqNs, [
    'dnsmasq', '--no-daemon', '--port=0', '--no-resolv', '--no-hosts', `--interface=${neighbour.dev}`, '--bind-interfaces',
    `--dhcp-range=${net}.160,${net}.170,255.255.255.0,1h`, `--dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`, '--no-ping', '--log-facility=-', '--log-dhcp',
  ]);
  await waitForLine(dnsmasq, /DHCP, IP range/, 10_000);
  dnsmasq.stdout?.on('data', (d: Buffer) => (dnsmasqLog += d.toString()));
  dnsmasq.stderr?.on('data', (d: Buffer) => (dnsmasqLog += d.toString()));
  await writeFile(
    join(dir, 'proxy.yaml'),
    [
      'dhcp:',
      '  classes:',
      '    - name: ipxe',
      '      match: { ipxe: true }',
      `      options: { bootFileName: "http://${lab.server.address}/boot.ipxe" }`,
      '    - name: uefi-pxe',
      '      match: { vendorClassPrefix: PXEClient, arch: [7, 9] }',
      `      options: { nextServer: ${lab.server.address}, bootFile: ipxe.efi }`,
      '',
    ].join('\n'),
  );
});

afterEach(async () => {
  const b = bootlab;
  bootlab = undefined;
  // The next test binds port 67 again: wait until this server has let go of it.
  if (b && b.exitCode === null && b.signalCode === null) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bootlab serve (pid ${b.pid}) still running 10 s after SIGTERM`)), 10_000);
      b.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      b.kill('SIGTERM');
    });
  }
});

afterAll(async () => {
  dnsmasq?.kill('SIGTERM');
  if (dnsmasqNs) await run('ip', ['netns', 'del', dnsmasqNs], { timeout: 10_000 }).catch(() => undefined);
  await lab?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function serve(...args: string[]): Promise<void> {
  bootlabLog = '';
  const b = lab.spawn(lab.server.ns, ['node', bin, 'serve', '--proxy-dhcp', '--server-id', lab.server.address, '--config', join(dir, 'proxy.yaml'), ...args]);
  bootlab = b;
  b.stdout?.on('data', (d: Buffer) => (bootlabLog += d.toString()));
  b.stderr?.on('data', (d: Buffer) => (bootlabLog += d.toString()));
  await waitForLine(b, /proxyDHCP on 0\.0\.0\.0:67/, 10_000);
}

/** One firmware's DISCOVER and the offers it collects; with `bootServerPort`, the port-4011 step after. */
async function offersFor(profile: 'edk2-uefi-pxe' | 'ipxe-efi', bootServerPort?: number): Promise<{ lease: Offer; proxy: Offer; ack?: Offer }> {
  const step = bootServerPort !== undefined ? [lab.client.dev, String(bootServerPort)] : [];
  const { stdout } = await lab.exec(lab.client.ns, ['node', offersScript, lab.client.mac, profile, ...step], 30_000);
  const { offers, ack } = JSON.parse(stdout) as { offers: Offer[]; ack?: Offer };
  const lease = offers.find((o) => o.yiaddr !== '0.0.0.0');
  const proxy = offers.find((o) => o.yiaddr === '0.0.0.0');
  if (!lease || !proxy) throw new Error(`${profile}: expected a lease offer and a proxy offer, got ${stdout}\nbootlab:\n${bootlabLog}\ndnsmasq:\n${dnsmasqLog}`);
  if (bootServerPort !== undefined && !ack) throw new Error(`${profile}: no ACK from the boot server on port ${bootServerPort}, got ${stdout}\nbootlab:\n${bootlabLog}`);
  return { lease, proxy, ...(ack ? { ack } : {}) };
}

describe('bootlab serve --proxy-dhcp next to dnsmasq', () => {
  it('13: OVMF gets its address from dnsmasq and ipxe.efi from the proxy; iPXE on the same NIC then gets the HTTP script', async () => {
    await serve();
    const net = `10.213.${lab.n}`;
    const edk2 = await offersFor('edk2-uefi-pxe');
    expect(edk2.lease.serverId).toBe(`${net}.2`);
    expect(edk2.lease.yiaddr).toMatch(new RegExp(`^10\\.213\\.${lab.n}\\.(16\\d|170)$`));
    expect([edk2.lease.file, edk2.lease.bootFileName]).toEqual(['', undefined]);
    expect(edk2.proxy).toMatchObject({ serverId: lab.server.address, siaddr: lab.server.address, file: 'ipxe.efi', vendorClass: 'PXEClient' });

    const ipxe = await offersFor('ipxe-efi');
    expect(ipxe.lease.serverId).toBe(`${net}.2`);
    expect(ipxe.proxy).toMatchObject({ serverId: lab.server.address, siaddr: lab.server.address, bootFileName: `http://${lab.server.address}/boot.ipxe`, vendorClass: 'PXEClient' });
    expect(ipxe.proxy.file).not.toBe('ipxe.efi');

    // bootlab's log shows both exchanges, with the rule that decided each.
    expect(bootlabLog).toMatch(new RegExp(`proxyDHCP offer ${lab.client.mac} \\[uefi-pxe\\]: proxy, boot file ipxe\\.efi`));
    expect(bootlabLog).toMatch(new RegExp(`proxyDHCP offer ${lab.client.mac} \\[ipxe\\]: proxy, boot file http://`));
  });

  it('13: with --boot-server-port the offers name no file and the port-4011 step gives each stage its own', async () => {
    const port = 4011;
    await serve('--boot-server-port', String(port));
    const edk2 = await offersFor('edk2-uefi-pxe', port);
    expect([edk2.proxy.file, edk2.proxy.bootFileName, edk2.proxy.vendorClass]).toEqual(['', undefined, 'PXEClient']);
    expect(edk2.ack).toMatchObject({ serverId: lab.server.address, yiaddr: '0.0.0.0', siaddr: lab.server.address, file: 'ipxe.efi', vendorClass: 'PXEClient' });
    const ipxe = await offersFor('ipxe-efi', port);
    expect(ipxe.ack).toMatchObject({ siaddr: lab.server.address, bootFileName: `http://${lab.server.address}/boot.ipxe` });
    expect(bootlabLog).toMatch(new RegExp(`proxyDHCP ack ${lab.client.mac} \\[uefi-pxe\\]: boot server, boot file ipxe\\.efi`));
    expect(bootlabLog).toMatch(new RegExp(`proxyDHCP ack ${lab.client.mac} \\[ipxe\\]: boot server, boot file http://`));
  });
});
