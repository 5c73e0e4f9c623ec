import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planServe } from '../../src/scenario/serve-config.js';

const ifaces = {
  lo: [{ address: '127.0.0.1', family: 'IPv4', netmask: '255.0.0.0', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
  eth0: [{ address: '10.213.7.1', family: 'IPv4', netmask: '255.255.255.0', mac: '02:00:00:00:00:01', internal: false, cidr: '10.213.7.1/24' }],
  v6only: [{ address: 'fe80::1', family: 'IPv6', netmask: 'ffff:ffff:ffff:ffff::', mac: '02:00:00:00:00:02', internal: false, cidr: 'fe80::1/64', scopeid: 2 }],
} as unknown as Parameters<typeof planServe>[1];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-serve-config-'));
  // The directories the plans name: serve refuses a root or upload directory that does not exist.
  for (const d of ['www', 'up', 'boot', 'logs']) await mkdir(join(dir, d));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('planServe', () => {
  it('starts only DHCP for --dhcp-range, with the server id taken from --interface', async () => {
    const plan = await planServe({ interface: 'eth0', dhcpRange: '10.213.7.100-10.213.7.150', defaultUrl: 'http://10.213.7.1/onie-installer', leaseTime: '30m' }, ifaces);
    expect(plan.http).toBeUndefined();
    expect(plan.dhcp).toMatchObject({
      bind: { address: '0.0.0.0', port: 67 },
      serverId: '10.213.7.1',
      replyTo: 'broadcast',
      clientPort: 68,
      pool: { start: '10.213.7.100', end: '10.213.7.150', subnetMask: '255.255.255.0', leaseSeconds: 1800 },
      options: { defaultUrl: 'http://10.213.7.1/onie-installer' },
    });
  });

  it('starts only HTTP for --http-root', async () => {
    const plan = await planServe({ httpRoot: dir, httpPort: '8080', bind: '127.0.0.1' }, ifaces);
    expect(plan).toEqual({ seed: 1, http: { root: dir, bind: { address: '127.0.0.1', port: 8080 } } });
  });

  it('reads a config file and lets flags override it', async () => {
    const file = join(dir, 'serve.yaml');
    await writeFile(
      file,
      [
        'interface: eth0',
        'dhcp:',
        '  range: 10.213.7.10-10.213.7.20',
        '  leaseTime: 2h',
        '  leaseFile: leases.jsonl',
        '  reservations: [{ mac: "02:00:00:00:00:07", address: 10.213.7.7 }, { clientId: "00534e2d3432", address: 10.213.7.8 }]',
        '  subnets: [{ subnet: 10.44.0.0/24, range: 10.44.0.10-10.44.0.90, leaseTime: 10m, options: { router: [10.44.0.1] } }]',
        '  options: { router: [10.213.7.1], defaultUrl: "http://a/b" }',
        '  classes:',
        '    - { name: onie, match: { vendorClassPrefix: "onie_vendor:" }, options: { onie: { installerUrl: "http://a/onie" } } }',
        'http: { root: www, port: 8081 }',
        '',
      ].join('\n'),
    );
    const plan = await planServe({ config: file, defaultUrl: 'http://override/c' }, ifaces);
    expect(plan.dhcp).toMatchObject({
      serverId: '10.213.7.1',
      pool: {
        leaseSeconds: 7200,
        reservations: [
          { mac: '02:00:00:00:00:07', address: '10.213.7.7' },
          { clientId: '00534e2d3432', address: '10.213.7.8' },
        ],
      },
      leaseFile: join(dir, 'leases.jsonl'),
      options: { router: ['10.213.7.1'], defaultUrl: 'http://override/c' },
      subnets: [{ subnet: '10.44.0.0/24', pool: { start: '10.44.0.10', end: '10.44.0.90' }, leaseSeconds: 600, options: { router: ['10.44.0.1'] }, reservations: [] }],
      classes: [{ name: 'onie', match: { vendorClassPrefix: 'onie_vendor:' }, options: { onie: { installerUrl: 'http://a/onie' } } }],
    });
    expect(plan.http).toEqual({ root: join(dir, 'www'), bind: { address: '0.0.0.0', port: 8081 } });
  });

  it('plans proxyDHCP for PXE clients next to another DHCP server, with or without the 4011 step', async () => {
    const plan = await planServe({ interface: 'eth0', proxyDhcp: true, bootFile: 'undionly.kpxe' }, ifaces);
    expect(plan.dhcp).toBeUndefined();
    expect(plan.proxy).toMatchObject({
      bind: { address: '0.0.0.0', port: 67 },
      serverId: '10.213.7.1',
      bootFileInOffer: true,
      classes: [{ match: { vendorClassPrefix: 'PXEClient' }, options: { nextServer: '10.213.7.1', bootFile: 'undionly.kpxe' } }],
    });
    const via4011 = await planServe({ interface: 'eth0', proxyDhcp: true, bootFile: 'ipxe.efi', bootServerPort: '4011' }, ifaces);
    expect(via4011.proxy).toMatchObject({ bootFileInOffer: false, bootServerBind: { address: '0.0.0.0', port: 4011 } });
    await expect(planServe({ interface: 'eth0', proxyDhcp: true, dhcpRange: '10.0.0.1-10.0.0.9' }, ifaces)).rejects.toThrow(/both answer on port 67/);
    await expect(planServe({ interface: 'eth0', proxyDhcp: true }, ifaces)).rejects.toThrow(/needs --boot-file/);
  });

  it('13: plans proxyDHCP from a config with classes and reservations and no range, --boot-file as the last rule', async () => {
    const file = join(dir, 'proxy.yaml');
    await writeFile(
      file,
      [
        'interface: eth0',
        'dhcp:',
        '  classes:',
        '    - { name: ipxe, match: { ipxe: true }, options: { bootFileName: "http://10.213.7.1/boot.ipxe" } }',
        '    - { name: uefi, match: { vendorClassPrefix: PXEClient, arch: [7, 9] }, options: { nextServer: 10.213.7.1, bootFile: ipxe.efi } }',
        '  reservations:',
        '    - { mac: "52:54:00:12:34:57", options: { nextServer: 10.213.7.9 } }',
        '',
      ].join('\n'),
    );
    const plan = await planServe({ config: file, proxyDhcp: true, bootFile: 'undionly.kpxe', bootServerPort: '4011' }, ifaces);
    expect(plan.dhcp).toBeUndefined();
    expect(plan.proxy).toMatchObject({
      serverId: '10.213.7.1',
      bind: { address: '0.0.0.0', port: 67 },
      bootServerBind: { address: '0.0.0.0', port: 4011 },
      bootFileInOffer: false,
      classes: [
        { name: 'ipxe', match: { ipxe: true }, options: { bootFileName: 'http://10.213.7.1/boot.ipxe' } },
        { name: 'uefi', options: { nextServer: '10.213.7.1', bootFile: 'ipxe.efi' } },
        { name: 'pxe', match: { vendorClassPrefix: 'PXEClient' }, options: { bootFile: 'undionly.kpxe' } },
      ],
      reservations: [{ mac: '52:54:00:12:34:57', options: { nextServer: '10.213.7.9' } }],
    });
    // Classes alone are enough: no --boot-file needed.
    expect((await planServe({ config: file, proxyDhcp: true }, ifaces)).proxy?.classes).toHaveLength(2);
  });

  it('13: names the line of a config setting the mode cannot honour', async () => {
    const file = join(dir, 'proxy-bad.yaml');
    const config = async (...lines: string[]) => writeFile(file, ['dhcp:', ...lines, ''].join('\n'));
    await config('  classes: [{ name: i, match: { ipxe: true }, options: { bootFileName: "http://x/boot.ipxe" } }]');
    await expect(planServe({ config: file, serverId: '10.0.0.1' }, ifaces)).rejects.toThrow(/proxy-bad\.yaml:2: dhcp: has no range: .*--proxy-dhcp/);
    await config('  reservations: [{ mac: "52:54:00:12:34:57", address: 10.0.0.5 }]');
    await expect(planServe({ config: file, serverId: '10.0.0.1', proxyDhcp: true }, ifaces)).rejects.toThrow(/proxy-bad\.yaml:2: dhcp\.reservations\.0\.address: a proxy gives no addresses/);
    await config('  options: { router: [10.0.0.1] }');
    await expect(planServe({ config: file, serverId: '10.0.0.1', proxyDhcp: true }, ifaces)).rejects.toThrow(/proxy-bad\.yaml:2: dhcp\.options\.router: a proxy sends boot information only/);
    await config('  range: 10.0.0.10-10.0.0.20', '  reservations: [{ mac: "52:54:00:12:34:57", options: { bootFile: x.efi } }]');
    await expect(planServe({ config: file, serverId: '10.0.0.1' }, ifaces)).rejects.toThrow(/proxy-bad\.yaml:3: dhcp\.reservations\.0\.address: the DHCP server needs the address/);
  });

  it('16: takes option 82 from a config: classes by circuit-id or remote-id, reservations by circuit-id (full server only)', async () => {
    const file = join(dir, 'racks.yaml');
    const config = async (...lines: string[]) => writeFile(file, ['dhcp:', ...lines, ''].join('\n'));
    await config(
      '  range: 10.213.7.100-10.213.7.150',
      '  classes:',
      '    - { name: leaf-port, match: { circuitId: "r1-mgmt:Gi1/7" }, options: { defaultUrl: "http://10.213.7.1/leaf.bin" } }',
      '    - { name: rack-r2, match: { remoteId: r2 }, options: { defaultUrl: "http://10.213.7.1/r2.bin" } }',
      '  reservations:',
      '    - { circuitId: "r1-mgmt:Gi1/7", address: 10.213.7.7 }',
    );
    const plan = await planServe({ config: file, serverId: '10.213.7.1' }, ifaces);
    expect(plan.dhcp?.classes?.map((c) => [c.name, c.match])).toEqual([
      ['leaf-port', { circuitId: 'r1-mgmt:Gi1/7' }],
      ['rack-r2', { remoteId: 'r2' }],
    ]);
    expect(plan.dhcp?.pool.reservations).toEqual([{ circuitId: 'r1-mgmt:Gi1/7', address: '10.213.7.7' }]);
    await config('  reservations: [{ circuitId: "r1-mgmt:Gi1/7", options: { bootFile: x.efi } }]');
    await expect(planServe({ config: file, serverId: '10.0.0.1', proxyDhcp: true }, ifaces)).rejects.toThrow(/racks\.yaml:2: dhcp\.reservations\.0\.circuitId: a proxy gives no addresses/);
  });

  it('plans DHCPv6 with the boot file URL for IPv6-only racks', async () => {
    const plan = await planServe({ dhcp6Range: '2001:db8::100-2001:db8::1ff', dhcp6BootFileUrl: 'http://[2001:db8::1]/onie-installer' }, ifaces);
    expect(plan.dhcp6).toEqual({
      bind: { address: '::', port: 547 },
      pool: { start: '2001:db8::100', end: '2001:db8::1ff', preferredSeconds: 3600, validSeconds: 7200 },
      options: { bootFileUrl: 'http://[2001:db8::1]/onie-installer' },
      // Without --interface: ff02::1:2 on every interface with IPv6 (issue 13).
      multicastInterfaces: ['v6only'],
    });
    await expect(planServe({ dhcp6Range: '10.0.0.1-10.0.0.2' }, ifaces)).rejects.toThrow(/--dhcp6-range 10\.0\.0\.1-10\.0\.0\.2: expected START-END IPv6/);
  });

  it('takes the server id from a unicast --bind when neither --server-id nor --interface is given', async () => {
    expect((await planServe({ bind: '10.97.0.1', dhcpRange: '10.97.0.100-10.97.0.150' }, ifaces)).dhcp).toMatchObject({ bind: { address: '10.97.0.1', port: 67 }, serverId: '10.97.0.1' });
    expect((await planServe({ bind: '10.97.0.1', proxyDhcp: true, bootFile: 'ipxe.efi' }, ifaces)).proxy).toMatchObject({ serverId: '10.97.0.1' });
  });

  it('waits, bounded and announced once, for --interface to get its IPv4 address', async () => {
    const states = [[], [], ['10.97.0.1']];
    let looks = 0;
    const lookup = async (name: string) => (name === 'br0' ? { ipv4: states[Math.min(looks++, states.length - 1)]! } : undefined);
    const waits: string[] = [];
    const clock = { setTimeout: (fn: () => void) => (queueMicrotask(fn), 0), clearTimeout: () => undefined };
    const plan = await planServe({ interface: 'br0', interfaceWait: '10s', proxyDhcp: true, bootFile: 'ipxe.efi' }, lookup, { interfaceWait: { clock, onWait: (m) => waits.push(m) } });
    expect(plan.proxy?.serverId).toBe('10.97.0.1');
    expect(waits).toEqual(['--interface br0: no IPv4 address yet, waiting up to 10s for one']);
  });

  it('names the bad flag, the bad file line, and what is missing', async () => {
    await expect(planServe({}, ifaces)).rejects.toThrow(/nothing to serve/);
    await expect(planServe({ dhcpRange: '10.0.0.1-10.0.0.9' }, ifaces)).rejects.toThrow(/needs a server id/);
    await expect(planServe({ dhcpRange: '10.0.0.1-10.0.0.999', serverId: '10.0.0.254' }, ifaces)).rejects.toThrow(/--dhcp-range 10\.0\.0\.1-10\.0\.0\.999: expected a dotted IPv4 address/);
    await expect(planServe({ interface: 'wlan9', dhcpRange: '10.0.0.1-10.0.0.9' }, ifaces)).rejects.toThrow(/--interface wlan9: no such interface/);
    await expect(planServe({ interface: 'v6only', interfaceWait: '0', dhcpRange: '10.0.0.1-10.0.0.9' }, ifaces)).rejects.toThrow(/--interface v6only: it has no IPv4 address/);
    await expect(planServe({ interface: 'eth0', interfaceWait: 'soon', dhcpRange: '10.0.0.1-10.0.0.9' }, ifaces)).rejects.toThrow(/^--interface-wait soon: expected seconds/);
    await expect(planServe({ defaultUrl: 'http://x/y' }, ifaces)).rejects.toThrow(/no --dhcp-range/);
    await expect(planServe({ serverId: '10.0.0.1', dhcpRange: '10.0.0.1-10.0.0.9', leaseTime: 'forever' }, ifaces)).rejects.toThrow(/--lease-time forever/);
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'dhcp:\n  range: 10.0.0.1-10.0.0.9\n  lease: 1h\n');
    await expect(planServe({ config: file }, ifaces)).rejects.toThrow(/bad\.yaml:3: dhcp: unknown key "lease" \(did you mean "leaseTime"\?\)/);
  });

  it('plans TFTP from flags or a file: uploads, limits, retransmission and seeded faults', async () => {
    const fromFlags = await planServe({ tftpRoot: dir, tftpPort: '6969', tftpWriteDir: join(dir, 'up') }, ifaces);
    expect(fromFlags.tftp).toEqual({ root: dir, bind: { address: '0.0.0.0', port: 6969 }, write: { dir: join(dir, 'up') }, busyPollUs: 1000 });
    expect((await planServe({ tftpRoot: dir, tftpBusyPoll: '0' }, ifaces)).tftp?.busyPollUs).toBe(0);
    await expect(planServe({ tftpRoot: dir, tftpBusyPoll: 'lots' }, ifaces)).rejects.toThrow(/--tftp-busy-poll/);
    const file = join(dir, 'tftp.yaml');
    await writeFile(file, 'seed: lab-7\ntftp:\n  root: boot\n  writeDir: logs\n  maxWriteBytes: 1048576\n  maxBlksize: 1432\n  retransmit: 250ms\n  busyPoll: 200\n  faults: { loss: 0.1, duplicate: 0.02, delay: 5ms, jitter: 3ms }\n');
    const plan = await planServe({ config: file }, ifaces);
    expect(plan.seed).toBe('lab-7');
    expect(plan.tftp).toEqual({
      root: join(dir, 'boot'),
      bind: { address: '0.0.0.0', port: 69 },
      write: { dir: join(dir, 'logs'), maxBytes: 1048576 },
      maxBlksize: 1432,
      retransmitMs: 250,
      busyPollUs: 200,
      faults: { loss: 0.1, duplicate: 0.02, delayMs: 5, jitterMs: 3 },
    });
    await writeFile(file, 'tftp:\n  root: boot\n  faults: { loss: 30 }\n');
    await expect(planServe({ config: file }, ifaces)).rejects.toThrow(/tftp\.yaml:3: tftp\.faults\.loss: a rate is between 0 and 1/);
    await expect(planServe({ tftpWriteDir: dir }, ifaces)).rejects.toThrow(/--tftp-write-dir without --tftp-root/);
    await expect(planServe({ tftpBusyPoll: '10' }, ifaces)).rejects.toThrow(/--tftp-busy-poll without --tftp-root/);
  });

  it('12: plans TFTP transfer budgets from flags or a file, flags first, and rejects bad ones', async () => {
    const fromFlags = await planServe({ tftpRoot: dir, tftpMaxTransfers: '64', tftpMaxPerClient: '4', tftpMaxTransferTime: '2m' }, ifaces);
    expect(fromFlags.tftp).toMatchObject({ maxTransfers: 64, maxTransfersPerClient: 4, maxTransferMs: 120_000 });
    expect((await planServe({ tftpRoot: dir }, ifaces)).tftp).not.toHaveProperty('maxTransfers');
    const file = join(dir, 'budget.yaml');
    await writeFile(file, 'tftp:\n  root: boot\n  maxTransfers: 32\n  maxTransfersPerClient: 2\n  maxTransferTime: 90s\n');
    expect((await planServe({ config: file }, ifaces)).tftp).toMatchObject({ maxTransfers: 32, maxTransfersPerClient: 2, maxTransferMs: 90_000 });
    expect((await planServe({ config: file, tftpMaxPerClient: '8' }, ifaces)).tftp).toMatchObject({ maxTransfers: 32, maxTransfersPerClient: 8 });
    await expect(planServe({ tftpRoot: dir, tftpMaxTransfers: '0' }, ifaces)).rejects.toThrow(/--tftp-max-transfers 0/);
    await expect(planServe({ tftpRoot: dir, tftpMaxPerClient: 'many' }, ifaces)).rejects.toThrow(/--tftp-max-per-client many/);
    await expect(planServe({ tftpRoot: dir, tftpMaxTransferTime: '0' }, ifaces)).rejects.toThrow(/--tftp-max-transfer-time 0: must be longer than 0/);
    await expect(planServe({ tftpMaxTransfers: '8' }, ifaces)).rejects.toThrow(/--tftp-max-transfers without --tftp-root/);
    await writeFile(file, 'tftp:\n  root: boot\n  maxTransferTime: 0s\n');
    await expect(planServe({ config: file }, ifaces)).rejects.toThrow(/budget\.yaml:3: .*longer than 0/);
  });
});
