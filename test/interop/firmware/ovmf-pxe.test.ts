import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escape, FIRMWARE, marker, markerScript, stopChild, useFirmwareLab, chainloadConfig } from './firmware-lab.js';

/**
 * OVMF's own UEFI PXE (EDK2 UefiPxeBcDxe on VirtioNetDxe, no iPXE ROM): a lease with a
 * class rule for PXEClient arch 7, TFTP of Debian's ipxe.efi, then iPXE asks again
 * (option 175 matches the ipxe rule), with the same address, and gets a script over HTTP
 * that prints the marker.
 * The config has no HTTPClient rule, so OVMF's HTTP Boot, tried after PXE, gets no URI and
 * cannot print the marker instead; IPv6 is switched off so no PXEv6 wait comes between.
 */
const labOf = useFirmwareLab();

describe('OVMF UEFI PXE through bootlab serve', () => {
  it('TFTPs ipxe.efi to EDK2 PXE, and iPXE then fetches a script over HTTP that prints its marker', async () => {
    const lab = labOf();
    const mark = marker('ovmf-pxe');
    const a = lab.address;
    await copyFile(FIRMWARE.ipxeEfi, join(lab.tftpRoot, 'ipxe.efi'));
    await writeFile(join(lab.httpRoot, 'stage2.ipxe'), markerScript(mark));
    const config = await chainloadConfig(lab, { name: 'uefi-pxe', match: '{ vendorClassPrefix: PXEClient, arch: [7, 9] }', options: `{ nextServer: ${a}, bootFile: ipxe.efi }` });
    const served = await lab.serve(['--interface', lab.bridge, '--config', config]);
    try {
      expect(served.log()).toMatch(new RegExp(`bootlab serve: DHCP on 0\\.0\\.0\\.0:67 \\(server id ${escape(a)},`));
      const boot = await lab.boot({ firmware: 'ovmf', marker: mark, fwCfg: { 'opt/org.tianocore/IPv6Support': 'no' } });
      console.log(`OVMF UEFI PXE: marker after ${boot.ms} ms`);
      const log = served.log();
      const firmwareLease = new RegExp(`DHCP ack ${escape(lab.mac)} (\\S+) \\[uefi-pxe\\]`).exec(log)?.[1];
      expect(firmwareLease, log).toBeDefined();
      expect(log).toMatch(/TFTP done \S+ ipxe\.efi \d+ bytes/);
      // EDK2 sends no option 61, iPXE sends 61 = MAC: one NIC, one lease (issue 13, finding 6).
      const ipxeLease = new RegExp(`DHCP ack ${escape(lab.mac)} (\\S+) \\[ipxe\\]`).exec(log)?.[1];
      expect(ipxeLease, log).toBe(firmwareLease);
      expect(log).toMatch(/HTTP \S+ GET \/stage2\.ipxe 200 \d+ "iPXE\//);
    } finally {
      await stopChild(served.child, 'SIGTERM');
    }
  }, 180_000);
});
