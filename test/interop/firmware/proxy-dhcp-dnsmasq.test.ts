import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireInterop } from '../netns.js';
import { createFirmwareLab, escape, FIRMWARE, FIRMWARE_INSTALL_HINT, marker, markerScript, requireFirmware, stopChild, chainloadConfig, type FirmwareLab } from './firmware-lab.js';

/**
 * A site's DHCP server hands out addresses only (dnsmasq, in a neighbouring namespace on
 * the same bridge); `bootlab serve --proxy-dhcp` beside it answers the PXE client with the
 * boot file and no address. SeaBIOS's iPXE ROM takes its address from dnsmasq, its boot
 * file from bootlab's proxy offer, TFTPs the script and fetches the next one over HTTP.
 * OVMF's EDK2 PXE gets ipxe.efi from a proxy class rule, and the iPXE it loads gets the
 * HTTP script from another (option 175), not ipxe.efi again (issue 13, finding 5).
 */
let lab: FirmwareLab;

/** The site's DHCP server: dnsmasq on a neighbour of br0, addresses only (no boot options). */
async function siteDhcp(): Promise<{ log(): string; dev: string; stop(): Promise<void> }> {
  const a = lab.address;
  const site = await lab.neighbour(2 + sites++);
  const range = `${a.replace(/\.1$/, '.100')},${a.replace(/\.1$/, '.150')},255.255.255.0,10m`;
  const dnsmasq = site.spawn([
    'dnsmasq', '--keep-in-foreground', '--log-facility=-', '--log-dhcp', '--port=0', '--no-resolv', '--no-hosts',
    `--interface=${site.dev}`, '--bind-interfaces', `--dhcp-range=${range}`, `--dhcp-leasefile=${join(lab.dir, `dnsmasq-${sites}.leases`)}`,
  ]);
  let text = '';
  dnsmasq.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  dnsmasq.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  return { log: () => text, dev: site.dev, stop: () => stopChild(dnsmasq, 'SIGTERM') };
}
let sites = 0;

beforeAll(async () => {
  await requireFirmware();
  await requireInterop(['dnsmasq'], `${FIRMWARE_INSTALL_HINT} dnsmasq-base`);
  lab = await createFirmwareLab();
});

afterAll(async () => {
  await lab?.destroy();
});

describe('proxyDHCP next to an address-only dnsmasq', () => {
  it('boots SeaBIOS + iPXE with the address from dnsmasq and the boot file from bootlab', async () => {
    const mark = marker('proxy-dnsmasq');
    const a = lab.address;
    await writeFile(join(lab.tftpRoot, 'boot.ipxe'), `#!ipxe\nchain http://${a}/stage2.ipxe\n`);
    await writeFile(join(lab.httpRoot, 'stage2.ipxe'), markerScript(mark));
    const site = await siteDhcp();
    const served = await lab.serve(['--interface', lab.bridge, '--proxy-dhcp', '--boot-file', 'boot.ipxe', '--tftp-root', lab.tftpRoot, '--http-root', lab.httpRoot]);
    try {
      expect(served.log()).toMatch(/bootlab serve: proxyDHCP on 0\.0\.0\.0:67/);
      const boot = await lab.boot({ firmware: 'seabios', marker: mark });
      console.log(`proxyDHCP + dnsmasq, SeaBIOS + iPXE: marker after ${boot.ms} ms`);
      expect(site.log()).toMatch(new RegExp(`DHCPACK\\(${escape(site.dev)}\\) ${escape(a.replace(/\.1$/, '.'))}1\\d\\d ${escape(lab.mac)}`));
      expect(boot.serial).toMatch(new RegExp(`Next server: ${escape(a)}`));
      const log = served.log();
      expect(log).toMatch(new RegExp(`proxyDHCP \\S+ ${escape(lab.mac)}`));
      expect(log).toMatch(/TFTP done \S+ boot\.ipxe \d+ bytes/);
      expect(log).toMatch(/HTTP \S+ GET \/stage2\.ipxe 200 \d+ "iPXE\//);
    } finally {
      await stopChild(served.child, 'SIGTERM');
      await site.stop();
    }
  }, 180_000);

  it('chainloads OVMF PXE into iPXE with class rules: ipxe.efi to EDK2, the HTTP script to iPXE', async () => {
    const mark = marker('proxy-ovmf');
    const a = lab.address;
    await copyFile(FIRMWARE.ipxeEfi, join(lab.tftpRoot, 'ipxe.efi'));
    await writeFile(join(lab.httpRoot, 'stage2.ipxe'), markerScript(mark));
    const config = await chainloadConfig(lab, { name: 'uefi-pxe', match: '{ vendorClassPrefix: PXEClient, arch: [7, 9] }', options: `{ nextServer: ${a}, bootFile: ipxe.efi, pxeDiscoveryControl: 8 }` }, { range: false, file: 'proxy.yaml' });
    const site = await siteDhcp();
    const served = await lab.serve(['--interface', lab.bridge, '--proxy-dhcp', '--config', config]);
    try {
      const boot = await lab.boot({ firmware: 'ovmf', marker: mark, fwCfg: { 'opt/org.tianocore/IPv6Support': 'no' } });
      console.log(`proxyDHCP + dnsmasq, OVMF PXE → iPXE: marker after ${boot.ms} ms`);
      expect(site.log()).toMatch(new RegExp(`DHCPACK\\(${escape(site.dev)}\\) \\S+ ${escape(lab.mac)}`));
      const log = served.log();
      expect(log).toMatch(new RegExp(`proxyDHCP \\S+ ${escape(lab.mac)}.*\\[uefi-pxe\\]`));
      expect(log).toMatch(/TFTP done \S+ ipxe\.efi \d+ bytes/);
      expect(log).toMatch(new RegExp(`proxyDHCP \\S+ ${escape(lab.mac)}.*\\[ipxe\\]`));
      expect(log).toMatch(/HTTP \S+ GET \/stage2\.ipxe 200 \d+ "iPXE\//);
      // No loop: once iPXE has asked, nobody fetches ipxe.efi again (EDK2 itself asks twice: its size, then the file).
      const lines = log.split('\n');
      const ipxeAsked = lines.findIndex((l) => /^\S+ proxyDHCP .*\[ipxe\]/.test(l));
      const lastEfiFetch = lines.findLastIndex((l) => /TFTP \S+ \S+ ipxe\.efi/.test(l));
      expect(lastEfiFetch, log).toBeLessThan(ipxeAsked);
    } finally {
      await stopChild(served.child, 'SIGTERM');
      await site.stop();
    }
  }, 180_000);
});
