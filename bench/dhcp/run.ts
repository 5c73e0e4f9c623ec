/**
 * DHCP throughput: ISC perfdhcp (acting as a relay, giaddr set) against bootlab serve,
 * dnsmasq and Kea, each in network namespaces made for its run. One measurement is one
 * ladder on a freshly started server: the offered rate steps up (by 2,000/s to 8,000/s,
 * then by 1,000/s) with a population of 200,000 distinct clients on a /16, so the pool
 * fills as it would in a large lab; the first step that fails is narrowed by 500/s steps
 * from the last one held, until one of those fails too; the result
 * is the highest rate held at ≤ 0.5 % drops on both DISCOVER-OFFER and REQUEST-ACK, with
 * the server's CPU time per lease at that step. The servers take turns run by run (A B C
 * A B C ...), so drift of the machine hits all alike, and each prints median (min–max) of
 * its runs and the ratio to the better Kea configuration.
 *
 *   sudo npm run bench:dhcp [-- --runs 5 --period 5 --rates 2000,4000,8000 --servers bootlab,kea]
 */
import { parseArgs } from 'node:util';
import { createLab, requireInterop, type Lab } from '../../test/interop/netns.js';
import { machineLine, processCpuSeconds, spread, stats } from '../spread.js';
import { held, parsePerfdhcp, type PerfdhcpResult } from './perfdhcp.js';
import { bootlab, dnsmasq, kea, type BenchServer } from './servers.js';

const MAX_DROP = 0.005;
/** Coarse where every server holds, by 1,000/s where the limits lie; the first failure is then narrowed by 500/s. */
const LADDER = [2000, 4000, 6000, 8000, ...Array.from({ length: 17 }, (_, i) => 9000 + 1000 * i)];
const FINE_STEP = 500;
const { values } = parseArgs({
  options: {
    period: { type: 'string', default: '5' },
    rates: { type: 'string', default: LADDER.join(',') },
    servers: { type: 'string', default: 'bootlab,bootlab-leasefile,kea,kea-mt,kea-mt-leasefile,dnsmasq' },
    clients: { type: 'string', default: '200000' },
    runs: { type: 'string', default: '5' },
  },
});
const period = Number(values.period);
const rates = values.rates.split(',').map(Number);
const clients = Number(values.clients);
const runs = Number(values.runs);
if (!(runs >= 1 && runs <= 20) || !(period >= 1 && period <= 60) || !(clients >= 1 && clients <= 1_000_000) || rates.some((r) => !(r > 0 && r <= 100_000))) {
  throw new Error('--runs is 1..20, --period 1..60 s, --clients 1..1,000,000 and --rates a list of 1..100,000');
}
const all: Record<string, BenchServer> = {
  bootlab: bootlab({ leaseFile: false }),
  'bootlab-leasefile': bootlab({ leaseFile: true }),
  dnsmasq,
  kea: kea(0),
  'kea-mt': kea(2),
  'kea-leasefile': kea(0, true),
  'kea-mt-leasefile': kea(2, true),
};
const chosen = values.servers.split(',').map((n) => {
  const s = all[n];
  if (!s) throw new Error(`unknown server "${n}" (have: ${Object.keys(all).join(', ')})`);
  return s;
});

// A /16 with 65,000 addresses: room for every client a ladder reaches (perfdhcp's seed is
// the same every step, so each step repeats the clients of the one before and adds more).
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

interface Step extends PerfdhcpResult {
  /** Server CPU (user + system) per ACK sent during the step. */
  cpuMsPerLease: number;
}

/** One ladder on a fresh server in a fresh lab; the best step held, if any. */
async function ladder(server: BenchServer, run: number): Promise<Step | undefined> {
  const t = await createLab(net);
  const rows: Step[] = [];
  try {
    const child = await server.start(t, pool);
    try {
      // Up the ladder until a step fails; then the rates between the last held step and the
      // failed one, every 500/s, until one fails again (the pool keeps filling meanwhile).
      const queue = [...rates];
      let lastHeld = 0;
      let narrowing = false;
      while (queue.length > 0) {
        const rate = queue.shift()!;
        const before = await processCpuSeconds(child.pid!);
        const r = await step(t, rate);
        const acks = r.leasesPerSecond * period;
        const row = { ...r, cpuMsPerLease: acks > 0 ? (((await processCpuSeconds(child.pid!)) - before) * 1000) / acks : NaN };
        rows.push(row);
        const ok = held(r, MAX_DROP);
        console.log(
          `  run ${run} ${server.name.padEnd(32)} offered ${String(rate).padStart(6)}/s  leases ${r.leasesPerSecond.toFixed(0).padStart(6)}/s  ` +
            `drops offer ${(r.offerDropRatio * 100).toFixed(2)} %  ack ${(r.ackDropRatio * 100).toFixed(2)} %  CPU ${row.cpuMsPerLease.toFixed(3)} ms/lease  ${ok ? 'held' : 'NOT held'}`,
        );
        if (ok) {
          lastHeld = Math.max(lastHeld, rate);
          continue;
        }
        if (narrowing) break;
        narrowing = true;
        queue.length = 0;
        for (let x = lastHeld + FINE_STEP; x < rate; x += FINE_STEP) queue.push(x);
      }
    } finally {
      child.kill('SIGTERM');
    }
  } finally {
    await t.destroy();
  }
  return rows.filter((r) => held(r, MAX_DROP)).sort((a, b) => b.leasesPerSecond - a.leasesPerSecond)[0];
}

async function main(): Promise<void> {
  await requireInterop(['ip', 'perfdhcp', 'dnsmasq', 'kea-dhcp4'], 'apt-get install -y --no-install-recommends iproute2 kea-admin dnsmasq-base kea-dhcp4-server');
  const repo = new URL('../../', import.meta.url).pathname;
  console.log(`bench/dhcp  ${machineLine(repo)}`);
  console.log(`perfdhcp as a relay, ${clients} clients on a /16, ${period} s per step, held = ≤ ${MAX_DROP * 100} % drops on both exchanges; ${runs} interleaved runs\n`);
  const best = new Map<BenchServer, Step[]>(chosen.map((s) => [s, []]));
  const failed = new Map<BenchServer, number>(chosen.map((s) => [s, 0]));
  for (let run = 1; run <= runs; run++) {
    for (const server of chosen) {
      const b = await ladder(server, run);
      if (b) best.get(server)!.push(b);
      else failed.set(server, failed.get(server)! + 1);
    }
  }
  const median = (s: BenchServer): number => (best.get(s)!.length ? stats(best.get(s)!.map((r) => r.leasesPerSecond)).median : 0);
  // The reference is the better Kea configuration without a lease file, as the target says;
  // Kea with its lease file is printed beside bootlab's for the like-for-like comparison.
  const keas = chosen.filter((s) => s.name.startsWith('Kea') && !s.name.includes('lease file'));
  const reference = keas.sort((a, b) => median(b) - median(a))[0];
  const ref = reference ? median(reference) : 0;
  console.log(`\nleases/s held at ≤ 0.5 % drops, median (min–max) of ${runs} runs${reference ? `; ratio to ${reference.name} (${ref.toFixed(0)}/s)` : ''}`);
  for (const server of chosen) {
    const rs = best.get(server)!;
    const none = failed.get(server)! > 0 ? `  (${failed.get(server)} runs held no step)` : '';
    if (rs.length === 0) {
      console.log(`  ${server.name.padEnd(32)} no step held${none}`);
      continue;
    }
    const ratio = ref > 0 ? `${spread(rs.map((r) => r.leasesPerSecond / ref), 2)}× Kea` : '';
    console.log(
      `  ${server.name.padEnd(32)} ${spread(rs.map((r) => r.leasesPerSecond), 0).padEnd(20)} ${ratio.padEnd(24)} server CPU ${spread(rs.map((r) => r.cpuMsPerLease), 3)} ms/lease${none}`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(`bench/dhcp: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
