import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escape, FIRMWARE, marker, markerScript, stopChild, useFirmwareLab, chainloadConfig } from './firmware-lab.js';

/**
 * OVMF's UEFI HTTP Boot (EDK2 HttpBootDxe on VirtioNetDxe): DHCP with vendor class
 * HTTPClient, a class rule answering with an http:// URL in option 67, the download of
 * Debian's ipxe.efi, and iPXE then fetching a script that prints the marker. PXE and IPv6
 * are switched off in OVMF (fw_cfg) so HTTP Boot over IPv4 is the one boot option tried.
 */
const labOf = useFirmwareLab();

describe('OVMF UEFI HTTP Boot through bootlab serve', () => {
  it('answers HTTPClient with a URL, serves ipxe.efi over HTTP, and iPXE prints the marker from its script', async () => {
    const lab = labOf();
    const mark = marker('ovmf-http');
    const a = lab.address;
    await copyFile(FIRMWARE.ipxeEfi, join(lab.httpRoot, 'ipxe.efi'));
    await writeFile(join(lab.httpRoot, 'stage2.ipxe'), markerScript(mark));
    const config = await chainloadConfig(lab, { name: 'uefi-http', match: '{ vendorClassPrefix: HTTPClient }', options: `{ bootFileName: "http://${a}/ipxe.efi" }` });
    const served = await lab.serve(['--interface', lab.bridge, '--config', config]);
    try {
      const boot = await lab.boot({
        firmware: 'ovmf',
        marker: mark,
        fwCfg: { 'opt/org.tianocore/IPv4PXESupport': 'no', 'opt/org.tianocore/IPv6Support': 'no' },
      });
      console.log(`OVMF UEFI HTTP Boot: marker after ${boot.ms} ms`);
      expect(boot.serial).toMatch(/Start HTTP Boot over IPv4/);
      const log = served.log();
      expect(log).toMatch(new RegExp(`DHCP ack ${escape(lab.mac)} \\S+ \\[uefi-http\\]`));
      expect(log).toMatch(/HTTP \S+ GET \/ipxe\.efi 200 \d+ "UefiHttpBoot\//);
      expect(log).toMatch(new RegExp(`DHCP ack ${escape(lab.mac)} \\S+ \\[ipxe\\]`));
      expect(log).toMatch(/HTTP \S+ GET \/stage2\.ipxe 200 \d+ "iPXE\//);
    } finally {
      await stopChild(served.child, 'SIGTERM');
    }
  }, 180_000);
});
