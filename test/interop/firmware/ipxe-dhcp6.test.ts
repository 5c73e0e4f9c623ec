import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { escape, marker, markerScript, stopChild, useFirmwareLab } from './firmware-lab.js';

/**
 * iPXE (SeaBIOS's NIC ROM) over IPv6 only: no DHCPv4 server runs. bootlab's router
 * advertisements (M and O flags) start iPXE's DHCPv6; bootlab's DHCPv6 server leases an
 * address and gives option 59, an http://[...] URL that bootlab's HTTP serves on IPv6.
 */
const run = promisify(execFile);
const labOf = useFirmwareLab();

describe('iPXE over DHCPv6 with bootlab router advertisements', () => {
  it('gets an address and a boot file URL over DHCPv6 and prints the marker of the script it fetches over IPv6', async () => {
    const lab = labOf();
    const mark = marker('ipxe-dhcp6');
    const net = `fd97:${lab.address.split('.')[2]!}`;
    const server6 = `${net}::1`;
    // nodad: the address is usable at once, not after duplicate address detection.
    await run('ip', ['-n', lab.ns, '-6', 'addr', 'add', `${server6}/64`, 'dev', lab.bridge, 'nodad'], { timeout: 10_000 });
    await writeFile(join(lab.httpRoot, 'stage2.ipxe'), markerScript(mark));
    const served = await lab.serve([
      '--interface', lab.bridge,
      '--ra-prefix', `${net}::/64`, '--ra-managed', '--ra-other', '--ra-interval', '4s',
      '--dhcp6-range', `${net}::100-${net}::1ff`, '--dhcp6-boot-file-url', `http://[${server6}]/stage2.ipxe`,
      '--http-root', lab.httpRoot,
    ]);
    try {
      const boot = await lab.boot({ firmware: 'seabios', marker: mark });
      console.log(`iPXE over DHCPv6: marker after ${boot.ms} ms`);
      const log = served.log();
      expect(log).toMatch(/router advertisements on br0/);
      expect(log).toMatch(new RegExp(`DHCPv6 \\S+ .*${escape(net)}::1[0-9a-f]{2}`));
      expect(log).toMatch(new RegExp(`HTTP \\[?${escape(net)}::1[0-9a-f]{2}\\]?:\\d+ GET /stage2\\.ipxe 200 \\d+ "iPXE/`));
    } finally {
      await stopChild(served.child, 'SIGTERM');
    }
  }, 180_000);
});
