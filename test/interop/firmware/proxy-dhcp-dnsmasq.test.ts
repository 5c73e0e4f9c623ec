import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireInterop } from '../netns.js';
import { createFirmwareLab, escape, FIRMWARE_INSTALL_HINT, marker, markerScript, requireFirmware, stopChild, type FirmwareLab } from './firmware-lab.js';

/**
 * A site's DHCP server hands out addresses only (dnsmasq, in a neighbouring namespace on
 * the same bridge); `bootlab serve --proxy-dhcp` beside it answers the PXE client with the
 * boot file and no address. SeaBIOS's iPXE ROM takes its address from dnsmasq, its boot
 * file from bootlab's proxy offer, TFTPs the script and fetches the next one over HTTP.
 */
let lab: FirmwareLab;

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
    const site = await lab.neighbour(2);
    const range = `${a.replace(/\.1$/, '.100')},${a.replace(/\.1$/, '.150')},255.255.255.0,10m`;
    const dnsmasq = site.spawn([
      'dnsmasq', '--keep-in-foreground', '--log-facility=-', '--log-dhcp', '--port=0', '--no-resolv', '--no-hosts',
      `--interface=${site.dev}`, '--bind-interfaces', `--dhcp-range=${range}`, `--dhcp-leasefile=${join(lab.dir, 'dnsmasq.leases')}`,
    ]);
    let dnsmasqLog = '';
    dnsmasq.stdout?.on('data', (d: Buffer) => (dnsmasqLog += d.toString()));
    dnsmasq.stderr?.on('data', (d: Buffer) => (dnsmasqLog += d.toString()));
    const served = await lab.serve(['--interface', lab.bridge, '--proxy-dhcp', '--boot-file', 'boot.ipxe', '--tftp-root', lab.tftpRoot, '--http-root', lab.httpRoot]);
    try {
      expect(served.log()).toMatch(/bootlab serve: proxyDHCP on 0\.0\.0\.0:67/);
      const boot = await lab.boot({ firmware: 'seabios', marker: mark });
      console.log(`proxyDHCP + dnsmasq, SeaBIOS + iPXE: marker after ${boot.ms} ms`);
      expect(dnsmasqLog).toMatch(new RegExp(`DHCPACK\\(${escape(site.dev)}\\) ${escape(a.replace(/\.1$/, '.'))}1\\d\\d ${escape(lab.mac)}`));
      expect(boot.serial).toMatch(new RegExp(`Next server: ${escape(a)}`));
      const log = served.log();
      expect(log).toMatch(new RegExp(`proxyDHCP \\S+ ${escape(lab.mac)}`));
      expect(log).toMatch(/TFTP done \S+ boot\.ipxe \d+ bytes/);
      expect(log).toMatch(/HTTP \S+ GET \/stage2\.ipxe 200 \d+ "iPXE\//);
    } finally {
      await stopChild(served.child, 'SIGTERM');
      await stopChild(dnsmasq, 'SIGTERM');
    }
  }, 180_000);
});
