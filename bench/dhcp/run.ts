/**
 * DHCP throughput: ISC perfdhcp (acting as a relay, giaddr set) against bootlab serve,
 * dnsmasq and Kea, one after another in one run, in network namespaces made for the
 * run. For each server it steps the offered rate up and reports the highest rate held
 * at ≤ 0.5 % drops on both DISCOVER-OFFER and REQUEST-ACK, then the ratios to the best Kea
 * (single-threaded, its 2.2 default, and with two threads).
 *
 *   sudo npm run bench:dhcp [-- --period 5 --rates 1000,2000,4000 --servers bootlab,kea]
 */
import { cpus, release } from 'node:os';
import { parseArgs } from 'node:util';
import { createLab, requireInterop, type Lab } from '../../test/interop/netns.js';
import { held, parsePerfdhcp, type PerfdhcpResult } from './perfdhcp.js';
import { bootlab, dnsmasq, kea, type BenchServer } from './servers.js';

const MAX_DROP = 0.005;
const { values } = parseArgs({
  options: {
    period: { type: 'string', default: '5' },
    rates: { type: 'string', default: '500,1000,2000,3000,4000,5000,6000,7000,8000,9000,10000,11000,12000' },
    servers: { type: 'string', default: 'bootlab,bootlab-leasefile,dnsmasq,kea,kea-mt' },
    clients: { type: 'string', default: '50000' },
  },
});
const period = Number(values.period);
const rates = values.rates.split(',').map(Number);
const clients = Number(values.clients);
const all: Record<string, BenchServer> = {
  bootlab: bootlab({ leaseFile: false }),
  'bootlab-leasefile': bootlab({ leaseFile: true }),
  dnsmasq,
  kea: kea(0),
  'kea-mt': kea(2),
};
const chosen = values.servers.split(',').map((n) => {
  const s = all[n];
  if (!s) throw new Error(`unknown server "${n}" (have: ${Object.keys(all).join(', ')})`);
  return s;
});

// A /16 with 65,000 addresses: room for every simulated client.
const net = { serverAddress: '10.214.0.1', clientAddress: '10.214.0.2', prefix: 16 };
const pool = { start: '10.214.1.0', end: '10.214.255.254', mask: '255.255.0.0', subnet: '10.214.0.0/16' };

async function step(t: Lab, rate: number): Promise<PerfdhcpResult> {
  // -l makes perfdhcp a relay (giaddr = its address); -W waits for late answers so the
  // last packets in flight are not counted as drops.
  const argv = ['perfdhcp', '-4', '-r', String(rate), '-R', String(clients), '-p', String(period), '-W', '1000000', '-s', '7', '-l', t.client.address!, t.server.address];
  const { stdout } = await t.exec(t.client.ns, argv, (period + 30) * 1000).catch((e: { stdout?: string; code?: number }) => {
    // perfdhcp exits 3 when it saw drops; its report is still on stdout.
    if (e.stdout) return { stdout: e.stdout };
    throw e;
  });
  return parsePerfdhcp(stdout, rate, period);
}

async function measure(server: BenchServer): Promise<{ best?: PerfdhcpResult; rows: PerfdhcpResult[] }> {
  const t = await createLab(net);
  const rows: PerfdhcpResult[] = [];
  try {
    const child = await server.start(t, pool);
    let failures = 0;
    for (const rate of rates) {
      const r = await step(t, rate);
      rows.push(r);
      const ok = held(r, MAX_DROP);
      console.log(
        `  ${server.name.padEnd(22)} offered ${String(rate).padStart(6)}/s  leases ${r.leasesPerSecond.toFixed(0).padStart(6)}/s  ` +
          `drops offer ${(r.offerDropRatio * 100).toFixed(2)} %  ack ${(r.ackDropRatio * 100).toFixed(2)} %  ${ok ? 'held' : 'NOT held'}`,
      );
      // Two failed steps in a row: the server is past its limit.
      failures = ok ? 0 : failures + 1;
      if (failures >= 2) break;
    }
    child.kill('SIGTERM');
  } finally {
    await t.destroy();
  }
  const best = rows.filter((r) => held(r, MAX_DROP)).sort((a, b) => b.leasesPerSecond - a.leasesPerSecond)[0];
  return best ? { best, rows } : { rows };
}

async function main(): Promise<void> {
  await requireInterop(['ip', 'perfdhcp', 'dnsmasq', 'kea-dhcp4'], 'apt-get install -y --no-install-recommends iproute2 kea-admin dnsmasq-base kea-dhcp4-server');
  console.log(`bench/dhcp  ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, Linux ${release()}, Node ${process.version}`);
  console.log(`perfdhcp as a relay, ${clients} clients, ${period} s per step, held = ≤ ${MAX_DROP * 100} % drops on both exchanges\n`);
  const results = new Map<string, PerfdhcpResult | undefined>();
  for (const server of chosen) {
    const { best } = await measure(server);
    results.set(server.name, best);
  }
  // The ratio is to the better of the Kea configurations measured.
  const keas = [...results.entries()].filter(([name]) => name.startsWith('Kea')).map(([, r]) => r).filter((r) => r !== undefined);
  const reference = keas.sort((a, b) => b.leasesPerSecond - a.leasesPerSecond)[0];
  console.log('');
  for (const [name, best] of results) {
    const rate = best ? best.leasesPerSecond : 0;
    const ratio = reference && reference.leasesPerSecond > 0 ? `${(rate / reference.leasesPerSecond).toFixed(2)}× Kea` : '';
    console.log(`dhcp leases/s at ≤ 0.5 % drop   ${name.padEnd(22)} ${rate.toFixed(0).padStart(6)}/s   ${ratio}`);
  }
}

main().catch((e: unknown) => {
  console.error(`bench/dhcp: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
