import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { waitForLine, type Lab } from '../../test/interop/netns.js';

/** A DHCP server under test: started in the server namespace, ready when `start` resolves. */
export interface BenchServer {
  name: string;
  start(t: Lab, pool: { start: string; end: string; mask: string; subnet: string }): Promise<ChildProcess>;
}

const repo = new URL('../../', import.meta.url).pathname;


export const bootlab = (opts: { leaseFile: boolean }): BenchServer => ({
  name: opts.leaseFile ? 'bootlab (lease file)' : 'bootlab',
  async start(t, pool) {
    const dir = await mkdtemp(join(tmpdir(), 'bootlab-bench-'));
    const child = t.spawn(t.server.ns, [
      process.execPath,
      join(repo, 'dist/cli/bin.js'),
      'serve',
      '--bind', '0.0.0.0',
      '--server-id', t.server.address,
      '--dhcp-range', `${pool.start}-${pool.end}`,
      '--subnet-mask', pool.mask,
      '--lease-time', '1h',
      // Like dnsmasq --quiet-dhcp and Kea at INFO: no line per exchange.
      '--quiet',
      ...(opts.leaseFile ? ['--lease-file', join(dir, 'leases')] : []),
    ]);
    child.stdout?.resume();
    await waitForLine(child, /bootlab serve: DHCP on/, 10_000);
    return child;
  },
});

export const dnsmasq: BenchServer = {
  name: 'dnsmasq',
  async start(t, pool) {
    const dir = await mkdtemp(join(tmpdir(), 'bootlab-bench-dnsmasq-'));
    const child = t.spawn(t.server.ns, [
      'dnsmasq', '--no-daemon', '--port=0', '--no-resolv', '--no-hosts',
      `--interface=${t.server.dev}`, '--bind-interfaces', '--no-ping', '--leasefile-ro',
      `--dhcp-range=${pool.start},${pool.end},${pool.mask},1h`,
      '--dhcp-lease-max=1000000', '--quiet-dhcp', `--dhcp-leasefile=${join(dir, 'leases')}`,
      '--log-facility=-',
    ]);
    child.stdout?.resume();
    await waitForLine(child, /started, version|DHCP, IP range/, 10_000);
    return child;
  },
};

/**
 * Kea 2.2's memfile, kept in memory only or (`leaseFile`) also appended to its CSV file as
 * every lease is written; `threads` > 0 turns on its multi-threading.
 */
export const kea = (threads = 0, leaseFile = false): BenchServer => ({
  name: `Kea 2.2${threads > 0 || leaseFile ? ` (${[threads > 0 ? `${threads} threads` : '', leaseFile ? 'lease file' : ''].filter(Boolean).join(', ')})` : ''}`,
  async start(t, pool) {
    const dir = await mkdtemp(join(tmpdir(), 'bootlab-bench-kea-'));
    const config = {
      Dhcp4: {
        'interfaces-config': { interfaces: [t.server.dev], 'dhcp-socket-type': 'udp' },
        'lease-database': leaseFile
          ? { type: 'memfile', persist: true, name: join(dir, 'kea-leases4.csv'), 'lfc-interval': 0 }
          : { type: 'memfile', persist: false, 'lfc-interval': 0 },
        'valid-lifetime': 3600,
        subnet4: [{ id: 1, subnet: pool.subnet, pools: [{ pool: `${pool.start} - ${pool.end}` }] }],
        'multi-threading':
          threads > 0
            ? { 'enable-multi-threading': true, 'thread-pool-size': threads, 'packet-queue-size': 64 }
            : { 'enable-multi-threading': false },
        // WARN, not INFO: Kea logs every allocated lease at INFO, which would measure logging.
        loggers: [{ name: 'kea-dhcp4', output_options: [{ output: 'stdout' }], severity: 'WARN' }],
      },
    };
    await writeFile(join(dir, 'kea.json'), JSON.stringify(config));
    const child = t.spawn(t.server.ns, ['kea-dhcp4', '-c', join(dir, 'kea.json')], {
      ...process.env,
      KEA_PIDFILE_DIR: dir,
      KEA_LOCKFILE_DIR: dir,
    });
    // Kea's last start-up line at WARN: the configuration is applied and sockets are open.
    await waitForLine(child, /DHCP4_MULTI_THREADING_INFO/, 15_000);
    return child;
  },
});
