/**
 * TFTP throughput: the same file served by bootlab serve, tftpd-hpa, dnsmasq and atftpd,
 * each in a network namespace pair made for its run (a veth link with a 1500-byte MTU, so
 * blksize 1468 fills a frame). atftp fetches it at blksize 512, 1468, and 1468 with
 * windowsize 8; every fetch is checked byte for byte (sha256). The servers take turns run by
 * run (each run starts every server afresh and fetches each setting once), so drift of the
 * machine hits all alike; each figure is median (min–max) of the runs, with the server's
 * CPU per MiB (its whole process tree, through a cgroup, so forked and threaded servers
 * count too). The targets: lock-step ≥ 1.0× tftpd-hpa, windowsize 8 ≥ 1.0× atftpd's.
 * bootlab runs as `bootlab serve` does by default (busy-polling 1 ms for ACKs after each
 * DATA burst) and as `bootlab-sleep` with --tftp-busy-poll 0, so the trade is visible.
 * atftpd is unpacked from its .deb into a private cache (its package conflicts with
 * tftpd-hpa's), or taken from --atftpd.
 *
 *   sudo npm run bench:tftp [-- --mib 64 --runs 5 --servers bootlab,bootlab-sleep,tftpd-hpa,dnsmasq,atftpd]
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLab, requireInterop, type Lab } from '../../test/interop/netns.js';
import { cpuMeter } from '../cpu-meter.js';
import { machineLine, spread, stats } from '../spread.js';
import { atftpdBinary, tftpServers, type TftpBenchServer } from './servers.js';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '64' },
    runs: { type: 'string', default: '5' },
    servers: { type: 'string', default: 'bootlab,bootlab-sleep,tftpd-hpa,dnsmasq,atftpd' },
    atftpd: { type: 'string' },
  },
});
const mib = Number(values.mib);
const runs = Number(values.runs);
if (!(mib >= 1 && mib <= 1024) || !(runs >= 1 && runs <= 20)) throw new Error('--mib is 1..1024 and --runs 1..20');

const SETTINGS = [
  { name: 'blksize 512', options: [] as string[] },
  { name: 'blksize 1468', options: ['--option', 'blksize 1468'] },
  { name: '1468 + windowsize 8', options: ['--option', 'blksize 1468', '--option', 'windowsize 8'] },
] as const;
type SettingName = (typeof SETTINGS)[number]['name'];

const net = { serverAddress: '10.216.0.1', clientAddress: '10.216.0.2', prefix: 24 };
const repo = new URL('../../', import.meta.url).pathname;

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function fetchOnce(lab: Lab, out: string, options: readonly string[], expected: string): Promise<number> {
  await rm(out, { force: true });
  const argv = ['atftp', ...options, '--get', '-r', 'bench.bin', '-l', out, lab.server.address, '69'];
  const start = performance.now();
  await lab.exec(lab.client.ns, argv, 300_000);
  const seconds = (performance.now() - start) / 1000;
  const got = await sha256File(out);
  if (got !== expected) throw new Error(`atftp ${options.join(' ')}: the fetched file differs (sha256 ${got.slice(0, 16)}…, want ${expected.slice(0, 16)}…)`);
  return mib / seconds;
}

interface Sample {
  mibPerS: number;
  cpuMsPerMiB: number;
}

/** One run of one server: started afresh in its own lab, each setting fetched once. */
async function runServer(server: TftpBenchServer, root: string, expected: string, round: number): Promise<Map<SettingName, Sample>> {
  const lab = await createLab(net);
  const out = new Map<SettingName, Sample>();
  try {
    const child = await server.start(lab, root);
    const meter = await cpuMeter(child.pid!, server.name);
    if (!meter.wholeTree) console.log(`  (no cgroup for ${server.name}: its CPU counts the main process only)`);
    try {
      for (const setting of SETTINGS) {
        const before = await meter.read();
        const mibPerS = await fetchOnce(lab, join(root, '..', `out-${server.name}.bin`), setting.options, expected);
        // A forked transfer may still be finishing its last retransmit timer.
        await new Promise((r) => setTimeout(r, 200));
        const cpuMsPerMiB = (((await meter.read()) - before) * 1000) / mib;
        out.set(setting.name, { mibPerS, cpuMsPerMiB });
        console.log(`  run ${round} ${server.name.padEnd(14)} ${setting.name.padEnd(20)} ${mibPerS.toFixed(1).padStart(7)} MiB/s  server CPU ${cpuMsPerMiB.toFixed(1).padStart(6)} ms/MiB`);
      }
    } finally {
      child.kill('SIGTERM');
      await meter.close();
    }
  } finally {
    await lab.destroy();
  }
  return out;
}

await requireInterop(['ip', 'atftp', 'in.tftpd', 'dnsmasq', 'dpkg-deb'], 'apt-get install -y --no-install-recommends iproute2 atftp tftpd-hpa dnsmasq-base dpkg');
const servers = tftpServers(() => atftpdBinary(join(homedir(), '.cache/bootlab-bench/atftpd'), values.atftpd));
const chosen = values.servers.split(',').map((n) => {
  const s = servers.find((x) => x.name === n);
  if (!s) throw new Error(`unknown server "${n}" (have: ${servers.map((x) => x.name).join(', ')})`);
  return s;
});
const dir = await mkdtemp('/tmp/bootlab-bench-tftp-');
try {
  const root = join(dir, 'root');
  await mkdir(root);
  const data = randomBytes(mib * 1024 * 1024);
  await writeFile(join(root, 'bench.bin'), data);
  const expected = createHash('sha256').update(data).digest('hex');
  console.log(`bench/tftp  ${machineLine(repo)}`);
  console.log(`${mib} MiB, atftp client over a veth pair, ${runs} interleaved runs, median (min–max)\n`);
  const results = new Map<string, Map<SettingName, Sample>[]>(chosen.map((s) => [s.name, []]));
  for (let round = 1; round <= runs; round++) {
    for (const server of chosen) results.get(server.name)!.push(await runServer(server, root, expected, round));
  }

  const cell = (name: string, setting: SettingName, pick: (s: Sample) => number, digits: number): string => spread(results.get(name)!.map((r) => pick(r.get(setting)!)), digits);
  const table = (title: string, pick: (x: Sample) => number): void => {
    const width = 24;
    console.log(`\n${title.padEnd(16)}${SETTINGS.map((s) => s.name.padEnd(width)).join('')}`);
    for (const name of results.keys()) console.log(name.padEnd(16) + SETTINGS.map((s) => cell(name, s.name, pick, 1).padEnd(width)).join(''));
  };
  table('MiB/s', (x) => x.mibPerS);
  table('CPU ms/MiB', (x) => x.cpuMsPerMiB);
  /** Per-run ratios (run i of one over run i of the other: the two ran minutes apart at most). */
  const ratio = (a: string, as: SettingName, b: string, bs: SettingName): string | undefined => {
    const ra = results.get(a);
    const rb = results.get(b);
    if (!ra || !rb) return undefined;
    const xs = ra.map((r, i) => r.get(as)!.mibPerS / rb[i]!.get(bs)!.mibPerS);
    return `${spread(xs, 2)}× (median ${stats(xs).median >= 1 ? 'meets' : 'misses'} the ≥ 1.0× target)`;
  };
  console.log('');
  for (const s of ['blksize 512', 'blksize 1468'] as const) {
    const r = ratio('bootlab', s, 'tftpd-hpa', s);
    if (r) console.log(`lock-step ${s}: bootlab / tftpd-hpa ${r}`);
  }
  const w = ratio('bootlab', '1468 + windowsize 8', 'atftpd', '1468 + windowsize 8');
  if (w) console.log(`windowsize 8: bootlab / atftpd ${w}`);
  const wl = ratio('bootlab', '1468 + windowsize 8', 'tftpd-hpa', 'blksize 1468');
  if (wl) console.log(`windowsize 8 bootlab / tftpd-hpa lock-step at 1468: ${wl.split(' (median')[0]}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
