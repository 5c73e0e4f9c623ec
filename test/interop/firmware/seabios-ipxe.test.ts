import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escape, marker, markerScript, stopChild, useFirmwareLab } from './firmware-lab.js';

/**
 * SeaBIOS boots the iPXE ROM of the NIC (ipxe-qemu), which takes a lease and a TFTP
 * boot file from `bootlab serve`; that script chains a second one over HTTP, which
 * prints the marker. bootlab starts before QEMU opens the tap, on a bridge with no
 * carrier, and binds the bridge's unicast address (issue 13, findings 1 and 2).
 */
const labOf = useFirmwareLab();

describe('SeaBIOS + iPXE through bootlab serve', () => {
  it('gets a lease, TFTPs an iPXE script, fetches the next one over HTTP and prints its marker', async () => {
    const lab = labOf();
    const mark = marker('seabios-ipxe');
    await writeFile(join(lab.tftpRoot, 'boot.ipxe'), `#!ipxe\nchain http://${lab.address}/stage2.ipxe\n`);
    await writeFile(join(lab.httpRoot, 'stage2.ipxe'), markerScript(mark));
    const a = lab.address;
    const served = await lab.serve([
      '--interface', lab.bridge, '--bind', a,
      '--dhcp-range', `${a.replace(/\.1$/, '.100')}-${a.replace(/\.1$/, '.150')}`,
      '--next-server', a, '--boot-file', 'boot.ipxe',
      '--tftp-root', lab.tftpRoot, '--http-root', lab.httpRoot,
    ]);
    try {
      expect(served.log()).toMatch(new RegExp(`bootlab serve: DHCP on ${escape(a)}:67 \\(server id ${escape(a)},`));
      const boot = await lab.boot({ firmware: 'seabios', marker: mark });
      console.log(`SeaBIOS + iPXE: marker after ${boot.ms} ms`);
      expect(boot.serial).toMatch(/iPXE/);
      const log = served.log();
      expect(log).toMatch(new RegExp(`DHCP ack ${escape(lab.mac)} \\S+`));
      expect(log).toMatch(/TFTP done \S+ boot\.ipxe \d+ bytes/);
      expect(log).toMatch(/HTTP \S+ GET \/stage2\.ipxe 200 \d+ "iPXE\//);
    } finally {
      await stopChild(served.child, 'SIGTERM');
    }
  }, 180_000);
});
